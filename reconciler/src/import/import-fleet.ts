// importFleet: the hand-written registry and worker files -> fleet/ as data
// (node files, new hardware entries, fleet.yaml's OpenClaw settings), plus
// what the files claim about each node as an observation, so that generate
// can show what regenerating them would change. Pure: no clock, no files.
//
// The fleet's own settings, roles and catalogs are the base. A node's worker
// settings are written only where the hand-written value differs from what
// generate would derive: the first generate pass finds the derived values,
// the overrides make the second pass reproduce the files.
import { displayModelName, generate, type GeneratedFiles } from '../generate/generate.ts';
import { displayNameOf, normalizeModelRef, nodeModels, type Desired } from '../load/desired.ts';
import { ADDRESS, IPV4, MODEL_REF, NODE_NAME, ONE_LINE, TASK_TYPE, WORKER_ID } from '../schema/common.ts';
import type { FleetSettingsDoc, Hardware, ModelFacts, NodeDoc, NodeWorkerDoc, RoleDoc } from '../schema/fleet.ts';
import type { Worker } from '../schema/generated.ts';
import type { ObservedNode } from '../schema/observed.ts';
import { workerIdBase } from '../validate/worker-ids.ts';
import type { HandFiles, HandHardware, HandNode, HandWorker, ImportNote } from './read-handwritten.ts';

export interface ImportBase {
  settings: FleetSettingsDoc;
  roles: Readonly<Record<string, RoleDoc>>;
  hardware: Readonly<Record<string, Hardware>>;
  /** Keyed by normalised reference. */
  models: Readonly<Record<string, ModelFacts>>;
}

export interface ImportResult {
  settings: FleetSettingsDoc;
  nodes: NodeDoc[];
  /** Catalog entries no existing one matched, by new id. */
  newHardware: Record<string, Hardware>;
  /** What could not be carried over as written, and what was assumed. */
  notes: ImportNote[];
  /** Each node as the files describe it: reachable, with the models they list. */
  claimed: ObservedNode[];
  /** Why a regenerated field may differ, by change path (see compare-regenerated.ts). */
  reasons: Map<string, string>;
}

const re = (p: string): RegExp => new RegExp(p);
const NODE_RE = re(NODE_NAME);
const IPV4_RE = re(IPV4);
const ADDRESS_RE = re(ADDRESS);
const WORKER_RE = re(WORKER_ID);
const MODEL_RE = re(MODEL_REF);
const TASK_RE = re(TASK_TYPE);
const ONE_LINE_RE = re(ONE_LINE);
const ENDPOINT_RE = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
const DATE_RE = /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;

/** Free text as fleet/ may hold it: one line, at most `max` characters. */
function oneLine(text: string | undefined, max = 500): string | undefined {
  if (text === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are what we remove
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return ONE_LINE_RE.test(flat) && flat !== '' ? flat.slice(0, max) : undefined;
}

/** Marketing and sysctl wordings of the same thing compare equal: `Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz` = `Intel Core i9-9900K`. */
export function normalizeHardwareText(text: string): string {
  return text.toLowerCase().replace(/\((r|tm)\)/g, '').replace(/\s+cpu\s*@.*$/, '').replace(/\s+/g, ' ').trim();
}

function slug(text: string): string {
  return text.toLowerCase().replace(/\((r|tm)\)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
}

function architectureOf(hw: HandHardware): 'arm64' | 'x86_64' | undefined {
  const a = (hw.architecture ?? '').toLowerCase();
  if (a === 'arm64' || a === 'x86_64') return a;
  if (/arm|apple/.test(a)) return 'arm64';
  if (/x86|intel|amd64/.test(a)) return 'x86_64';
  const cpu = (hw.cpu ?? '').toLowerCase();
  if (cpu.startsWith('apple')) return 'arm64';
  if (cpu.includes('intel')) return 'x86_64';
  return undefined;
}

/** The catalog entry for a node's hardware: an existing one (same words, RAM, storage, arch), else a new one. */
function matchHardware(hw: HandHardware, node: string, catalog: Record<string, Hardware>, added: Record<string, Hardware>, notes: ImportNote[], reasons: Map<string, string>): string | undefined {
  const at = `nodes[${node}].hardware`;
  const file = 'nodes_registry.json' as const;
  const arch = architectureOf(hw);
  if (hw.model === undefined || hw.ram_gb === undefined || arch === undefined || !Number.isInteger(hw.ram_gb)) {
    notes.push({ file, path: at, message: `model, ram_gb and architecture are needed to pick a catalog entry (got ${JSON.stringify(hw)}): node skipped` });
    return undefined;
  }
  if (hw.architecture !== arch) notes.push({ file, path: `${at}.architecture`, message: `${JSON.stringify(hw.architecture ?? null)} read as ${arch}` });
  const all = { ...catalog, ...added };
  const candidates = Object.entries(all).filter(([, c]) => c.ram_gb === hw.ram_gb && c.architecture === arch
    && normalizeHardwareText(c.model) === normalizeHardwareText(hw.model ?? '')
    && (hw.cpu === undefined || normalizeHardwareText(c.chip) === normalizeHardwareText(hw.cpu))
    && (hw.storage_gb === undefined || c.storage_gb === hw.storage_gb))
    .sort(([a, ca], [b, cb]) => Number(cb.model === hw.model && cb.chip === hw.cpu) - Number(ca.model === hw.model && ca.chip === hw.cpu) || (a < b ? -1 : 1));
  const found = candidates[0];
  if (found) {
    const [id, c] = found;
    if (c.model !== hw.model) reasons.set(`${at}.model`, `written as catalog entry ${id} says it`);
    if (hw.cpu !== undefined && c.chip !== hw.cpu) reasons.set(`${at}.cpu`, `catalog entry ${id} holds the chip as \`sysctl -n machdep.cpu.brand_string\` prints it`);
    if ((c.notes ?? '') !== (hw.notes ?? '')) reasons.set(`${at}.notes`, `the notes of catalog entry ${id}`);
    if (hw.storage_gb === undefined) reasons.set(`${at}.storage_gb`, `catalog entry ${id}`);
    return id;
  }
  const base = `${slug(hw.model)}-${hw.ram_gb}gb`.replace(/^-/, '') || `imported-${hw.ram_gb}gb`;
  let id = base;
  for (let i = 2; all[id] !== undefined; i++) id = `${base}-${i}`;
  const entry: Hardware = {
    model: oneLine(hw.model, 80) ?? hw.model.slice(0, 80),
    chip: oneLine(hw.cpu, 80) ?? (arch === 'arm64' ? 'Apple Silicon' : 'Intel'),
    architecture: arch,
    ram_gb: hw.ram_gb,
    metal: arch === 'arm64',
    storage_gb: hw.storage_gb !== undefined && Number.isInteger(hw.storage_gb) && hw.storage_gb >= 1 ? hw.storage_gb : 256,
  };
  const n = oneLine(hw.notes);
  if (n !== undefined) entry.notes = n;
  added[id] = entry;
  notes.push({ file, path: at, message: `no catalog entry has this model, chip, RAM and storage: added catalog/hardware.yaml ${id} (check its chip with \`sysctl -n machdep.cpu.brand_string\`, or \`fleet add-node ${node} --detect ADDRESS\`)` });
  if (hw.storage_gb === undefined) notes.push({ file, path: `${at}.storage_gb`, message: 'missing: 256 GB assumed in the new catalog entry' });
  return id;
}

const STATUS_MAP: Record<string, NodeDoc['status']> = {
  active: 'active', planned: 'planned', retired: 'retired', online: 'active', offline: 'active', degraded: 'active', down: 'active', maintenance: 'active', decommissioned: 'retired',
};

/** A worker's type as the format spells it; hand files say `ollama`, `harpa`, `openai`. */
function workerTypeOf(w: HandWorker, isBob: boolean): Worker['type'] | undefined {
  const t = (w.type ?? '').toLowerCase();
  if (t === 'ollama_local' || t === 'ollama_remote' || t === 'harpa_grid' || t === 'openai_api') return t;
  if (/harpa|browser/.test(t) || w.endpoint === 'harpa_grid') return 'harpa_grid';
  if (/openai|cloud|api/.test(t) || w.node_id === null) return 'openai_api';
  if (/ollama|llm|local|remote/.test(t) || (w.endpoint ?? '').includes(':11434')) {
    const loopback = /^https?:\/\/(localhost|127\.0\.0\.1)[:/]/.test(w.endpoint ?? '');
    return loopback && isBob ? 'ollama_local' : 'ollama_remote';
  }
  return undefined;
}

function hostOf(url: string | undefined): string | undefined {
  return url === undefined ? undefined : /^https?:\/\/([^/:]+)/.exec(url)?.[1];
}

/** What the files claim about a node, in the shape observe reports: reachable, with its listed models. */
function claimedObservation(node: NodeDoc, role: RoleDoc, hw: Hardware | undefined, models: readonly string[], chrome: boolean, observedAt: string): ObservedNode {
  const ollama = role.services.ollama && node.status !== 'retired';
  const address = node.addresses[0] ?? `${node.name}.local`;
  const ip = node.addresses.find((a) => IPV4_RE.test(a)) ?? null;
  return {
    node: node.name,
    observed_at: observedAt,
    reach: { status: 'ok', address, attempts: [{ address, result: 'ok' }] },
    facts: {
      hostnames: { computer_name: displayNameOf(node), host_name: node.name, local_host_name: node.name },
      os: { product_version: null, build_version: null },
      hardware: { architecture: hw?.architecture ?? null, chip: hw?.chip ?? null, ram_bytes: hw === undefined ? null : hw.ram_gb * 2 ** 30, ncpu: hw?.ncpu ?? null },
      disk: { total_bytes: null, available_bytes: null },
      brew: { prefix: null, formulae: {}, casks: chrome ? { 'google-chrome': 'claimed' } : {} },
      ollama: {
        cli_version: null,
        local: { up: ollama },
        external: { up: ollama, url: `http://${address}` },
        models: ollama ? models.map((name) => ({ name, digest: '', size: 0 })) : [],
        loaded: [],
        models_source: ollama ? 'external-api' : 'none',
      },
      files: { ollama_env: null, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null },
      launchd: { ollama: { loaded: ollama, pid: null, last_exit: null } },
      crontab: { lines: [] },
      sudo: false,
      ip,
    },
  };
}

interface NodeDraft {
  doc: NodeDoc;
  role: RoleDoc;
  hand: HandNode;
  /** Hand-written workers of this node, by the role's default they stand for. */
  ollamaWorker: HandWorker | undefined;
  harpaWorker: HandWorker | undefined;
  extras: HandWorker[];
  /** Models the files say are on the node, as written. */
  present: string[];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** The hand notes without the `disabled: ...` part generate itself adds (a generated file imported again). */
function ownNotes(notes: string | undefined): string | undefined {
  if (notes === undefined) return undefined;
  return notes.replace(/(^|; )disabled: .*$/, '');
}

export function importFleet(hand: HandFiles, base: ImportBase, today: string): ImportResult {
  const notes: ImportNote[] = [...hand.notes];
  const reasons = new Map<string, string>();
  /** Workers of the files that fleet/ will not have. */
  const dropped = new Set<string>();
  const settings = structuredClone(base.settings);
  const newHardware: Record<string, Hardware> = {};
  const catalog = { ...base.hardware };
  const R = 'nodes_registry.json' as const;
  const W = 'openclaw_workers.json' as const;

  // global_settings and routing rules: copied where they fit the schema.
  const gs = settings.openclaw.global_settings as Record<string, unknown>;
  for (const [key, value] of Object.entries(hand.global_settings)) {
    if (!(key in gs)) {
      notes.push({ file: W, path: `global_settings.${key}`, message: `${JSON.stringify(value)}: not a setting fleet/ knows, dropped` });
    } else if (typeof value !== typeof gs[key] || (typeof value === 'number' && (!Number.isInteger(value) || value < 0))) {
      notes.push({ file: W, path: `global_settings.${key}`, message: `${JSON.stringify(value)} is not a valid value: kept ${JSON.stringify(gs[key])}` });
    } else {
      gs[key] = value;
    }
  }
  for (const key of Object.keys(gs)) {
    if (!(key in hand.global_settings)) notes.push({ file: W, path: `global_settings.${key}`, message: `missing: ${JSON.stringify(gs[key])} from fleet.yaml` });
  }
  settings.openclaw.routing_rules = hand.rules.map((r) => {
    const rule: FleetSettingsDoc['openclaw']['routing_rules'][number] = {
      rule_id: r.rule_id,
      description: oneLine(r.description) ?? r.rule_id,
      task_types: r.task_types.filter((t) => TASK_RE.test(t)),
      preferred_workers: [...r.preferred_workers],
      fallback: [...r.fallback],
      model_preference: r.model_preference === undefined || r.model_preference === null || !MODEL_RE.test(r.model_preference) ? null : r.model_preference,
    };
    const n = oneLine(r.notes);
    if (n !== undefined) rule.notes = n;
    if (r.model_preference === undefined) notes.push({ file: W, path: `routing_rules[${r.rule_id}].model_preference`, message: 'missing: null' });
    return rule;
  });

  // The cloud worker(s): the first becomes cloud_fallback.
  const cloud = hand.workers.filter((w) => w.node_id === null);
  cloud.slice(1).forEach((w) => {
    dropped.add(w.worker_id);
    notes.push({ file: W, path: `workers[${w.worker_id}]`, message: `a second cloud worker: fleet.yaml has one cloud_fallback (${cloud[0]?.worker_id ?? ''}), so this one is dropped` });
  });
  const cw = cloud[0];
  if (cw !== undefined) {
    const cf = settings.openclaw.cloud_fallback;
    if (WORKER_RE.test(cw.worker_id)) cf.worker_id = cw.worker_id;
    const dn = oneLine(cw.display_name, 80);
    if (dn !== undefined) cf.display_name = dn;
    if (cw.endpoint !== undefined && /^https:\/\/[^\s]+$/.test(cw.endpoint)) cf.endpoint = cw.endpoint;
    else notes.push({ file: W, path: `workers[${cw.worker_id}].endpoint`, message: `${JSON.stringify(cw.endpoint ?? null)} is not an https URL: kept ${cf.endpoint}` });
    if (cw.models !== undefined) cf.models_available = cw.models.filter((m) => /^[A-Za-z0-9._:-]+$/.test(m));
    if (cw.task_types !== undefined) cf.task_types = cw.task_types.filter((t) => TASK_RE.test(t));
    if (cw.max_concurrent !== undefined && Number.isInteger(cw.max_concurrent) && cw.max_concurrent >= 1) cf.max_concurrent = cw.max_concurrent;
    if (cw.enabled !== undefined) cf.enabled = cw.enabled;
    const n = oneLine(cw.notes);
    if (n !== undefined) cf.notes = n;
    else delete cf.notes;
    if (cw.priority !== undefined && Number.isInteger(cw.priority) && cw.priority >= 0 && cw.priority <= 100) settings.openclaw.priorities.cloud = cw.priority;
    if (cw.fallback_endpoint !== undefined) notes.push({ file: W, path: `workers[${cw.worker_id}].fallback_endpoint`, message: 'a cloud worker has one endpoint: dropped' });
  } else {
    notes.push({ file: W, path: 'workers', message: `no cloud worker (node_id null): fleet.yaml's ${settings.openclaw.cloud_fallback.worker_id} is kept and will be listed` });
  }

  // Bob and the ports.
  const bobEntry = hand.nodes.find((n) => n.role !== undefined && base.roles[n.role]?.services.registry_api === true)
    ?? hand.nodes.find((n) => n.services?.registry_api === true);
  if (bobEntry !== undefined && NODE_RE.test(bobEntry.node_id)) {
    settings.network.bob_node = bobEntry.node_id;
    if (bobEntry.ip !== undefined && IPV4_RE.test(bobEntry.ip)) settings.network.bob_address = bobEntry.ip;
    const port = bobEntry.services?.registry_api_port;
    if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) settings.network.registry_api_port = port;
  } else {
    notes.push({ file: R, path: 'nodes', message: `no node runs the registry API (role hq): network.bob_node stays ${settings.network.bob_node}` });
  }
  const ollamaPorts = [...new Set(hand.nodes.map((n) => n.services?.ollama_port).filter((p): p is number => typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536))];
  if (ollamaPorts.length > 0 && ollamaPorts[0] !== undefined) settings.ollama.port = ollamaPorts[0];
  if (ollamaPorts.length > 1) notes.push({ file: R, path: 'nodes[*].services.ollama_port', message: `several Ollama ports (${ollamaPorts.join(', ')}): fleet.yaml has one, ${ollamaPorts[0] ?? ''}` });

  // Nodes.
  const drafts: NodeDraft[] = [];
  const seen = new Set<string>();
  for (const h of hand.nodes) {
    const at = `nodes[${h.node_id}]`;
    let name = h.node_id;
    if (!NODE_RE.test(name) && NODE_RE.test(name.toLowerCase())) {
      notes.push({ file: R, path: `${at}.node_id`, message: `${name} read as ${name.toLowerCase()} (node names are lowercase hostnames)` });
      name = name.toLowerCase();
    }
    if (!NODE_RE.test(name) || seen.has(name)) {
      notes.push({ file: R, path: `${at}.node_id`, message: seen.has(name) ? 'a second entry with this id: skipped' : 'not a hostname fleet/ accepts (lowercase letters, digits, -): skipped' });
      continue;
    }
    const role = h.role === undefined ? undefined : base.roles[h.role];
    if (role === undefined || h.role === undefined) {
      notes.push({ file: R, path: `${at}.role`, message: `${JSON.stringify(h.role ?? null)} is not a role in fleet/roles/ (${Object.keys(base.roles).sort().join(', ')}): node skipped; add the role and import again` });
      continue;
    }
    if (h.hardware === undefined) {
      notes.push({ file: R, path: `${at}.hardware`, message: 'missing: node skipped (a node needs a catalog entry for the RAM-fit check)' });
      continue;
    }
    const hwId = matchHardware(h.hardware, name, catalog, newHardware, notes, reasons);
    if (hwId === undefined) continue;
    seen.add(name);

    const rawStatus = (h.status ?? 'active').toLowerCase();
    const status = STATUS_MAP[rawStatus] ?? 'active';
    if (h.status === undefined || status !== rawStatus) {
      notes.push({ file: R, path: `${at}.status`, message: `${JSON.stringify(h.status ?? null)} read as ${status}${status === 'active' && rawStatus !== 'active' ? ' (whether it answers is what observe sees)' : ''}` });
      reasons.set(`${at}.status`, `the format's statuses are active, planned and retired; ${JSON.stringify(h.status ?? null)} read as ${status}`);
    }

    const addresses: string[] = [];
    const hostname = h.hostname?.toLowerCase();
    if (hostname !== undefined && hostname !== '' && ADDRESS_RE.test(hostname)) addresses.push(hostname);
    else if (hostname !== undefined && hostname !== '') notes.push({ file: R, path: `${at}.hostname`, message: `${JSON.stringify(h.hostname)} is not a hostname: dropped` });
    if (h.ip !== undefined && IPV4_RE.test(h.ip)) addresses.push(h.ip);
    else if (h.ip !== undefined && h.ip !== '' && h.ip !== 'UNKNOWN') notes.push({ file: R, path: `${at}.ip`, message: `${JSON.stringify(h.ip)} is not an IPv4 address: dropped` });
    if (addresses.length === 0) {
      addresses.push(`${name}.local`);
      notes.push({ file: R, path: `${at}.ip`, message: `no usable hostname or IP: ${name}.local assumed` });
    }
    if (hostname !== undefined && hostname !== '' && !hostname.endsWith('.local')) reasons.set(`${at}.hostname`, 'the registry\'s hostname is the node\'s .local (mDNS) name');
    if (h.mac_address !== undefined && h.mac_address !== '') {
      notes.push({ file: R, path: `${at}.network.mac_address`, message: `${JSON.stringify(h.mac_address)}: fleet/ keeps no MAC addresses, dropped` });
    }

    const doc: NodeDoc = { name, role: h.role, hardware: hwId, addresses, presence: 'always_on', status };
    const display = oneLine(h.display_name, 63);
    if (display !== undefined && display !== displayNameOf({ name }) && /^[A-Za-z0-9][A-Za-z0-9 '._-]{0,62}$/.test(display)) doc.display_name = display;
    if (h.added_date !== undefined && DATE_RE.test(h.added_date)) doc.added = h.added_date;
    else {
      doc.added = today;
      notes.push({ file: R, path: `${at}.added_date`, message: `${h.added_date === undefined ? 'missing' : `${JSON.stringify(h.added_date)} is not YYYY-MM-DD`}: added: ${today} (the import date)` });
      reasons.set(`${at}.added_date`, 'the import date: the files had none');
    }
    if (status === 'retired') {
      if (h.retired_date !== undefined && DATE_RE.test(h.retired_date)) doc.retired = h.retired_date;
      else {
        doc.retired = today;
        notes.push({ file: R, path: `${at}.retired_date`, message: `missing: retired: ${today} (the import date)` });
        reasons.set(`${at}.retired_date`, 'the import date: the files had none');
      }
    } else if (h.retired_date !== undefined) {
      notes.push({ file: R, path: `${at}.retired_date`, message: `${h.retired_date} on a node that is ${status}: dropped` });
    }
    const nodeNotes = oneLine(h.notes);
    if (nodeNotes !== undefined) doc.notes = nodeNotes;
    const host = h.services?.ollama_host;
    if (typeof host === 'string' && host !== settings.ollama.env.OLLAMA_HOST && /^[0-9.]+(:[0-9]{1,5})?$/.test(host) && role.services.ollama) doc.ollama_env = { OLLAMA_HOST: host };
    if (h.services !== undefined) {
      const expected = status === 'retired' ? { ollama: false, docker: false, harpa: false, registry_api: false, openclaw: false } : role.services;
      for (const key of ['ollama', 'docker', 'harpa', 'registry_api', 'openclaw'] as const) {
        const v = h.services[key];
        if (typeof v === 'boolean' && v !== expected[key]) reasons.set(`${at}.services.${key}`, status === 'retired' ? 'a retired node runs nothing' : `role ${role.name} says ${String(expected[key])}`);
      }
    }
    drafts.push({ doc, role, hand: h, ollamaWorker: undefined, harpaWorker: undefined, extras: [], present: [] });
  }

  // Workers to their nodes: the role's defaults first (by id, else by type), the rest as extra workers.
  const byName = new Map(drafts.map((d) => [d.doc.name, d]));
  const byHandId = new Map(drafts.map((d) => [d.hand.node_id, d]));
  for (const w of hand.workers) {
    if (w.node_id === null) continue;
    const d = byHandId.get(w.node_id) ?? byName.get(w.node_id.toLowerCase());
    if (d === undefined) {
      notes.push({ file: W, path: `workers[${w.worker_id}].node_id`, message: `${w.node_id} is not an imported node: worker dropped` });
      dropped.add(w.worker_id);
      continue;
    }
    if (!WORKER_RE.test(w.worker_id)) {
      notes.push({ file: W, path: `workers[${w.worker_id}]`, message: 'worker ids are lowercase letters, digits and _: worker dropped' });
      dropped.add(w.worker_id);
      continue;
    }
    const isBob = d.doc.name === settings.network.bob_node;
    const type = workerTypeOf(w, isBob);
    if (type === undefined || type === 'openai_api') {
      notes.push({ file: W, path: `workers[${w.worker_id}].type`, message: `${JSON.stringify(w.type ?? null)} on a node: not a type fleet/ knows (ollama_local, ollama_remote, harpa_grid), worker dropped` });
      dropped.add(w.worker_id);
      continue;
    }
    if (type !== w.type) {
      notes.push({ file: W, path: `workers[${w.worker_id}].type`, message: `${JSON.stringify(w.type ?? null)} read as ${type}` });
      reasons.set(`workers[${w.worker_id}].type`, `${JSON.stringify(w.type ?? null)} is not a type of the format; read as ${type}`);
    }
    const base0 = workerIdBase(d.doc.name);
    const defaultKind = d.role.services.openclaw || isBob ? 'local' : 'ollama';
    if (type !== 'harpa_grid' && d.role.services.ollama && d.ollamaWorker === undefined
      && (w.worker_id === `${base0}_${defaultKind}` || (type === (defaultKind === 'local' ? 'ollama_local' : 'ollama_remote') && !hand.workers.some((x) => x.worker_id === `${base0}_${defaultKind}`)))) {
      d.ollamaWorker = { ...w, type };
    } else if (type === 'harpa_grid' && d.role.services.harpa && (d.role.openclaw.harpa_task_types?.length ?? 0) > 0 && d.harpaWorker === undefined
      && (w.worker_id === `${base0}_harpa` || !hand.workers.some((x) => x.worker_id === `${base0}_harpa`))) {
      d.harpaWorker = { ...w, type };
    } else if (type !== 'harpa_grid' && !d.role.services.ollama) {
      notes.push({ file: W, path: `workers[${w.worker_id}]`, message: `an Ollama worker on ${d.doc.name}, whose role ${d.role.name} runs no Ollama: dropped` });
      dropped.add(w.worker_id);
    } else if (type === 'ollama_local' && !isBob) {
      notes.push({ file: W, path: `workers[${w.worker_id}].type`, message: `ollama_local on ${d.doc.name}, which is not Bob (OpenClaw's loopback is Bob's): written as ollama_remote` });
      d.extras.push({ ...w, type: 'ollama_remote' });
    } else {
      d.extras.push({ ...w, type });
    }
  }

  // Models: what the registry lists, else what the node's workers list.
  for (const d of drafts) {
    const at = `nodes[${d.hand.node_id}]`;
    const workersOfNode = [d.ollamaWorker, ...d.extras].filter((w): w is HandWorker => w !== undefined && w.type !== 'harpa_grid');
    let present = d.hand.models ?? [...new Set(workersOfNode.flatMap((w) => w.models ?? []))];
    if (d.hand.models === undefined && present.length > 0) notes.push({ file: R, path: `${at}.models_loaded`, message: `missing: the models its workers list (${present.join(', ')}) taken as the node's` });
    const bad = present.filter((m) => !MODEL_RE.test(m));
    for (const m of bad) notes.push({ file: R, path: `${at}.models_loaded`, message: `${JSON.stringify(m)} is not a model name fleet/ accepts: dropped` });
    present = [...new Set(present.filter((m) => MODEL_RE.test(m)))];
    d.present = present;
    if (!d.role.services.ollama || d.doc.status === 'retired') {
      if (present.length > 0 && !d.role.services.ollama) notes.push({ file: R, path: `${at}.models_loaded`, message: `role ${d.role.name} runs no Ollama: models ${present.join(', ')} dropped` });
      continue;
    }
    const own = present.map(normalizeModelRef);
    const baseModels = d.role.models.map(normalizeModelRef);
    if (present.length === 0) {
      notes.push({ file: R, path: `${at}.models_loaded`, message: `no models listed: ${d.doc.name} keeps its role's base models (${d.role.models.join(', ')}), which the reconciler will pull` });
    } else if (baseModels.every((m) => own.includes(m))) {
      const extra = present.filter((m) => !baseModels.includes(normalizeModelRef(m)));
      if (extra.length > 0) d.doc.models = extra;
    } else {
      d.doc.role_models = 'replace';
      d.doc.models = present;
    }
    for (const m of own) {
      if (base.models[m] === undefined) notes.push({ file: R, path: `${at}.models_loaded`, message: `${m} is not in catalog/models.yaml: add it with \`fleet catalog add-model ${m} --from ${d.doc.name}\`` });
    }
  }

  // Extra workers and their addresses (a fallback endpoint is another way to the node).
  for (const d of drafts) {
    const served = nodeModels(d.doc, d.role);
    for (const w of [d.ollamaWorker, d.harpaWorker, ...d.extras]) {
      if (w?.fallback_endpoint === undefined) continue;
      const host = hostOf(w.fallback_endpoint);
      if (host !== undefined && ADDRESS_RE.test(host.toLowerCase()) && !d.doc.addresses.includes(host.toLowerCase()) && d.doc.addresses.length < 8) {
        d.doc.addresses.push(host.toLowerCase());
        notes.push({ file: W, path: `workers[${w.worker_id}].fallback_endpoint`, message: `not part of the format, dropped from the worker; its host ${host} added to ${d.doc.name}'s addresses, so Bob reaches the node there when the others do not answer` });
      } else {
        notes.push({ file: W, path: `workers[${w.worker_id}].fallback_endpoint`, message: 'not part of the format: dropped' });
      }
    }
    const extras: NodeWorkerDoc[] = d.extras.map((w) => {
      const doc: NodeWorkerDoc = {
        id: w.worker_id,
        type: w.type as NodeWorkerDoc['type'],
        task_types: (w.task_types ?? []).filter((t) => TASK_RE.test(t)),
      };
      if (doc.task_types.length === 0) {
        doc.task_types = w.type === 'harpa_grid' ? [...(d.role.openclaw.harpa_task_types ?? ['browser'])] : [...d.role.openclaw.task_types];
        notes.push({ file: W, path: `workers[${w.worker_id}].task_types`, message: `missing: the role's (${doc.task_types.join(', ')})` });
      }
      if (w.type !== 'harpa_grid' && w.models !== undefined) {
        const mine = w.models.filter((m) => served.includes(normalizeModelRef(m)));
        if (!sameSet(mine.map(normalizeModelRef), served)) doc.models = mine;
      }
      return doc;
    });
    if (extras.length > 0) d.doc.workers = extras;
  }

  // Routing rules lose the workers that were dropped (each noted above); unknown ids stay for validate to report.
  for (const rule of settings.openclaw.routing_rules) {
    for (const list of ['preferred_workers', 'fallback'] as const) {
      const gone = rule[list].filter((id) => dropped.has(id));
      if (gone.length === 0) continue;
      rule[list] = rule[list].filter((id) => !dropped.has(id));
      const path = `routing_rules[${rule.rule_id}].${list}`;
      notes.push({ file: W, path, message: `names ${gone.join(', ')}, dropped above: removed from the list` });
      reasons.set(path, `${gone.join(', ')} ${gone.length === 1 ? 'is' : 'are'} not in fleet/ (see the notes)`);
    }
  }

  // The claims as observations, then the overrides that make generate say what the files say.
  const observedAt = `${today}T00:00:00.000Z`;
  const hwAll = (): Record<string, Hardware> => ({ ...catalog, ...newHardware });
  const claimed = drafts.map((d) => {
    const chrome = d.role.software.casks.includes('google-chrome') || d.harpaWorker !== undefined || d.extras.some((w) => w.type === 'harpa_grid');
    return claimedObservation(d.doc, d.role, hwAll()[d.doc.hardware], d.present, chrome, observedAt);
  });
  const desired = (): Desired => ({
    dir: 'fleet', settings, roles: { ...base.roles }, hardware: hwAll(), models: { ...base.models },
    nodes: drafts.map((d) => d.doc).sort((a, b) => (a.name < b.name ? -1 : 1)), retired: [], knownHosts: '',
  });
  const first = generate(desired(), claimed, { lastUpdated: today });
  for (const d of drafts) applyWorkerOverrides(d, first, notes, reasons);

  return { settings, nodes: drafts.map((d) => d.doc).sort((a, b) => (a.name < b.name ? -1 : 1)), newHardware, notes, claimed, reasons };
}

/** Sets a node's worker settings where the hand-written worker differs from what generate derived. */
function applyWorkerOverrides(d: NodeDraft, derived: GeneratedFiles, notes: ImportNote[], reasons: Map<string, string>): void {
  const W = 'openclaw_workers.json' as const;
  const name = d.doc.name;
  const base = workerIdBase(name);
  const gen = (id: string): Worker | undefined => derived.openclaw_workers.workers.find((w) => w.worker_id === id);
  const isLocal = d.role.services.openclaw || name === derived.nodes_registry.nodes.find((n) => n.services.openclaw)?.node_id;
  const defaultOllamaId = d.role.services.ollama ? `${base}_${isLocal ? 'local' : 'ollama'}` : undefined;
  const defaultHarpaId = `${base}_harpa`;
  const handWorkers = [d.ollamaWorker, d.harpaWorker, ...d.extras].filter((w): w is HandWorker => w !== undefined);

  const diffs = (h: HandWorker, g: Worker): Partial<Record<'display_name' | 'endpoint' | 'priority' | 'max_concurrent' | 'task_types' | 'notes', string | number | string[]>> => {
    const out: ReturnType<typeof diffs> = {};
    const dn = oneLine(h.display_name, 80);
    if (dn !== undefined && dn !== g.display_name) out.display_name = dn;
    if (h.type !== 'harpa_grid' && h.endpoint !== undefined && h.endpoint !== g.endpoint) {
      if (ENDPOINT_RE.test(h.endpoint)) out.endpoint = h.endpoint;
      else notes.push({ file: W, path: `workers[${h.worker_id}].endpoint`, message: `${JSON.stringify(h.endpoint)} is not a URL fleet/ accepts: derived as ${g.endpoint}` });
    }
    if (h.priority !== undefined && Number.isInteger(h.priority) && h.priority >= 0 && h.priority <= 100 && h.priority !== g.priority) out.priority = h.priority;
    if (h.max_concurrent !== undefined && Number.isInteger(h.max_concurrent) && h.max_concurrent >= 1 && h.max_concurrent <= 16 && h.max_concurrent !== g.max_concurrent) out.max_concurrent = h.max_concurrent;
    const tasks = (h.task_types ?? []).filter((t) => TASK_RE.test(t));
    if (h.task_types !== undefined && tasks.join(',') !== g.task_types.join(',')) out.task_types = tasks;
    const own = oneLine(ownNotes(h.notes));
    const genOwn = ownNotes(g.notes);
    if (own !== undefined && own !== genOwn) out.notes = own;
    return out;
  };

  if (d.ollamaWorker !== undefined && defaultOllamaId !== undefined) {
    const g = gen(defaultOllamaId);
    if (g !== undefined) {
      const o = { ...d.doc.openclaw, ...diffs(d.ollamaWorker, g) } as NonNullable<NodeDoc['openclaw']>;
      if (d.ollamaWorker.worker_id !== defaultOllamaId) o.worker_id = d.ollamaWorker.worker_id;
      const served = nodeModels(d.doc, d.role);
      const mine = (d.ollamaWorker.models ?? []).filter((m) => MODEL_RE.test(m) && served.includes(normalizeModelRef(m)));
      if (d.ollamaWorker.models !== undefined && mine.length > 0 && !sameSet(mine.map(normalizeModelRef), served)) o.models = mine;
      if (Object.keys(o).length > 0) d.doc.openclaw = o;
    }
  } else if (defaultOllamaId !== undefined && d.doc.status !== 'retired') {
    notes.push({ file: W, path: `workers[${defaultOllamaId}]`, message: `not in the file: role ${d.role.name} gives ${name} this worker, so it will be listed` });
    reasons.set(`workers[${defaultOllamaId}]`, `role ${d.role.name} gives every node an Ollama worker`);
  }
  const hasHarpaDefault = d.role.services.harpa && (d.role.openclaw.harpa_task_types?.length ?? 0) > 0;
  if (d.harpaWorker !== undefined && hasHarpaDefault) {
    const g = gen(defaultHarpaId);
    if (g !== undefined) {
      const { endpoint: _e, ...rest } = diffs(d.harpaWorker, g);
      const h = { ...rest } as NonNullable<NonNullable<NodeDoc['openclaw']>['harpa']>;
      if (d.harpaWorker.worker_id !== defaultHarpaId) h.worker_id = d.harpaWorker.worker_id;
      if (Object.keys(h).length > 0) d.doc.openclaw = { ...d.doc.openclaw, harpa: h };
    }
  } else if (hasHarpaDefault && d.doc.status !== 'retired') {
    notes.push({ file: W, path: `workers[${defaultHarpaId}]`, message: `not in the file: role ${d.role.name} gives ${name} a HARPA worker, so it will be listed` });
    reasons.set(`workers[${defaultHarpaId}]`, `role ${d.role.name} gives every node a HARPA worker`);
  }
  (d.doc.workers ?? []).forEach((doc) => {
    const h = d.extras.find((x) => x.worker_id === doc.id);
    const g = gen(doc.id);
    if (h === undefined || g === undefined) return;
    Object.assign(doc, diffs(h, g));
    if (h.enabled === false && g.enabled) doc.enabled = false;
  });

  // enabled: false written by hand on a node that is not retired: disabled on purpose, kept.
  const disabled = handWorkers.filter((w) => w.enabled === false);
  const defaultsDisabled = [d.ollamaWorker, d.harpaWorker].filter((w) => w?.enabled === false);
  if (d.doc.status !== 'retired' && defaultsDisabled.length > 0) {
    if (disabled.length === handWorkers.length) {
      d.doc.openclaw = { ...d.doc.openclaw, enabled: false };
      notes.push({ file: W, path: `workers[${defaultsDisabled.map((w) => w?.worker_id).join(',')}].enabled`, message: `false by hand: kept as openclaw.enabled: false on ${name} (none of its workers takes tasks); remove it when the node should` });
    } else {
      for (const w of defaultsDisabled) {
        if (w === undefined) continue;
        notes.push({ file: W, path: `workers[${w.worker_id}].enabled`, message: `false by hand while other workers of ${name} are enabled: fleet/ disables a role's worker only with the whole node, so enabled now follows what observe sees` });
      }
    }
  }
  // What the files claim the worker serves and the node does not have.
  for (const h of handWorkers) {
    if (h.type === 'harpa_grid' || h.models === undefined) continue;
    const have = new Set(d.present.map(normalizeModelRef));
    const missing = h.models.filter((m) => MODEL_RE.test(m) && !have.has(normalizeModelRef(m)));
    if (missing.length > 0) {
      reasons.set(`workers[${h.worker_id}].models_available`, `${missing.map(displayModelName).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in ${name}'s models_loaded: a worker lists only models observed on its node`);
    }
  }
}
