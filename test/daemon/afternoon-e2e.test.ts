// An afternoon of changes to a real fleet of this kind, replayed as commits
// to a bare origin while the daemon runs against a simulated fleet (issue 12):
// Bob's LAN IP changes; the old iMac Maestro is retired; Bob becomes the main
// LLM worker, with a second worker bob_ollama reached over the network; a
// 16 GB MacBook Pro M2 that travels is added (by `fleet add-node --detect`)
// as a worker serving only llama3.2:3b, reachable on the LAN and over
// Tailscale; then it goes away. After every step the generated files the
// daemon pushed must say exactly what was observed: each node's models as its
// Ollama lists them, workers enabled only where Bob reaches a model they serve.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { signBeat } from '../../reconciler/src/daemon/heartbeat-auth.ts';
import { createLogger } from '../../reconciler/src/daemon/logger.ts';
import { startDaemon, type RunningDaemon } from '../../reconciler/src/daemon/run-daemon.ts';
import { normalizeModelRef } from '../../reconciler/src/load/desired.ts';
import type { Hardware } from '../../reconciler/src/schema/fleet.ts';
import type { NodesRegistry, OpenclawWorkers } from '../../reconciler/src/schema/generated.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { createOrigin, pushCommit } from '../../reconciler/src/sim/origin.ts';
import { runFleet } from '../cli/run-fleet.ts';

const repo = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'fleet-afternoon-'));
const origin = join(root, 'origin.git');
const person = join(root, 'alice');
/** The afternoon's date (after fleet/'s nodes were added, 2026-11-25). */
const TODAY = '2026-11-30';
let sim: SimFleet;
let daemon: RunningDaemon;
/** Bob's address after step 1 (another loopback address of the fleet's block: the simulated LAN). */
let bobNewIp = '';

const catalog = (parse(readFileSync(join(repo, 'fleet', 'catalog', 'hardware.yaml'), 'utf8')) as { hardware: Record<string, Hardware> }).hardware;
/** The MacBook Pro 13-inch M2 with 16 GB, bought with a 512 GB disk. */
const LAPTOP: Hardware = { ...(catalog['macbook-pro-13-m2-16gb'] as Hardware), storage_gb: 512 };

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(daemon.status(), null, 1).slice(0, 4000)}`);
}

const fleetFile = (...parts: string[]): string => join(person, 'fleet', ...parts);
const readYaml = (path: string): Record<string, unknown> => parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** Edits a YAML file in Alice's clone as data (her pull request). */
function editYaml(path: string, change: (doc: Record<string, unknown>) => void): void {
  const doc = readYaml(path);
  change(doc);
  writeFileSync(path, stringify(doc, { lineWidth: 0 }));
}

async function generatedOnOrigin(): Promise<{ registry: NodesRegistry; workers: OpenclawWorkers } | null> {
  try {
    const git = simpleGit(origin);
    const registry = JSON.parse(await git.show(['main:generated/nodes_registry.json'])) as NodesRegistry;
    const workers = JSON.parse(await git.show(['main:generated/openclaw_workers.json'])) as OpenclawWorkers;
    return { registry, workers };
  } catch {
    return null;
  }
}

/** What the node's Ollama lists, asked the way any client would; null when it does not answer. */
async function tagsOf(node: string): Promise<string[] | null> {
  const url = sim.targets.nodes[node]?.ollama_url;
  if (url === undefined) return null;
  try {
    const res = await fetch(`${url}/api/tags`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { models: { name: string }[] };
    return body.models.map((m) => normalizeModelRef(m.name)).sort();
  } catch {
    return null;
  }
}

/** The node's desired models as fleet/ on origin says (role base models unless replaced, plus its own). */
function desiredModels(node: string): string[] {
  const doc = readYaml(fleetFile('nodes', `${node}.yaml`));
  const role = readYaml(fleetFile('roles', `${String(doc.role)}.yaml`));
  const services = role.services as { ollama: boolean };
  if (!services.ollama) return [];
  const own = (doc.models as string[] | undefined) ?? [];
  const base = doc.role_models === 'replace' ? [] : (role.models as string[]);
  return [...new Set([...base, ...own].map(normalizeModelRef))].sort();
}

const display = (ref: string): string => (ref.endsWith(':latest') ? ref.slice(0, -':latest'.length) : ref);

/**
 * The check of every step: for each node, models_loaded is exactly its desired
 * models that its Ollama lists now; a retired node runs nothing; each Ollama
 * worker lists exactly its models among those, and is enabled exactly when it
 * has one and Bob reaches the node.
 */
async function expectGeneratedSaysWhatWasObserved(files: { registry: NodesRegistry; workers: OpenclawWorkers }): Promise<void> {
  for (const entry of files.registry.nodes) {
    const tags = entry.status === 'retired' ? null : await tagsOf(entry.node_id);
    const loaded = tags === null ? [] : desiredModels(entry.node_id).filter((m) => tags.includes(m)).map(display).sort();
    expect(entry.models_loaded, `${entry.node_id} models_loaded`).toEqual(loaded);
    if (entry.status === 'retired') {
      expect(entry.services, `${entry.node_id} services`).toMatchObject({ ollama: false, docker: false, harpa: false, registry_api: false, openclaw: false });
    }
    for (const w of files.workers.workers.filter((x) => x.node_id === entry.node_id)) {
      if (w.type === 'harpa_grid') continue;
      expect(w.models_available.every((m) => loaded.includes(m)), `${w.worker_id} lists only models on ${entry.node_id}: ${w.models_available.join(', ')}`).toBe(true);
      expect(w.enabled, `${w.worker_id} enabled (${w.notes})`).toBe(entry.status !== 'retired' && tags !== null && w.models_available.length > 0);
    }
  }
}

/** Alice's merged change; resolves with the daemon's generated commit for it, checked. */
/** Whether `revision` (on origin) has `commit` in its history. */
function contains(revision: string, commit: string): boolean {
  if (revision === commit) return true;
  try {
    execFileSync('git', ['-C', origin, 'merge-base', '--is-ancestor', commit, revision], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function step(message: string, edit: () => void | Promise<void>, ready: (f: { registry: NodesRegistry; workers: OpenclawWorkers }) => boolean, nodes: string[]): Promise<{ registry: NodesRegistry; workers: OpenclawWorkers }> {
  const { head } = await pushCommit(person, message, edit);
  let files: { registry: NodesRegistry; workers: OpenclawWorkers } | null = null;
  await waitFor(`${message}: converged and pushed`, async () => {
    const s = daemon.status();
    if (s.invalid?.revision === head) throw new Error(`the daemon refused ${message}: ${JSON.stringify(s.invalid.problems)}`);
    // The daemon's own commits (generated/, an IP change) may land on top of ours: its revision then contains it.
    if (s.revision === null || !contains(s.revision, head) || s.last?.result === 'running') return false;
    if (!nodes.every((n) => s.nodes.some((x) => x.node === n && (x.status === 'in-sync' || x.status === 'retired' || x.status === 'away')))) return false;
    files = await generatedOnOrigin();
    return files !== null && ready(files);
  });
  if (files === null) throw new Error('no generated files');
  await expectGeneratedSaysWhatWasObserved(files);
  return files;
}

const worker = (f: { workers: OpenclawWorkers }, id: string) => f.workers.workers.find((w) => w.worker_id === id);
const entry = (f: { registry: NodesRegistry }, id: string) => f.registry.nodes.find((n) => n.node_id === id);

beforeAll(async () => {
  sim = await startSimFleet({
    stateDir: join(root, 'sim'),
    specs: [
      { name: 'bob', hardware: 'mac-mini-m4-16gb', role: 'hq', preset: 'provisioned', models: ['llama3.2:3b', 'nomic-embed-text'] },
      { name: 'maestro', hardware: 'imac-27-2019-i9-64gb', role: 'llm_worker', preset: 'provisioned', models: ['llama3.1:8b', 'mistral:7b', 'nomic-embed-text', 'llama3.2:3b'] },
      { name: 'stagehand', hardware: 'imac-intel-i5-8gb', role: 'browser_node', preset: 'provisioned' },
      // The laptop exists before the fleet knows it: a factory-fresh Mac with Remote Login on.
      { name: 'tempo', hardware: LAPTOP, preset: 'fresh' },
    ],
    preset: 'fresh',
    ollama: { pullBytesPerSecond: 50e9, progressIntervalMs: 20 },
    controlEndpoint: false,
    cron: false,
  });
  await createOrigin(root, join(repo, 'fleet'));
  daemon = await startDaemon({
    repo: origin,
    branch: 'main',
    workdir: join(root, 'fleetd'),
    targetsFile: sim.targetsPath,
    http: { host: '127.0.0.1', port: 0 },
    log: createLogger({ level: 'silent' }),
    pollIntervalMs: 300,
    driftCron: '0 0 1 1 *',
    bobHome: join(root, 'bob'),
    backoffBaseMs: 50,
  });
}, 180_000);

afterAll(async () => {
  await daemon?.stop();
  await sim?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('an afternoon of changes, replayed against the daemon', () => {
  it('0. the fleet as it is: converged, and the generated files say what is on each node', async () => {
    await waitFor('first convergence', () => ['bob', 'maestro', 'stagehand'].every((n) => daemon.status().nodes.some((x) => x.node === n && x.status === 'in-sync')));
    await waitFor('the first generated commit', async () => (await generatedOnOrigin()) !== null && daemon.status().last?.result !== 'running');
    await daemon.idle();
    const files = await generatedOnOrigin();
    if (files === null) throw new Error('no generated files');
    // Maestro holds llama3.2:3b from its hand-run days: not in fleet/, so not advertised; llama3.1:70b was pulled.
    expect(await tagsOf('maestro')).toContain('llama3.2:3b');
    expect(entry(files, 'maestro')?.models_loaded).toEqual(['llama3.1:70b', 'llama3.1:8b', 'mistral:7b', 'nomic-embed-text']);
    await expectGeneratedSaysWhatWasObserved(files);
  }, 180_000);

  it('1. Bob\'s LAN IP changes: Bob\'s signed heartbeat from its new address says so, fleet/ says so, the registry follows; a forged claim changes nothing', async () => {
    // The simulated LAN is loopback: Bob's Mac "moves" to another address of its fleet's block.
    const oldIp = sim.node('bob').ip;
    bobNewIp = oldIp.replace(/\.\d+$/, '.189');
    const key = Buffer.from(readFileSync(join(root, 'bob', '.symphony', 'node-secrets', 'bob.key'), 'utf8').trim(), 'hex');
    const beat = (ip: string, from: string, signWith: Buffer | null): Promise<number> => new Promise((resolve, reject) => {
      const body = JSON.stringify({ node_id: 'bob', ip, timestamp: new Date().toISOString() });
      const ts = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (signWith) Object.assign(headers, { 'x-symphony-timestamp': String(ts), 'x-symphony-signature': signBeat(signWith, ts, body) });
      const req = request(`${daemon.url}/api/heartbeat`, { method: 'POST', localAddress: from, headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end(body);
    });
    // unsigned, or claiming an address it does not come from: refused, nothing moves
    expect(await beat('10.66.66.66', oldIp, null)).toBeGreaterThanOrEqual(400);
    expect(await beat('10.66.66.66', bobNewIp, key)).toBeGreaterThanOrEqual(400);
    expect(await beat(bobNewIp, bobNewIp, key)).toBe(200);
    const files = await step(`fleet: Bob moved to ${bobNewIp}`, () => {
      editYaml(fleetFile('nodes', 'bob.yaml'), (d) => { d.addresses = ['bob.local', bobNewIp]; });
      editYaml(fleetFile('fleet.yaml'), (d) => { (d.network as Record<string, unknown>).bob_address = bobNewIp; });
    }, (f) => entry(f, 'bob')?.ip === bobNewIp, ['bob']);
    expect(entry(files, 'bob')).toMatchObject({ ip: bobNewIp, network: { ip: bobNewIp, hostname: 'bob.local', mac_address: '' } });
    expect(JSON.stringify(files)).not.toContain('10.66.66.66');
    expect(await simpleGit(origin).raw(['log', '--format=%B', 'main'])).toContain(`bob: IP ${oldIp} -> ${bobNewIp}`);
  }, 180_000);

  it('2. the old iMac Maestro retires: services off, no models, its date kept, its worker disabled, and its models gone from the Mac', async () => {
    const files = await step('fleet: retire Maestro; routes go to Bob and the cloud', () => {
      editYaml(fleetFile('nodes', 'maestro.yaml'), (d) => { d.status = 'retired'; d.retired = TODAY; });
      editYaml(fleetFile('fleet.yaml'), (d) => {
        const rules = (d.openclaw as { routing_rules: { preferred_workers: string[]; fallback: string[] }[] }).routing_rules;
        for (const r of rules) {
          r.preferred_workers = r.preferred_workers.map((w) => (w === 'maestro_ollama' ? 'bob_local' : w));
          r.fallback = r.fallback.filter((w) => w !== 'maestro_ollama');
        }
      });
    }, (f) => entry(f, 'maestro')?.status === 'retired', ['maestro']);
    expect(entry(files, 'maestro')).toMatchObject({ status: 'retired', retired_date: TODAY, added_date: '2026-11-25', models_loaded: [] });
    expect(entry(files, 'maestro')?.services).toEqual({ ollama: false, ollama_port: 11434, ollama_host: '0.0.0.0', docker: false, registry_api: false, harpa: false, openclaw: false });
    expect(worker(files, 'maestro_ollama')).toMatchObject({ enabled: false, models_available: [] });
    expect(worker(files, 'maestro_ollama')?.notes).toContain(`disabled: retired on ${TODAY}`);
    // On the Mac itself: every model removed (its store on disk), then the Ollama agent unloaded: nothing answers.
    expect(sim.node('maestro').ollama.listModels()).toEqual([]);
    expect(await tagsOf('maestro')).toBeNull();
    expect(sim.commandLog('maestro').join('\n')).toMatch(/launchctl bootout/);
  }, 180_000);

  it('3. Bob becomes the main LLM worker: llama3.1:8b pulled, a second worker bob_ollama at Bob\'s LAN IP next to bob_local', async () => {
    const files = await step('fleet: Bob serves llama3.1:8b to the network as bob_ollama', () => {
      editYaml(fleetFile('nodes', 'bob.yaml'), (d) => {
        d.models = ['llama3.1:8b'];
        d.workers = [{ id: 'bob_ollama', type: 'ollama_remote', priority: 95, max_concurrent: 2, task_types: ['summarize', 'write', 'qa', 'analyze', 'reason', 'code'], models: ['llama3.1:8b', 'llama3.2:3b'], notes: 'Bob\'s Ollama for the rest of the network.' }];
      });
      editYaml(fleetFile('fleet.yaml'), (d) => {
        const rules = (d.openclaw as { routing_rules: { rule_id: string; preferred_workers: string[] }[] }).routing_rules;
        for (const r of rules) if (['general_llm_route', 'reasoning_route', 'code_route'].includes(r.rule_id)) r.preferred_workers = ['bob_ollama'];
        for (const r of rules as { rule_id: string; model_preference?: string | null }[]) if (r.rule_id === 'reasoning_route') r.model_preference = 'llama3.1:8b';
      });
    }, (f) => worker(f, 'bob_ollama')?.enabled === true, ['bob']);
    expect(await tagsOf('bob')).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text:latest']);
    expect(worker(files, 'bob_local')).toMatchObject({ type: 'ollama_local', endpoint: 'http://localhost:11434', models_available: ['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text'], enabled: true });
    expect(worker(files, 'bob_ollama')).toEqual({
      worker_id: 'bob_ollama', display_name: 'Bob (LLM)', node_id: 'bob', type: 'ollama_remote', endpoint: `http://${bobNewIp}:11434`,
      priority: 95, max_concurrent: 2, models_available: ['llama3.1:8b', 'llama3.2:3b'], task_types: ['summarize', 'write', 'qa', 'analyze', 'reason', 'code'],
      enabled: true, notes: 'Bob\'s Ollama for the rest of the network.',
    });
    expect(files.workers.routing_rules.find((r) => r.rule_id === 'general_llm_route')?.preferred_workers).toEqual(['bob_ollama']);
  }, 180_000);

  it('4. the travelling 16 GB MacBook Pro M2 joins, detected over SSH, serving only llama3.2:3b, on the LAN and over Tailscale', async () => {
    const address = sim.targets.nodes.tempo?.addresses[0] ?? '';
    const files = await step('fleet: add tempo, the MacBook Pro that travels', async () => {
      const r = await runFleet(['add-node', 'tempo', '--detect', address, '--targets', sim.targetsPath, '--role', 'llm_worker', '--role-models', 'replace', '--models', 'llama3.2:3b', '--presence', 'roaming', '--status', 'active', '--address', 'tempo.local', '--address', '192.168.1.60', '--address', '100.101.102.103', '--today', TODAY], { cwd: person });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('catalog entry macbook-pro-13-m2-16gb');
      expect(r.code).toBe(0);
    }, (f) => worker(f, 'tempo_ollama')?.enabled === true, ['tempo']);
    // Only llama3.2:3b was pulled: not the llm_worker role's 8B and 7B models, which would not fit 16 GB next to it.
    expect(await tagsOf('tempo')).toEqual(['llama3.2:3b']);
    expect(entry(files, 'tempo')).toMatchObject({ status: 'active', added_date: TODAY, models_loaded: ['llama3.2:3b'], hardware: { model: 'MacBook Pro 13-inch M2', cpu: 'Apple M2', ram_gb: 16, architecture: 'arm64' } });
    // A roaming node's endpoint is the address Bob reached it at (here the simulated Mac's).
    expect(worker(files, 'tempo_ollama')).toMatchObject({ type: 'ollama_remote', endpoint: `http://${address}:11434`, models_available: ['llama3.2:3b'], enabled: true, max_concurrent: 4, priority: 90 });
    const doc = readYaml(fleetFile('nodes', 'tempo.yaml'));
    expect(doc).toMatchObject({ hardware: 'macbook-pro-13-m2-16gb', role_models: 'replace', models: ['llama3.2:3b'], presence: 'roaming', addresses: ['tempo.local', '192.168.1.60', '100.101.102.103'] });
  }, 240_000);

  it('5. the laptop leaves: away, not an alarm; its worker disabled, not removed', async () => {
    await sim.control.setFault('tempo', 'down');
    daemon.trigger('manual');
    let files: Awaited<ReturnType<typeof generatedOnOrigin>> = null;
    await waitFor('tempo away in the pushed files', async () => {
      const s = daemon.status();
      if (!s.nodes.some((x) => x.node === 'tempo' && x.status === 'away')) return false;
      files = await generatedOnOrigin();
      return files !== null && worker(files, 'tempo_ollama')?.enabled === false;
    });
    if (files === null) throw new Error('no generated files');
    expect(entry(files, 'tempo')).toMatchObject({ status: 'active', models_loaded: [] });
    expect(worker(files, 'tempo_ollama')?.notes).toContain('disabled: node not reachable from Bob');
    await expectGeneratedSaysWhatWasObserved(files);
    await sim.control.clearFault('tempo', 'down');
  }, 180_000);
});
