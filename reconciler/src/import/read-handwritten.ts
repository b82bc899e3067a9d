// The two files people keep by hand today (shared/reference/symphony-interfaces.md),
// read tolerantly: entries that drifted from the format (`models` for
// `models_available`, keys the consumers never read) are taken for what they
// mean, and every such reading becomes a note, field by field. Pure.

export type HandFile = 'nodes_registry.json' | 'openclaw_workers.json';

/** Something import could not carry over as written, or had to assume. */
export interface ImportNote {
  file: HandFile;
  /** e.g. `nodes[maestro].network.mac_address`, `workers[tempo_ollama].fallback_endpoint`. */
  path: string;
  message: string;
}

export interface HandHardware {
  model: string | undefined;
  cpu: string | undefined;
  ram_gb: number | undefined;
  storage_gb: number | undefined;
  architecture: string | undefined;
  notes: string | undefined;
}

export interface HandNode {
  /** Position in the file, for paths when the id is unusable. */
  index: number;
  node_id: string;
  display_name: string | undefined;
  role: string | undefined;
  hardware: HandHardware | undefined;
  ip: string | undefined;
  hostname: string | undefined;
  mac_address: string | undefined;
  services: Record<string, unknown> | undefined;
  /** models_loaded (or a hand-drifted `models`); undefined when neither is there. */
  models: string[] | undefined;
  status: string | undefined;
  notes: string | undefined;
  added_date: string | undefined;
  retired_date: string | undefined;
}

export interface HandWorker {
  index: number;
  worker_id: string;
  display_name: string | undefined;
  node_id: string | null;
  type: string | undefined;
  endpoint: string | undefined;
  priority: number | undefined;
  max_concurrent: number | undefined;
  /** models_available (or a hand-drifted `models`). */
  models: string[] | undefined;
  task_types: string[] | undefined;
  enabled: boolean | undefined;
  notes: string | undefined;
  /** Hand-drifted: a second URL for the same Ollama (e.g. its Tailscale address). */
  fallback_endpoint: string | undefined;
}

export interface HandRule {
  rule_id: string;
  description: string | undefined;
  task_types: string[];
  preferred_workers: string[];
  fallback: string[];
  model_preference: string | null | undefined;
  notes: string | undefined;
}

export interface HandFiles {
  nodes: HandNode[];
  workers: HandWorker[];
  rules: HandRule[];
  global_settings: Record<string, unknown>;
  notes: ImportNote[];
  /** The files as parsed, for the comparison with what generate writes. */
  registry: unknown;
  workersFile: unknown;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const strList = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

const REGISTRY_NODE_KEYS = new Set(['node_id', 'display_name', 'role', 'hardware', 'network', 'services', 'models_loaded', 'status', 'notes', 'added_date', 'retired_date', 'ip', 'hostname']);
const WORKER_KEYS = new Set(['worker_id', 'display_name', 'node_id', 'type', 'endpoint', 'priority', 'max_concurrent', 'models_available', 'task_types', 'enabled', 'notes']);
const RULE_KEYS = new Set(['rule_id', 'description', 'task_types', 'preferred_workers', 'fallback', 'model_preference', 'notes']);

/** What a drifted key on a worker meant and what becomes of it. */
const WORKER_DRIFT: Record<string, string> = {
  capabilities: 'not part of the format (OpenClaw routes by task_types): dropped; task_types says what the worker takes',
  health_check: 'not part of the format: dropped; OpenClaw checks every worker every global_settings.health_check_interval_s, and observe checks each Ollama',
  status: 'not part of the format (OpenClaw reads enabled): dropped; enabled now follows what observe sees',
};

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function readHardware(v: unknown): HandHardware | undefined {
  if (!isObj(v)) return undefined;
  return { model: str(v.model), cpu: str(v.cpu), ram_gb: num(v.ram_gb), storage_gb: num(v.storage_gb), architecture: str(v.architecture), notes: str(v.notes) };
}

function readNodes(doc: unknown, notes: ImportNote[]): HandNode[] {
  const file: HandFile = 'nodes_registry.json';
  const list: unknown[] = isObj(doc) && Array.isArray(doc.nodes) ? doc.nodes
    : isObj(doc) && isObj(doc.nodes) ? Object.entries(doc.nodes).map(([id, v]) => (isObj(v) ? { node_id: id, ...v } : v))
      : [];
  if (isObj(doc) && isObj(doc.nodes)) notes.push({ file, path: 'nodes', message: 'nodes is an object keyed by node id, not a list: read as a list' });
  if (!isObj(doc) || (!Array.isArray(doc.nodes) && !isObj(doc.nodes))) notes.push({ file, path: 'nodes', message: 'no nodes list: nothing to import from it' });
  const out: HandNode[] = [];
  list.forEach((entry, index) => {
    if (!isObj(entry) || str(entry.node_id) === undefined) {
      notes.push({ file, path: `nodes[${index}]`, message: 'an entry without node_id: skipped' });
      return;
    }
    const id = entry.node_id as string;
    const at = `nodes[${id}]`;
    const network = isObj(entry.network) ? entry.network : undefined;
    let models = strList(entry.models_loaded);
    if (models === undefined && strList(entry.models) !== undefined) {
      models = strList(entry.models);
      notes.push({ file, path: `${at}.models`, message: 'hand-drifted `models`: read as models_loaded' });
    } else if (entry.models !== undefined) {
      notes.push({ file, path: `${at}.models`, message: `both models and models_loaded: models ${show(entry.models)} dropped, models_loaded kept` });
    }
    for (const key of Object.keys(entry)) {
      if (!REGISTRY_NODE_KEYS.has(key) && key !== 'models') notes.push({ file, path: `${at}.${key}`, message: `${show(entry[key])}: not part of the format, dropped` });
    }
    const topIp = str(entry.ip);
    const netIp = str(network?.ip);
    if (topIp !== undefined && netIp !== undefined && netIp !== '' && topIp !== netIp) notes.push({ file, path: `${at}.network.ip`, message: `${netIp} differs from the top-level ip ${topIp}: the top-level one (what the health monitor reads) kept` });
    out.push({
      index,
      node_id: id,
      display_name: str(entry.display_name),
      role: str(entry.role),
      hardware: readHardware(entry.hardware),
      ip: topIp ?? netIp,
      hostname: str(entry.hostname) ?? str(network?.hostname),
      mac_address: str(network?.mac_address),
      services: isObj(entry.services) ? entry.services : undefined,
      models,
      status: str(entry.status),
      notes: str(entry.notes),
      added_date: str(entry.added_date),
      retired_date: str(entry.retired_date),
    });
  });
  return out;
}

function readWorkers(doc: unknown, notes: ImportNote[]): HandWorker[] {
  const file: HandFile = 'openclaw_workers.json';
  const list: unknown[] = isObj(doc) && Array.isArray(doc.workers) ? doc.workers : [];
  if (!isObj(doc) || !Array.isArray(doc.workers)) notes.push({ file, path: 'workers', message: 'no workers list: the fleet gets the roles\' default workers' });
  const out: HandWorker[] = [];
  list.forEach((entry, index) => {
    if (!isObj(entry) || str(entry.worker_id) === undefined) {
      notes.push({ file, path: `workers[${index}]`, message: 'an entry without worker_id: skipped' });
      return;
    }
    const id = entry.worker_id as string;
    const at = `workers[${id}]`;
    let models = strList(entry.models_available);
    if (models === undefined && strList(entry.models) !== undefined) {
      models = strList(entry.models);
      notes.push({ file, path: `${at}.models`, message: 'hand-drifted `models`: read as models_available' });
    } else if (entry.models !== undefined) {
      notes.push({ file, path: `${at}.models`, message: `both models and models_available: models ${show(entry.models)} dropped` });
    }
    for (const key of Object.keys(entry)) {
      if (WORKER_KEYS.has(key) || key === 'models' || key === 'fallback_endpoint') continue;
      notes.push({ file, path: `${at}.${key}`, message: `${show(entry[key])}: ${WORKER_DRIFT[key] ?? 'not part of the format, dropped'}` });
    }
    const nodeId = entry.node_id === null ? null : str(entry.node_id) ?? null;
    out.push({
      index,
      worker_id: id,
      display_name: str(entry.display_name),
      node_id: nodeId,
      type: str(entry.type),
      endpoint: str(entry.endpoint),
      priority: num(entry.priority),
      max_concurrent: num(entry.max_concurrent),
      models,
      task_types: strList(entry.task_types),
      enabled: bool(entry.enabled),
      notes: str(entry.notes),
      fallback_endpoint: str(entry.fallback_endpoint),
    });
  });
  return out;
}

function readRules(doc: unknown, notes: ImportNote[]): HandRule[] {
  const file: HandFile = 'openclaw_workers.json';
  const list: unknown[] = isObj(doc) && Array.isArray(doc.routing_rules) ? doc.routing_rules : [];
  const out: HandRule[] = [];
  list.forEach((entry, index) => {
    if (!isObj(entry) || str(entry.rule_id) === undefined) {
      notes.push({ file, path: `routing_rules[${index}]`, message: 'a rule without rule_id: skipped' });
      return;
    }
    const id = entry.rule_id as string;
    for (const key of Object.keys(entry)) {
      if (!RULE_KEYS.has(key)) notes.push({ file, path: `routing_rules[${id}].${key}`, message: `${show(entry[key])}: not part of the format, dropped` });
    }
    const pref = entry.model_preference;
    out.push({
      rule_id: id,
      description: str(entry.description),
      task_types: strList(entry.task_types) ?? [],
      preferred_workers: strList(entry.preferred_workers) ?? [],
      fallback: strList(entry.fallback) ?? [],
      model_preference: pref === null ? null : str(pref),
      notes: str(entry.notes),
    });
  });
  return out;
}

/** Reads both files (already parsed from JSON); never throws on their content. */
export function readHandwritten(registry: unknown, workers: unknown): HandFiles {
  const notes: ImportNote[] = [];
  const nodes = readNodes(registry, notes);
  const hw = readWorkers(workers, notes);
  const rules = readRules(workers, notes);
  const global = isObj(workers) && isObj(workers.global_settings) ? workers.global_settings : {};
  return { nodes, workers: hw, rules, global_settings: global, notes, registry, workersFile: workers };
}
