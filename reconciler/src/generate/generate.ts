// generate(desired, observed) -> nodes_registry.json and openclaw_workers.json,
// field-compatible with the consumers on Bob (shared/reference/symphony-interfaces.md).
// Pure and deterministic: keys and lists in a fixed order, and `last_updated`
// moves only when the content does. Workers advertise only what was observed
// working: models actually on the node, and enabled only when Bob reaches Ollama.
import { resolveNode, type Desired, type DesiredNode } from '../model/desired.ts';
import { IPV4 } from '../schema/common.ts';
import type { NodesRegistry, OpenclawWorkers, RegistryNode, Worker, WorkerRoutingRule } from '../schema/generated.ts';
import type { HeartbeatRecord, ObservedFacts, ObservedNode } from '../schema/observed.ts';
import { normalizeModelRef } from '../model/desired.ts';
import type { DeclaredWorker } from '../model/worker-ids.ts';

export interface GenerateOptions {
  /** What nodes told Bob's registry API; the newest heartbeat IP wins. */
  heartbeats?: readonly HeartbeatRecord[];
  /** YYYY-MM-DD for `_meta.last_updated` when the content changed. */
  lastUpdated: string;
  /** The files as they are now: their date is kept when nothing else changed. */
  previous?: { nodes_registry?: unknown; openclaw_workers?: unknown };
}

export interface GeneratedFiles {
  nodes_registry: NodesRegistry;
  openclaw_workers: OpenclawWorkers;
}

const IPV4_RE = new RegExp(IPV4);
const VERSION = '2.0';
const MANAGED_BY = 'symphony-fleet: written by `fleet generate` from fleet/; edit the YAML, not this file';

/** The name OpenClaw sends to Ollama: `:latest` left off, as the hand-written files have it. */
export function displayModelName(ref: string): string {
  return ref.endsWith(':latest') ? ref.slice(0, -':latest'.length) : ref;
}

function factsOf(obs: ObservedNode | undefined): ObservedFacts | undefined {
  return obs?.reach.status === 'ok' ? obs.facts : undefined;
}

/** The heartbeat IP (newest), else the observed one, else the first IPv4 in fleet/ (Bob: its configured address). */
export function ipOf(desired: Desired, node: DesiredNode, obs: ObservedNode | undefined, heartbeats: readonly HeartbeatRecord[]): string {
  const beat = heartbeats
    .filter((h) => h.node_id === node.name && IPV4_RE.test(h.ip))
    .sort((a, b) => (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : a.ip < b.ip ? -1 : 1))[0];
  if (beat !== undefined) return beat.ip;
  const seen = factsOf(obs)?.ip;
  if (seen !== undefined && seen !== null && IPV4_RE.test(seen)) return seen;
  const declared = node.addresses.find((a) => IPV4_RE.test(a));
  if (declared !== undefined) return declared;
  return node.name === desired.settings.network.bob_node ? desired.settings.network.bob_address : '';
}

function hostnameOf(node: DesiredNode): string {
  return node.addresses.find((a) => a.endsWith('.local')) ?? `${node.name}.local`;
}

/** Desired models that observe saw on the node, in the form OpenClaw uses. */
function modelsPresent(node: DesiredNode, facts: ObservedFacts | undefined): string[] {
  if (facts === undefined || node.status === 'retired') return [];
  const have = new Set(facts.ollama.models.map((m) => normalizeModelRef(m.name)));
  return node.models.filter((m) => have.has(m)).map(displayModelName).sort();
}

function registryNodeOf(desired: Desired, node: DesiredNode, obs: ObservedNode | undefined, heartbeats: readonly HeartbeatRecord[]): RegistryNode {
  const settings = desired.settings;
  const hw = node.hardware;
  if (hw === undefined) throw new Error(`generate: ${node.name} has unknown hardware ${node.hardware_id} (validate first)`);
  const ip = ipOf(desired, node, obs, heartbeats);
  const hostname = hostnameOf(node);
  // A retired node runs nothing: the health monitor, which does not filter by status, must not probe it.
  const s = node.status === 'retired'
    ? { ollama: false, docker: false, harpa: false, registry_api: false, openclaw: false }
    : node.role.services;
  const services: RegistryNode['services'] = {
    ollama: s.ollama,
    ollama_port: settings.ollama.port,
    ollama_host: node.ollama_env.OLLAMA_HOST,
    docker: s.docker,
    registry_api: s.registry_api,
    ...(s.registry_api ? { registry_api_port: settings.network.registry_api_port } : {}),
    harpa: s.harpa,
    openclaw: s.openclaw,
  };
  const entry: RegistryNode = {
    node_id: node.name,
    display_name: node.display_name,
    role: node.role.name,
    ip,
    hostname,
    hardware: { model: hw.model, cpu: hw.chip, ram_gb: hw.ram_gb, storage_gb: hw.storage_gb, architecture: hw.architecture, notes: hw.notes ?? '' },
    network: { ip, hostname, mac_address: '' },
    services,
    models_loaded: modelsPresent(node, factsOf(obs)),
    status: node.status,
    notes: node.notes ?? '',
  };
  if (node.added !== undefined) entry.added_date = node.added;
  if (node.status === 'retired' && node.retired !== undefined) entry.retired_date = node.retired;
  return entry;
}

/** 1-2 for heavy models, 3-4 for small ones (the add-node guide's rule), from the largest of `models`. */
function maxConcurrentFor(desired: Desired, models: readonly string[]): number {
  const largest = Math.max(0, ...models.map((m) => desired.models[m]?.size_bytes ?? 0));
  if (largest >= 20e9) return 1;
  if (largest >= 8e9) return 2;
  if (largest >= 4.5e9) return 3;
  return 4;
}

/** The node's Ollama worker's max_concurrent: the node's setting, else from its largest model. */
export function maxConcurrentOf(desired: Desired, node: DesiredNode): number {
  return node.openclaw.max_concurrent ?? maxConcurrentFor(desired, node.models);
}

/** Why a node's workers take no tasks; undefined when they may. */
function unavailableReason(node: DesiredNode, obs: ObservedNode | undefined): string | undefined {
  if (node.status === 'retired') return `retired${node.retired === undefined ? '' : ` on ${node.retired}`}`;
  if (node.status === 'planned') return 'planned: not provisioned yet';
  if (!node.openclaw.enabled) return 'disabled in fleet/';
  if (obs === undefined) return 'not observed yet';
  if (factsOf(obs) === undefined) return `node not reachable from Bob (${obs.reach.status})`;
  return undefined;
}

function hardwareNote(node: DesiredNode): string {
  const hw = node.hardware;
  return hw === undefined ? '' : `${hw.model}, ${hw.ram_gb} GB${hw.metal ? ', Metal' : ', CPU only'}`;
}

function joinNotes(...parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join('; ');
}

/**
 * The host in a derived Ollama endpoint: for a roaming node the address Bob
 * reached it at (its LAN name at home, its Tailscale address away), else the
 * registry's IP, else its hostname.
 */
function endpointHost(node: DesiredNode, obs: ObservedNode | undefined, ip: string): string {
  const reached = obs?.reach.status === 'ok' ? obs.reach.address : undefined;
  if (node.presence === 'roaming' && reached !== undefined && reached !== '') return reached.includes(':') ? `[${reached}]` : reached;
  return ip === '' ? hostnameOf(node) : ip;
}

function harpaWorker(node: DesiredNode, w: DeclaredWorker, facts: ObservedFacts | undefined, blocked: string | undefined, priority: number): Worker {
  let reason = blocked ?? (w.enabled ? undefined : 'disabled in fleet/');
  const needsChrome = node.role.software.casks.includes('google-chrome') || w.kind === 'extra';
  if (reason === undefined && facts !== undefined && needsChrome && facts.brew.casks['google-chrome'] === undefined) reason = 'Chrome is not installed yet';
  return {
    worker_id: w.worker_id,
    display_name: w.display_name ?? `${node.display_name} (HARPA)`,
    node_id: node.name,
    type: 'harpa_grid',
    endpoint: 'harpa_grid',
    priority: w.priority ?? priority,
    max_concurrent: w.max_concurrent ?? 1,
    models_available: [],
    task_types: [...w.task_types],
    enabled: reason === undefined,
    notes: joinNotes(w.notes ?? 'HARPA AI is finished by hand (~/.symphony/harpa_setup_instructions.txt)', reason === undefined ? undefined : `disabled: ${reason}`),
  };
}

function workersOf(desired: Desired, node: DesiredNode, obs: ObservedNode | undefined, ip: string): Worker[] {
  const settings = desired.settings;
  const pr = settings.openclaw.priorities;
  const facts = factsOf(obs);
  const blocked = unavailableReason(node, obs);
  const present = modelsPresent(node, facts);
  const port = settings.ollama.port;
  return node.workers.map((w): Worker => {
    if (w.type === 'harpa_grid') return harpaWorker(node, w, facts, blocked, pr.harpa);
    const local = w.type === 'ollama_local';
    // A worker advertises its own models (all of the node's by default) that observe saw on the node.
    const own = w.models === undefined ? present : present.filter((m) => w.models?.includes(normalizeModelRef(m)));
    let reason = blocked ?? (w.enabled ? undefined : 'disabled in fleet/');
    if (reason === undefined && facts !== undefined) {
      const up = local ? facts.ollama.local.up || facts.ollama.external.up : facts.ollama.external.up;
      if (!up) reason = local ? 'Ollama not answering on Bob' : 'Ollama not reachable from Bob';
      else if (own.length === 0) reason = 'none of its models is on the node yet';
    }
    const derived = local ? `http://localhost:${port}` : `http://${endpointHost(node, obs, ip)}:${port}`;
    const defaultPriority = local ? pr.hq_local : node.hardware?.metal === true ? pr.apple_silicon : pr.intel;
    const defaultConcurrency = w.kind === 'extra' ? maxConcurrentFor(desired, w.models ?? node.models) : maxConcurrentOf(desired, node);
    return {
      worker_id: w.worker_id,
      display_name: w.display_name ?? (local ? `${node.display_name} (local)` : `${node.display_name} (LLM)`),
      node_id: node.name,
      type: w.type,
      endpoint: w.endpoint ?? derived,
      priority: w.priority ?? defaultPriority,
      max_concurrent: w.max_concurrent ?? defaultConcurrency,
      models_available: own,
      task_types: [...w.task_types],
      enabled: reason === undefined,
      notes: joinNotes(w.notes ?? hardwareNote(node), reason === undefined ? undefined : `disabled: ${reason}`),
    };
  });
}

function routingRulesOf(desired: Desired): WorkerRoutingRule[] {
  return desired.settings.openclaw.routing_rules.map((r) => ({
    rule_id: r.rule_id,
    description: r.description,
    task_types: [...r.task_types],
    preferred_workers: [...r.preferred_workers],
    fallback: [...r.fallback],
    model_preference: r.model_preference ?? null,
    notes: r.notes ?? '',
  }));
}

/** Keep the previous date when the rest is identical, so a no-op generate changes no byte. */
function keepDate<T extends { _meta: { last_updated: string } }>(next: T, previous: unknown): T {
  if (typeof previous !== 'object' || previous === null || !('_meta' in previous)) return next;
  const prevMeta = previous._meta;
  if (typeof prevMeta !== 'object' || prevMeta === null || !('last_updated' in prevMeta) || typeof prevMeta.last_updated !== 'string') return next;
  const candidate = { ...next, _meta: { ...next._meta, last_updated: prevMeta.last_updated } };
  return JSON.stringify(candidate) === JSON.stringify(previous) ? candidate : next;
}

export function generate(desired: Desired, observed: readonly ObservedNode[], options: GenerateOptions): GeneratedFiles {
  const byName = new Map(observed.map((o) => [o.node, o]));
  const heartbeats = options.heartbeats ?? [];
  const nodes = [...desired.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((doc) => resolveNode(desired, doc));
  const settings = desired.settings;

  const registryNodes = nodes.map((n) => registryNodeOf(desired, n, byName.get(n.name), heartbeats));
  const registry: NodesRegistry = {
    _meta: {
      description: 'Registry of all Symphony nodes: IPs, hardware, services, status',
      version: VERSION,
      managed_by: MANAGED_BY,
      last_updated: options.lastUpdated,
      notes: `Network ${settings.network.name}. ip: the newest heartbeat address, else the observed one, else the first IPv4 in fleet/. models_loaded: assigned models observed on the node.`,
    },
    nodes: registryNodes,
  };

  const cf = settings.openclaw.cloud_fallback;
  const workers: Worker[] = nodes.flatMap((n, i) => workersOf(desired, n, byName.get(n.name), registryNodes[i]?.ip ?? ''));
  workers.push({
    worker_id: cf.worker_id,
    display_name: cf.display_name,
    node_id: null,
    type: 'openai_api',
    endpoint: cf.endpoint,
    priority: settings.openclaw.priorities.cloud,
    max_concurrent: cf.max_concurrent,
    models_available: [...cf.models_available],
    task_types: [...cf.task_types],
    enabled: cf.enabled,
    notes: cf.notes ?? '',
  });
  const openclaw: OpenclawWorkers = {
    _meta: {
      description: 'OpenClaw worker config: workers, routing rules, global settings',
      version: VERSION,
      managed_by: MANAGED_BY,
      last_updated: options.lastUpdated,
      notes: 'Workers list only models observed on their node; a node whose Ollama Bob cannot reach is disabled, not removed. The cloud fallback is last.',
    },
    workers,
    routing_rules: routingRulesOf(desired),
    global_settings: { ...settings.openclaw.global_settings },
  };
  return {
    nodes_registry: keepDate(registry, options.previous?.nodes_registry),
    openclaw_workers: keepDate(openclaw, options.previous?.openclaw_workers),
  };
}
