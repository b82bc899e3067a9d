// generate(desired, observed): the two files the consumers on Bob read.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, type GeneratedFiles } from '../../reconciler/src/generate/generate.ts';
import { validateGenerated } from '../../reconciler/src/generate/validate-generated.ts';
import { changedGenerated, formatGenerated, readGenerated, writeGenerated } from '../../reconciler/src/generate/write-generated.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import type { Worker } from '../../reconciler/src/schema/generated.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { fleetArb } from '../plan/arbitrary-observed.ts';
import { buildDesired, node, seedNodes } from '../plan/build-desired.ts';
import { fixture, freshAs, provisioned } from '../plan/build-observed.ts';

const desired = buildDesired();
const observed: ObservedNode[] = [
  provisioned(desired, freshAs(desired, 'bob')),
  fixture('seed-provisioned-maestro'),
  provisioned(desired, freshAs(desired, 'stagehand')),
  fixture('unreachable-timeout'),
];
const OPTIONS = { lastUpdated: '2026-11-24' };
const files = generate(desired, observed, OPTIONS);

function worker(f: GeneratedFiles, id: string): Worker {
  const w = f.openclaw_workers.workers.find((x) => x.worker_id === id);
  if (w === undefined) throw new Error(`no worker ${id} in ${f.openclaw_workers.workers.map((x) => x.worker_id).join(', ')}`);
  return w;
}
const regNode = (f: GeneratedFiles, id: string) => f.nodes_registry.nodes.find((n) => n.node_id === id);

describe('determinism and validity', () => {
  it('is byte-identical for identical input, whatever the observation order', () => {
    const again = generate(structuredClone(desired), [...observed].reverse().map((o) => structuredClone(o)), OPTIONS);
    expect(formatGenerated(again.nodes_registry)).toBe(formatGenerated(files.nodes_registry));
    expect(formatGenerated(again.openclaw_workers)).toBe(formatGenerated(files.openclaw_workers));
  });

  it('validates against its schemas', () => {
    expect(validateGenerated(files)).toEqual([]);
  });

  it('property: any fleet state gives valid, deterministic files', () => {
    fc.assert(fc.property(fleetArb, ({ desired: d, observed: o }) => {
      const a = generate(d, o, OPTIONS);
      expect(validateGenerated(a)).toEqual([]);
      expect(JSON.stringify(generate(d, [...o].reverse(), OPTIONS))).toBe(JSON.stringify(a));
    }), { numRuns: 100 });
  });

  it('the schema catches a broken file (a test that can fail)', () => {
    const broken = structuredClone(files);
    (broken.nodes_registry.nodes[0] as Record<string, unknown>).surprise = 1;
    delete (broken.openclaw_workers.workers[0] as Partial<Worker>).endpoint;
    expect(validateGenerated(broken)).toEqual([
      'nodes_registry.json at /nodes/0: must NOT have additional properties (surprise)',
      "openclaw_workers.json at /workers/0: must have required property 'endpoint'",
    ]);
  });

  it('keeps last_updated when nothing else changed, moves it when something did', () => {
    const later = generate(desired, observed, { lastUpdated: '2026-12-01', previous: files });
    expect(later.nodes_registry._meta.last_updated).toBe('2026-11-24');
    expect(formatGenerated(later.openclaw_workers)).toBe(formatGenerated(files.openclaw_workers));
    const changed = generate(desired, observed.slice(1), { lastUpdated: '2026-12-01', previous: files });
    expect(changed.nodes_registry._meta.last_updated).toBe('2026-12-01');
  });
});

describe('nodes_registry.json', () => {
  it('has the health monitor\'s top-level ip and hostname, and network', () => {
    const m = regNode(files, 'maestro');
    expect(m?.ip).toBe('192.168.1.20');
    expect(m?.hostname).toBe('maestro.local');
    expect(m?.network).toEqual({ ip: '192.168.1.20', hostname: 'maestro.local', mac_address: '' });
  });

  it('hardware block, services, models present, status, dates', () => {
    const m = regNode(files, 'maestro');
    expect(m?.hardware).toEqual({ model: 'Intel iMac 27-inch 2019', cpu: 'Intel Core i9-9900K', ram_gb: 64, storage_gb: 2000, architecture: 'x86_64', notes: 'No Metal.' });
    expect(m?.services).toEqual({ ollama: true, ollama_port: 11434, ollama_host: '0.0.0.0', docker: false, registry_api: false, harpa: true, openclaw: false });
    // desired models observed present, as OpenClaw names them; phi3:mini (not desired) is not listed
    expect(m?.models_loaded).toEqual(['llama3.1:70b', 'llama3.1:8b', 'mistral:7b', 'nomic-embed-text']);
    expect(m?.status).toBe('active');
    expect(m?.added_date).toBe('2026-01-15');
    expect(m && 'retired_date' in m).toBe(false);
  });

  it('registry_api_port only where registry_api', () => {
    expect(regNode(files, 'bob')?.services).toMatchObject({ registry_api: true, registry_api_port: 8765, openclaw: true });
    for (const n of files.nodes_registry.nodes.filter((x) => x.node_id !== 'bob')) expect('registry_api_port' in n.services).toBe(false);
  });

  it('an unreachable node stays, with what fleet/ knows and no models', () => {
    const v = regNode(files, 'virtuoso');
    expect(v?.status).toBe('active');
    expect(v?.ip).toBe('192.168.1.40');
    expect(v?.hostname).toBe('virtuoso.local');
    expect(v?.models_loaded).toEqual([]);
  });

  it('no IP known anywhere: ip is "", the worker endpoint uses the .local name', () => {
    const g = generate(buildDesired([node('virtuoso', 'full_worker', 'mac-mini-m4-24gb')]), [fixture('unreachable-timeout')], OPTIONS);
    expect(regNode(g, 'virtuoso')?.ip).toBe('');
    expect(worker(g, 'virtuoso_ollama').endpoint).toBe('http://virtuoso.local:11434');
  });

  it('IP: newest heartbeat, else observed, else the first IPv4 in fleet/', () => {
    const beats = [
      { node_id: 'maestro', ip: '10.0.0.5', last_seen: '2026-11-24T09:00:00Z' },
      { node_id: 'maestro', ip: '10.0.0.6', last_seen: '2026-11-24T09:59:00Z' },
      { node_id: 'maestro', ip: 'UNKNOWN', last_seen: '2026-11-24T10:00:00Z' },
    ];
    const g = generate(desired, observed, { ...OPTIONS, heartbeats: beats });
    expect(regNode(g, 'maestro')?.ip).toBe('10.0.0.6');
    expect(worker(g, 'maestro_ollama').endpoint).toBe('http://10.0.0.6:11434');
    expect(regNode(files, 'stagehand')?.ip).toBe('192.168.1.40'); // observed (the fixture's en0)
    const d = buildDesired(seedNodes().map((n) => (n.name === 'virtuoso' ? { ...n, addresses: ['virtuoso.local', '192.168.1.44'] } : n)));
    expect(regNode(generate(d, observed, OPTIONS), 'virtuoso')?.ip).toBe('192.168.1.44');
  });

  it('a retired node: status retired with its date; its workers disabled, not removed', () => {
    const d = buildDesired(seedNodes().map((n) => (n.name === 'maestro' ? { ...n, status: 'retired' as const, retired: '2026-11-01' } : n)));
    const g = generate(d, observed, OPTIONS);
    expect(regNode(g, 'maestro')).toMatchObject({ status: 'retired', retired_date: '2026-11-01', models_loaded: [] });
    expect(worker(g, 'maestro_ollama')).toMatchObject({ enabled: false, models_available: [] });
    expect(worker(g, 'maestro_ollama').notes).toContain('disabled: retired on 2026-11-01');
    expect(validateGenerated(g)).toEqual([]);
  });
});

describe('openclaw_workers.json', () => {
  it('Bob\'s own Ollama is <node>_local on loopback at priority 100', () => {
    expect(worker(files, 'bob_local')).toMatchObject({ type: 'ollama_local', endpoint: 'http://localhost:11434', priority: 100, node_id: 'bob', enabled: true, max_concurrent: 4, models_available: ['llama3.2:3b', 'nomic-embed-text'] });
  });

  it('other Ollama nodes are <node>_ollama at their IP, priority by hardware class, models as observed', () => {
    expect(worker(files, 'maestro_ollama')).toMatchObject({
      type: 'ollama_remote', endpoint: 'http://192.168.1.20:11434', priority: 40, max_concurrent: 1, enabled: true,
      models_available: ['llama3.1:70b', 'llama3.1:8b', 'mistral:7b', 'nomic-embed-text'], task_types: ['summarize', 'reason', 'embed'],
    });
  });

  it('Ollama not reachable from Bob: disabled, not removed', () => {
    expect(worker(files, 'virtuoso_ollama')).toMatchObject({ enabled: false, models_available: [], priority: 90, endpoint: 'http://192.168.1.40:11434' });
    expect(worker(files, 'virtuoso_ollama').notes).toContain('disabled: node not reachable from Bob (timeout)');
    const m = structuredClone(fixture('seed-provisioned-maestro'));
    m.facts!.ollama.external = { up: false, error: 'connect ECONNREFUSED' };
    const g = generate(desired, [m], OPTIONS);
    expect(worker(g, 'maestro_ollama')).toMatchObject({ enabled: false });
    expect(worker(g, 'maestro_ollama').notes).toContain('disabled: Ollama not reachable from Bob');
  });

  it('HARPA roles get <node>_harpa (harpa_grid) at the HARPA priority', () => {
    expect(worker(files, 'stagehand_harpa')).toMatchObject({ type: 'harpa_grid', endpoint: 'harpa_grid', priority: 70, max_concurrent: 1, enabled: true, task_types: ['browser', 'scrape', 'form_fill'], models_available: [] });
    expect(worker(files, 'virtuoso_harpa').enabled).toBe(false);
    // llm_worker installs the HARPA guide but takes no browser tasks: no worker
    expect(files.openclaw_workers.workers.some((w) => w.worker_id === 'maestro_harpa')).toBe(false);
  });

  it('max_concurrent from the largest model: 1-2 heavy, 3-4 small, unless overridden', () => {
    const d = buildDesired([
      node('bob', 'hq', 'mac-mini-m4-16gb'),
      node('virtuoso', 'full_worker', 'mac-mini-m4-24gb'),
      node('soloist', 'full_worker', 'mac-studio-m4-max-64gb', { models: ['codestral:22b'] }),
      node('crescendo', 'full_worker', 'mac-studio-m4-max-64gb', { models: ['llama3.1:70b'] }),
      node('tempo', 'full_worker', 'mac-mini-m4-24gb', { openclaw: { max_concurrent: 2, priority: 95 } }),
    ]);
    const g = generate(d, [], OPTIONS);
    expect(['bob_local', 'virtuoso_ollama', 'soloist_ollama', 'crescendo_ollama', 'tempo_ollama'].map((id) => worker(g, id).max_concurrent)).toEqual([4, 3, 2, 1, 2]);
    expect(worker(g, 'tempo_ollama').priority).toBe(95);
    expect(worker(g, 'crescendo_ollama').priority).toBe(90);
  });

  it('worker ids follow validate\'s rule for hyphenated names', () => {
    const g = generate(buildDesired([node('grand-piano', 'full_worker', 'mac-mini-m4-24gb')]), [], OPTIONS);
    expect(g.openclaw_workers.workers.map((w) => w.worker_id)).toEqual(['grand_piano_ollama', 'grand_piano_harpa', 'openai_fallback']);
  });

  it('the cloud fallback is last; routing rules and global settings come from fleet.yaml', () => {
    const ws = files.openclaw_workers.workers;
    expect(ws.at(-1)).toMatchObject({ worker_id: 'openai_fallback', node_id: null, type: 'openai_api', priority: 10 });
    expect(files.openclaw_workers.routing_rules[0]).toEqual({ rule_id: 'embed_route', description: 'Embeddings.', task_types: ['embed'], preferred_workers: ['bob_local'], fallback: ['maestro_ollama', 'openai_fallback'], model_preference: 'nomic-embed-text', notes: '' });
    expect(files.openclaw_workers.routing_rules[1]?.model_preference).toBeNull();
    expect(files.openclaw_workers.global_settings).toEqual({ default_timeout_s: 120, max_retries: 2, worker_selection_strategy: 'priority_with_availability', health_check_interval_s: 60, offline_worker_retry_after_s: 300, log_all_routing_decisions: true });
  });
});

describe('compatibility with shared/reference/symphony-interfaces.md', () => {
  // The field lists of the reference, kept here so CI without ../shared still checks them.
  const META = ['description', 'version', 'managed_by', 'last_updated', 'notes'];
  const NODE = ['node_id', 'display_name', 'role', 'hardware', 'network', 'services', 'models_loaded', 'status', 'notes', 'added_date', 'ip', 'hostname'];
  const HARDWARE = ['model', 'cpu', 'ram_gb', 'storage_gb', 'architecture', 'notes'];
  const NETWORK = ['ip', 'hostname', 'mac_address'];
  const SERVICES = ['ollama', 'ollama_port', 'ollama_host', 'docker', 'registry_api', 'harpa', 'openclaw'];
  const WORKER = ['worker_id', 'display_name', 'node_id', 'type', 'endpoint', 'priority', 'max_concurrent', 'models_available', 'task_types', 'enabled', 'notes'];
  const RULE = ['rule_id', 'description', 'task_types', 'preferred_workers', 'fallback', 'model_preference', 'notes'];
  const GLOBAL = ['default_timeout_s', 'max_retries', 'worker_selection_strategy', 'health_check_interval_s', 'offline_worker_retry_after_s', 'log_all_routing_decisions'];

  it('every field the consumers read is there', () => {
    expect(Object.keys(files.nodes_registry)).toEqual(['_meta', 'nodes']);
    expect(Object.keys(files.nodes_registry._meta)).toEqual(META);
    for (const n of files.nodes_registry.nodes) {
      expect(Object.keys(n)).toEqual(expect.arrayContaining(NODE));
      expect(Object.keys(n.hardware)).toEqual(HARDWARE);
      expect(Object.keys(n.network)).toEqual(NETWORK);
      expect(Object.keys(n.services)).toEqual(expect.arrayContaining(SERVICES));
    }
    expect(Object.keys(files.openclaw_workers)).toEqual(['_meta', 'workers', 'routing_rules', 'global_settings']);
    for (const w of files.openclaw_workers.workers) expect(Object.keys(w)).toEqual(WORKER);
    for (const r of files.openclaw_workers.routing_rules) expect(Object.keys(r)).toEqual(RULE);
    expect(Object.keys(files.openclaw_workers.global_settings)).toEqual(GLOBAL);
  });

  const doc = join(import.meta.dirname, '..', '..', '..', 'shared', 'reference', 'symphony-interfaces.md');
  it.skipIf(!existsSync(doc))('the lists above match the reference document', () => {
    const text = readFileSync(doc, 'utf8');
    const section = (title: string): string => {
      const start = text.indexOf(title);
      return text.slice(start, text.indexOf('\n## ', start + 1));
    };
    const firstColumn = (s: string): string[] => s.split('\n').filter((l) => /^\| [a-z_, ]+ \|/.test(l)).flatMap((l) => (l.split('|')[1] ?? '').split(',').map((x) => x.trim())).filter((x) => x !== 'field');
    const registry = section('## `nodes_registry.json`');
    expect(firstColumn(registry).sort()).toEqual([...NODE.filter((f) => f !== 'ip' && f !== 'hostname'), 'retired_date'].sort());
    const keysOf = (row: string): string[] => Object.keys(JSON.parse(/(\{.*\})/.exec(registry.split('\n').find((l) => l.startsWith(`| ${row} `)) ?? '')?.[1] ?? '{}') as object);
    expect(keysOf('hardware').sort()).toEqual([...HARDWARE].sort());
    expect(keysOf('network').sort()).toEqual([...NETWORK].sort());
    expect(keysOf('services').sort()).toEqual([...SERVICES, 'registry_api_port'].sort());
    for (const f of META) expect(registry).toContain(`\`${f}\``);
    const workers = section('## `openclaw_workers.json`');
    expect(firstColumn(workers).sort()).toEqual([...WORKER].sort());
    for (const f of [...RULE, ...GLOBAL]) expect(workers).toContain(`\`${f}\``);
  });
});

describe('writeGenerated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-generate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes both files (2 spaces, final newline), then nothing when unchanged', async () => {
    expect(await changedGenerated(dir, files)).toEqual(['nodes_registry.json', 'openclaw_workers.json']);
    expect(await writeGenerated(dir, files)).toEqual({ nodes_registry: true, openclaw_workers: true });
    const text = readFileSync(join(dir, 'nodes_registry.json'), 'utf8');
    expect(text).toBe(`${JSON.stringify(files.nodes_registry, null, 2)}\n`);
    expect(text.startsWith('{\n  "_meta": {\n    "description"')).toBe(true);
    const mtime = statSync(join(dir, 'openclaw_workers.json')).mtimeMs;
    expect(await writeGenerated(dir, files)).toEqual({ nodes_registry: false, openclaw_workers: false });
    expect(statSync(join(dir, 'openclaw_workers.json')).mtimeMs).toBe(mtime);
    expect(await changedGenerated(dir, files)).toEqual([]);
    expect(await readGenerated(dir)).toEqual(JSON.parse(JSON.stringify({ nodes_registry: files.nodes_registry, openclaw_workers: files.openclaw_workers })));
  });

  it('says which file changed', async () => {
    const next = generate(desired, observed.slice(0, 3), { lastUpdated: '2026-12-01', previous: await readGenerated(dir) });
    const result = await writeGenerated(dir, next);
    expect(result.nodes_registry || result.openclaw_workers).toBe(true);
  });

  it('refuses to write an invalid file, and writes nothing', async () => {
    const before = readFileSync(join(dir, 'openclaw_workers.json'), 'utf8');
    const bad = structuredClone(files);
    (bad.openclaw_workers.workers[0] as Record<string, unknown>).priority = 1000;
    await expect(writeGenerated(dir, bad)).rejects.toThrow(/do not match their schemas; nothing was written/);
    expect(readFileSync(join(dir, 'openclaw_workers.json'), 'utf8')).toBe(before);
  });

  it('reads past a half-edited file', async () => {
    writeFileSync(join(dir, 'nodes_registry.json'), '{"_meta": ');
    expect(Object.keys(await readGenerated(dir))).toEqual(['openclaw_workers']);
  });
});

describe('the real fleet/', () => {
  it('loads, generates valid files, and every routing rule names a generated worker', async () => {
    const loaded = await loadFleet(join(import.meta.dirname, '..', '..', 'fleet'), { today: '2026-11-24' });
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const d = loaded.desired;
    if (d === null) throw new Error('fleet/ did not load');
    const g = generate(d, [], OPTIONS);
    expect(validateGenerated(g)).toEqual([]);
    const ids = new Set(g.openclaw_workers.workers.map((w) => w.worker_id));
    for (const r of g.openclaw_workers.routing_rules) for (const w of [...r.preferred_workers, ...r.fallback]) expect(ids, `${r.rule_id} -> ${w}`).toContain(w);
  });
});
