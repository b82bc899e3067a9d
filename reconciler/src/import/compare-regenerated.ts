// What regenerating the files from the imported fleet/ changes, field by
// field, and why: the hand-written files against generate's output for the
// nodes as the files describe them. Lists of models and task types compare
// as sets of normalised names; everything else compares as written. Pure.
import type { GeneratedFiles } from '../generate/generate.ts';
import { normalizeModelRef } from '../load/desired.ts';
import type { HandFile } from './read-handwritten.ts';

export interface RegeneratedChange {
  file: HandFile;
  /** e.g. `nodes[maestro].hardware.cpu`, `workers[tempo_ollama]` (added or removed). */
  path: string;
  before: unknown;
  after: unknown;
  why: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields compared as sets, with `name` and `name:latest` the same model. */
const MODEL_SETS = new Set(['models_loaded', 'models_available']);
const SETS = new Set(['task_types']);

function same(key: string, a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b) && (MODEL_SETS.has(key) || SETS.has(key))) {
    const norm = (v: unknown[]): string => v.map((x) => (MODEL_SETS.has(key) ? normalizeModelRef(String(x)) : String(x))).sort().join('\n');
    return norm(a) === norm(b);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Generic reasons by field, when import recorded no specific one. */
function defaultWhy(file: HandFile, path: string, before: unknown, after: unknown): string {
  const field = path.slice(path.lastIndexOf('.') + 1);
  if (path.startsWith('_meta')) return 'written by fleet generate';
  if (before === undefined) return 'the format has this field; generate always writes it';
  if (after === undefined) return 'generate does not write it';
  if (file === 'nodes_registry.json') {
    if (path.includes('.hardware.')) return 'from the node\'s hardware catalog entry';
    if (path.includes('.services.')) return 'from the node\'s role';
    if (field === 'ip') return 'the first IPv4 among the node\'s addresses (until a heartbeat or observe says otherwise)';
    if (field === 'hostname') return 'the node\'s first .local address';
    if (field === 'mac_address') return 'fleet/ keeps no MAC addresses';
    if (field === 'models_loaded') return 'the node\'s desired models that observe sees on it';
  }
  if (field === 'enabled') {
    const why = /disabled: ([^;]*)$/.exec(typeof after === 'string' ? after : '')?.[1];
    return why ?? 'enabled follows what observe sees: a node reachable with its models takes tasks';
  }
  if (field === 'notes') return 'generate adds why a worker is disabled to its notes';
  if (field === 'models_available') return 'a worker lists only models observed on its node';
  return 'derived by fleet generate from fleet/';
}

function compareObjects(file: HandFile, path: string, before: Obj, after: Obj, reasons: ReadonlyMap<string, string>, out: RegeneratedChange[], skip: ReadonlySet<string> = new Set()): void {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  for (const key of keys) {
    if (skip.has(key)) continue;
    const p = path === '' ? key : `${path}.${key}`;
    const b = before[key];
    const a = after[key];
    if (isObj(b) && isObj(a)) {
      compareObjects(file, p, b, a, reasons, out);
      continue;
    }
    if (same(key, b, a)) continue;
    out.push({ file, path: p, before: b, after: a, why: reasons.get(p) ?? defaultWhy(file, p, b, a) });
  }
}

/** Keys drifted by hand that import read as the format's fields. */
function asFormat(entry: Obj, drift: Record<string, string>): Obj {
  const out: Obj = { ...entry };
  for (const [from, to] of Object.entries(drift)) {
    if (out[to] === undefined && out[from] !== undefined) out[to] = out[from];
    delete out[from];
  }
  return out;
}

function byId(list: unknown, key: string): Map<string, Obj> {
  const out = new Map<string, Obj>();
  if (!Array.isArray(list)) return out;
  for (const e of list) if (isObj(e) && typeof e[key] === 'string' && !out.has(e[key])) out.set(e[key], e);
  return out;
}

/** Registry nodes' drifted keys were reported when read; here they are compared as the format's. */
const NODE_DRIFT = { models: 'models_loaded' };
const WORKER_DRIFT = { models: 'models_available' };
/** Reported as notes when read (not part of the format). */
const WORKER_EXTRA = new Set(['capabilities', 'health_check', 'status', 'fallback_endpoint']);

/** One line per file for `_meta`, which generate always writes its own way. */
function compareMeta(file: HandFile, before: unknown, after: Obj, out: RegeneratedChange[]): void {
  const b = isObj(before) ? before : {};
  const keys = Object.keys(after).filter((k) => k !== 'last_updated' && JSON.stringify(b[k]) !== JSON.stringify(after[k]));
  if (keys.length > 0) out.push({ file, path: '_meta', before: keys.map((k) => b[k] ?? null), after: keys.map((k) => after[k]), why: `${keys.join(', ')}: written by fleet generate` });
}

export function compareRegenerated(registry: unknown, workersFile: unknown, regenerated: GeneratedFiles, reasons: ReadonlyMap<string, string>): RegeneratedChange[] {
  const out: RegeneratedChange[] = [];
  const R: HandFile = 'nodes_registry.json';
  const W: HandFile = 'openclaw_workers.json';
  const reg = isObj(registry) ? registry : {};
  const wf = isObj(workersFile) ? workersFile : {};

  compareMeta(R, reg._meta, regenerated.nodes_registry._meta, out);
  compareMeta(W, wf._meta, regenerated.openclaw_workers._meta, out);
  const handNodes = byId(reg.nodes, 'node_id');
  const genNodes = byId(regenerated.nodes_registry.nodes, 'node_id');
  for (const [id, h] of handNodes) {
    const g = genNodes.get(id);
    if (g === undefined) {
      out.push({ file: R, path: `nodes[${id}]`, before: 'present', after: undefined, why: reasons.get(`nodes[${id}]`) ?? 'not imported (see the notes above)' });
      continue;
    }
    const known = new Set(Object.keys(g));
    const hand = asFormat(h, NODE_DRIFT);
    for (const k of Object.keys(hand)) if (!known.has(k) && k !== 'network' && k !== 'retired_date' && k !== 'added_date') delete hand[k];
    compareObjects(R, `nodes[${id}]`, hand, g, reasons, out);
  }
  for (const id of genNodes.keys()) if (!handNodes.has(id)) out.push({ file: R, path: `nodes[${id}]`, before: undefined, after: 'present', why: reasons.get(`nodes[${id}]`) ?? 'a node of fleet/ the file did not list' });

  const handWorkers = byId(wf.workers, 'worker_id');
  const genWorkers = byId(regenerated.openclaw_workers.workers, 'worker_id');
  for (const [id, h] of handWorkers) {
    const g = genWorkers.get(id);
    if (g === undefined) {
      out.push({ file: W, path: `workers[${id}]`, before: 'present', after: undefined, why: reasons.get(`workers[${id}]`) ?? 'not imported (see the notes above)' });
      continue;
    }
    const hand = asFormat(h, WORKER_DRIFT);
    // Keys outside the format were reported when read.
    for (const k of Object.keys(hand)) if (!(k in g) || WORKER_EXTRA.has(k)) delete hand[k];
    compareObjects(W, `workers[${id}]`, hand, g, reasons, out);
  }
  for (const id of genWorkers.keys()) if (!handWorkers.has(id)) out.push({ file: W, path: `workers[${id}]`, before: undefined, after: 'present', why: reasons.get(`workers[${id}]`) ?? 'a worker of fleet/ the file did not list' });

  const handRules = byId(wf.routing_rules, 'rule_id');
  const genRules = byId(regenerated.openclaw_workers.routing_rules, 'rule_id');
  for (const [id, h] of handRules) {
    const g = genRules.get(id);
    if (g === undefined) out.push({ file: W, path: `routing_rules[${id}]`, before: 'present', after: undefined, why: 'not imported (see the notes above)' });
    else compareObjects(W, `routing_rules[${id}]`, h, g, reasons, out);
  }
  const handOrder = [...handRules.keys()].join(',');
  const genOrder = [...genRules.keys()].join(',');
  if (handOrder !== genOrder && handRules.size === genRules.size) out.push({ file: W, path: 'routing_rules', before: handOrder, after: genOrder, why: 'rules keep fleet.yaml\'s order' });
  const hg = isObj(wf.global_settings) ? wf.global_settings : {};
  compareObjects(W, 'global_settings', hg, regenerated.openclaw_workers.global_settings, reasons, out);
  return out;
}
