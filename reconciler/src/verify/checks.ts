// `fleet verify`: the guide's "Verify from Bob", done the way it works on a
// real Mac. Pure: each check turns what was gathered (verify-node.ts) into a
// verdict a person can act on. No clock, network or filesystem here.
import type { DesiredNode } from '../model/desired.ts';
import { normalizeModelRef } from '../model/desired.ts';
import type { ModelFacts } from '../schema/fleet.ts';
import type { GeneratedFiles } from '../generate/generate.ts';
import type { HeartbeatRecord } from '../schema/observed.ts';

export type CheckId = 'ssh' | 'ollama-list' | 'api-tags' | 'generate' | 'embed' | 'registry' | 'heartbeat' | 'openclaw';

export interface Check {
  id: CheckId;
  verdict: 'pass' | 'fail' | 'skip';
  /** What was found, in one sentence. */
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

/** The checks in the order they are run and printed. */
export const CHECK_IDS: readonly CheckId[] = ['ssh', 'ollama-list', 'api-tags', 'generate', 'embed', 'registry', 'heartbeat', 'openclaw'];

/** A node counts as offline when no heartbeat arrived for this long (symphony-interfaces.md). */
export const HEARTBEAT_MAX_AGE_S = 180;

export interface Probe<T> {
  ok: boolean;
  value?: T;
  /** Why not ok. */
  error?: string;
}

export interface Gathered {
  node: DesiredNode;
  /** Catalog facts of the node's models (kind, size). */
  catalog: Readonly<Record<string, ModelFacts>>;
  ssh: Probe<{ address: string; user: string; fingerprint: string }>;
  /** `hostname && <prefix>/bin/ollama list` over SSH. */
  ollamaList: Probe<{ hostname: string; cli: string; models: string[] }> | undefined;
  /** /api/tags from Bob. */
  tags: Probe<{ url: string; models: string[] }> | undefined;
  /** The model a one-token generate ran on, and its answer. */
  generate: Probe<{ model: string; ms: number }> | undefined;
  embed: Probe<{ model: string; dimensions: number }> | undefined;
  /** Bob's generated files, and where they were read. */
  generated: Probe<{ files: GeneratedFiles; from: string }>;
  heartbeat: Probe<{ record: HeartbeatRecord | undefined; from: string }>;
  now: Date;
}

const pass = (id: CheckId, detail: string): Check => ({ id, verdict: 'pass', detail });
const fail = (id: CheckId, detail: string, fix: string): Check => ({ id, verdict: 'fail', detail, fix });
const skip = (id: CheckId, detail: string): Check => ({ id, verdict: 'skip', detail });

/** The node's smallest chat model and its embedding model, from the catalog. */
export function modelsToTry(node: DesiredNode, catalog: Readonly<Record<string, ModelFacts>>): { chat: string | undefined; embedding: string | undefined } {
  const facts = node.models.map((m) => ({ m, f: catalog[m] })).filter((x): x is { m: string; f: ModelFacts } => x.f !== undefined);
  const chat = facts.filter((x) => x.f.kind === 'completion').sort((a, b) => a.f.size_bytes - b.f.size_bytes || a.m.localeCompare(b.m))[0]?.m;
  const embedding = facts.filter((x) => x.f.kind === 'embedding').sort((a, b) => a.f.size_bytes - b.f.size_bytes || a.m.localeCompare(b.m))[0]?.m;
  return { chat, embedding };
}

function missing(wanted: readonly string[], present: readonly string[]): string[] {
  const have = new Set(present.map(normalizeModelRef));
  return wanted.filter((m) => !have.has(normalizeModelRef(m)));
}

function checkSsh(g: Gathered): Check {
  if (!g.ssh.ok || !g.ssh.value) return fail('ssh', `no SSH session: ${g.ssh.error ?? 'unknown error'}`, `check that ${g.node.name} is on, that Remote Login is on, and that its host key is pinned (fleet trust ${g.node.name})`);
  const s = g.ssh.value;
  return pass('ssh', `logged in as ${s.user} at ${s.address} with Bob's key; host key ${s.fingerprint} is the pinned one`);
}

function checkOllamaList(g: Gathered): Check {
  if (!g.node.role.services.ollama) return skip('ollama-list', `role ${g.node.role.name} runs no Ollama`);
  const r = g.ollamaList;
  if (!r) return skip('ollama-list', 'not run: no SSH session');
  if (!r.ok || !r.value) return fail('ollama-list', `hostname && ollama list failed: ${r.error ?? ''}`, `run fleet apply to install Ollama; on the node, ${'`'}${'/opt/homebrew/bin/ollama list'}${'`'} must work (a bare \`ollama\` is not on the PATH of an SSH command on a Mac)`);
  const v = r.value;
  const problems: string[] = [];
  if (v.hostname.replace(/\.local$/, '') !== g.node.name) problems.push(`hostname is ${v.hostname}, not ${g.node.name}`);
  const absent = missing(g.node.models, v.models);
  if (absent.length > 0) problems.push(`missing ${absent.join(', ')}`);
  if (problems.length > 0) return fail('ollama-list', `${v.cli} list on ${v.hostname}: ${problems.join('; ')}`, 'run fleet apply, which renames the node and pulls the missing models');
  return pass('ollama-list', `hostname ${v.hostname}; ${v.cli} list has ${v.models.length === 0 ? 'no models' : v.models.join(', ')}`);
}

function checkTags(g: Gathered): Check {
  if (!g.node.role.services.ollama) return skip('api-tags', `role ${g.node.role.name} runs no Ollama`);
  const r = g.tags;
  if (!r) return skip('api-tags', 'not asked');
  if (!r.ok || !r.value) return fail('api-tags', `Bob cannot read /api/tags: ${r.error ?? ''}`, `Ollama must listen on 0.0.0.0 (OLLAMA_HOST in ~/.ollama/ollama.env and the launchd plist): run fleet apply`);
  const absent = missing(g.node.models, r.value.models);
  if (absent.length > 0) return fail('api-tags', `${r.value.url}/api/tags lacks ${absent.join(', ')}`, 'run fleet apply to pull them');
  return pass('api-tags', `${r.value.url}/api/tags from Bob lists all ${g.node.models.length} wanted model${g.node.models.length === 1 ? '' : 's'}`);
}

function checkGenerate(g: Gathered): Check {
  const { chat } = modelsToTry(g.node, g.catalog);
  if (!chat) return skip('generate', 'the node serves no chat model');
  const r = g.generate;
  if (!r) return skip('generate', 'not run: /api/tags did not answer');
  if (!r.ok || !r.value) return fail('generate', `a one-token generate on ${chat} failed: ${r.error ?? ''}`, `look at ~/.symphony/logs/ollama_error.log on ${g.node.name}; the model may not fit in memory`);
  return pass('generate', `${r.value.model} answered a one-token generate in ${(r.value.ms / 1000).toFixed(1)} s`);
}

function checkEmbed(g: Gathered): Check {
  const { embedding } = modelsToTry(g.node, g.catalog);
  if (!embedding) return skip('embed', 'the node serves no embedding model');
  const r = g.embed;
  if (!r) return skip('embed', 'not run: /api/tags did not answer');
  if (!r.ok || !r.value) return fail('embed', `an embedding on ${embedding} failed: ${r.error ?? ''}`, `look at ~/.symphony/logs/ollama_error.log on ${g.node.name}`);
  if (r.value.dimensions === 0) return fail('embed', `${r.value.model} returned an empty embedding`, `pull ${r.value.model} again (fleet apply)`);
  return pass('embed', `${r.value.model} returned a ${r.value.dimensions}-dimension embedding`);
}

function checkRegistry(g: Gathered, answered: string | undefined): Check {
  if (!g.generated.ok || !g.generated.value) return fail('registry', `no generated files: ${g.generated.error ?? ''}`, 'run fleet apply (or let the daemon reconcile): it writes nodes_registry.json');
  const { files, from } = g.generated.value;
  const entry = files.nodes_registry.nodes.find((n) => n.node_id === g.node.name);
  if (!entry) return fail('registry', `${from}/nodes_registry.json has no entry for ${g.node.name}`, 'run fleet apply: the registry lists every node of fleet/');
  const problems: string[] = [];
  if (entry.status !== g.node.status) problems.push(`status ${entry.status}, fleet/ says ${g.node.status}`);
  if (entry.services.ollama !== g.node.role.services.ollama) problems.push(`services.ollama is ${String(entry.services.ollama)}`);
  if (answered !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(answered) && entry.ip !== answered) problems.push(`ip ${entry.ip}, but the node answered at ${answered}`);
  const absent = missing(g.node.models, entry.models_loaded);
  if (absent.length > 0) problems.push(`models_loaded lacks ${absent.join(', ')}`);
  if (problems.length > 0) return fail('registry', `${from}/nodes_registry.json: ${problems.join('; ')}`, 'run fleet apply (it regenerates the files from what it observes), or wait for the daemon');
  return pass('registry', `${from}/nodes_registry.json: ${entry.status}, ip ${entry.ip}, ${entry.models_loaded.length} model${entry.models_loaded.length === 1 ? '' : 's'}`);
}

function checkHeartbeat(g: Gathered): Check {
  if (!g.heartbeat.ok || !g.heartbeat.value) return fail('heartbeat', `Bob's registry API did not answer: ${g.heartbeat.error ?? ''}`, 'start the daemon on Bob (fleet daemon), which serves the registry API the heartbeats go to');
  const { record, from } = g.heartbeat.value;
  if (!record) return fail('heartbeat', `${from} has no heartbeat from ${g.node.name}`, `on ${g.node.name}: crontab -l must list ~/.symphony/heartbeat.sh; run it by hand (bash ~/.symphony/heartbeat.sh) and read ~/.symphony/logs/heartbeat.log`);
  const age = Math.max(0, Math.round((g.now.getTime() - Date.parse(record.last_seen)) / 1000));
  if (!(age <= HEARTBEAT_MAX_AGE_S)) return fail('heartbeat', `the last heartbeat came ${age} s ago (offline after ${HEARTBEAT_MAX_AGE_S} s)`, `on ${g.node.name}: crontab -l, and tail ~/.symphony/logs/heartbeat.log`);
  return pass('heartbeat', `last heartbeat ${age} s ago, from ${record.ip}`);
}

function checkOpenClaw(g: Gathered, answered: string | undefined): Check {
  if (!g.generated.ok || !g.generated.value) return fail('openclaw', `no generated files: ${g.generated.error ?? ''}`, 'run fleet apply: it writes openclaw_workers.json');
  const { files, from } = g.generated.value;
  const workers = files.openclaw_workers.workers.filter((w) => w.node_id === g.node.name && w.type !== 'harpa_grid');
  if (!g.node.role.services.ollama) return skip('openclaw', `role ${g.node.role.name} serves no model`);
  if (workers.length === 0) return fail('openclaw', `${from}/openclaw_workers.json has no Ollama worker for ${g.node.name}`, 'run fleet apply');
  const problems: string[] = [];
  for (const w of workers) {
    if (!w.enabled) problems.push(`${w.worker_id} is disabled`);
    const absent = missing(g.node.models, w.models_available);
    if (absent.length > 0) problems.push(`${w.worker_id} does not advertise ${absent.join(', ')}`);
    if (answered !== undefined && w.type === 'ollama_remote' && !w.endpoint.includes(`//${answered}:`)) problems.push(`${w.worker_id} points at ${w.endpoint}, but the node answered at ${answered}`);
  }
  if (problems.length > 0) return fail('openclaw', `${from}/openclaw_workers.json: ${problems.join('; ')}`, 'run fleet apply once the node answers');
  const ids = new Set(workers.map((w) => w.worker_id));
  const rules = files.openclaw_workers.routing_rules.filter((r) => [...r.preferred_workers, ...r.fallback].some((id) => ids.has(id))).map((r) => r.rule_id);
  // A worker no rule names is still chosen by its task types and priority.
  const routes = rules.length > 0 ? `named by ${rules.join(', ')}` : `chosen by task type (${[...new Set(workers.flatMap((w) => w.task_types))].join(', ')}): no routing rule names it`;
  return pass('openclaw', `${[...ids].join(', ')} enabled at ${workers.map((w) => w.endpoint).join(', ')}; ${routes}`);
}

/** Every check's verdict for one node. */
export function judgeNode(g: Gathered): Check[] {
  const answered = g.ssh.value?.address;
  return [
    checkSsh(g),
    checkOllamaList(g),
    checkTags(g),
    checkGenerate(g),
    checkEmbed(g),
    checkRegistry(g, answered),
    checkHeartbeat(g),
    checkOpenClaw(g, answered),
  ];
}
