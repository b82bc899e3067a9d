// fleet import: the hand-kept files -> fleet/ -> generate -> the same files,
// with everything that differs reported field by field. Round trips on the
// reference's example fleet and on nine hand-drifted nodes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, type GeneratedFiles } from '../../reconciler/src/generate/generate.ts';
import { validateGenerated } from '../../reconciler/src/generate/validate-generated.ts';
import { formatGenerated } from '../../reconciler/src/generate/write-generated.ts';
import { compareRegenerated, type RegeneratedChange } from '../../reconciler/src/import/compare-regenerated.ts';
import { importFleet, normalizeHardwareText, type ImportBase, type ImportResult } from '../../reconciler/src/import/import-fleet.ts';
import { readHandwritten } from '../../reconciler/src/import/read-handwritten.ts';
import { replaceYamlValue, writeImport } from '../../reconciler/src/import/write-import.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import { runFleet } from '../cli/run-fleet.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const baseDir = join(fixtures, 'fleets', 'base');
const TODAY = '2026-11-24';
const work = mkdtempSync(join(tmpdir(), 'fleet-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let base: ImportBase;
beforeAll(async () => {
  const loaded = await loadFleet(baseDir, { today: TODAY });
  if (!loaded.desired) throw new Error('the base fleet must load');
  base = { settings: loaded.desired.settings, roles: loaded.desired.roles, hardware: loaded.desired.hardware, models: loaded.desired.models };
});

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

interface RoundTrip {
  result: ImportResult;
  regenerated: GeneratedFiles;
  changes: RegeneratedChange[];
  problems: Awaited<ReturnType<typeof loadFleet>>['problems'];
  out: string;
}

/** Import into a fresh directory, load what was written, generate for the nodes as claimed, compare. */
async function roundTrip(registry: unknown, workers: unknown, name: string): Promise<RoundTrip> {
  const out = join(work, name);
  const result = importFleet(readHandwritten(registry, workers), base, TODAY);
  await writeImport(out, baseDir, base, result, TODAY);
  const loaded = await loadFleet(out, { today: TODAY });
  if (!loaded.desired) throw new Error(`${name}: the imported fleet does not load:\n${loaded.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}: ${p.message}`).join('\n')}`);
  const regenerated = generate(loaded.desired, result.claimed, { lastUpdated: TODAY });
  return { result, regenerated, changes: compareRegenerated(registry, workers, regenerated, result.reasons), problems: loaded.problems, out };
}

const paths = (changes: readonly RegeneratedChange[]): string[] => changes.map((c) => `${c.file} ${c.path}`).sort();

describe('the reference fleet (shared/reference/symphony-interfaces.md)', () => {
  const dir = join(fixtures, 'import', 'reference-fleet');
  let rt: RoundTrip;
  beforeAll(async () => {
    rt = await roundTrip(readJson(join(dir, 'nodes_registry.json')), readJson(join(dir, 'openclaw_workers.json')), 'reference');
  });

  it('carries everything over and writes a valid fleet', () => {
    expect(rt.result.notes).toEqual([]);
    expect(rt.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(validateGenerated(rt.regenerated)).toEqual([]);
  });

  it('regenerates the files: only _meta and the catalog\'s wording of the hardware differ, each with why', () => {
    expect(paths(rt.changes)).toEqual([
      'nodes_registry.json _meta',
      'nodes_registry.json nodes[bob].hardware.model',
      'nodes_registry.json nodes[bob].hardware.notes',
      'nodes_registry.json nodes[maestro].hardware.cpu',
      'nodes_registry.json nodes[maestro].hardware.notes',
      'nodes_registry.json nodes[stagehand].hardware.notes',
      'openclaw_workers.json _meta',
    ]);
    const cpu = rt.changes.find((c) => c.path === 'nodes[maestro].hardware.cpu');
    expect(cpu).toMatchObject({ before: 'Intel Core i9-9900K', after: 'Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz' });
    expect(cpu?.why).toContain('sysctl -n machdep.cpu.brand_string');
  });

  it('writes node files that say what the files said', () => {
    const maestro = readFileSync(join(rt.out, 'nodes', 'maestro.yaml'), 'utf8');
    expect(maestro).toContain('hardware: imac-27-2019-i9-64gb');
    expect(maestro).toContain('added: 2026-01-12');
    expect(maestro).toMatch(/models:\n {2}- llama3\.1:70b\n/);
    // max_concurrent 1 is what generate derives from llama3.1:70b: not written.
    expect(maestro).not.toContain('max_concurrent');
    expect(maestro).toContain('notes: "Intel, CPU only: slow, but holds llama3.1:70b."');
  });

  it('edits fleet.yaml in place: the only change is what the files said differently', () => {
    const before = readFileSync(join(baseDir, 'fleet.yaml'), 'utf8');
    const after = readFileSync(join(rt.out, 'fleet.yaml'), 'utf8');
    // code_route had notes in the base fleet; the hand-written file has none.
    expect(after).toBe(before.replace('      notes: Prefer codestral:22b once a 24 GB or larger Apple Silicon node serves it.\n', ''));
  });
});

describe('nine nodes with hand-drifted entries', () => {
  const dir = join(fixtures, 'import', 'nine-nodes-hand-drifted');
  const registry = readJson(join(dir, 'nodes_registry.json'));
  const workers = readJson(join(dir, 'openclaw_workers.json'));
  let rt: RoundTrip;
  beforeAll(async () => {
    rt = await roundTrip(registry, workers, 'nine');
  });

  it('writes a valid fleet of nine nodes', () => {
    expect(rt.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(rt.result.nodes.map((n) => n.name)).toEqual(['bob', 'cadence', 'crescendo', 'harmony', 'maestro', 'soloist', 'stagehand', 'tempo', 'virtuoso']);
    expect(validateGenerated(rt.regenerated)).toEqual([]);
  });

  it('says, field by field, what it could not carry over as written', () => {
    const notes = rt.result.notes.map((n) => `${n.file} ${n.path}`);
    expect(notes).toEqual(expect.arrayContaining([
      'openclaw_workers.json workers[maestro_ollama].models',
      'openclaw_workers.json workers[maestro_ollama].health_check',
      'openclaw_workers.json workers[bob_ollama].capabilities',
      'openclaw_workers.json workers[virtuoso_ollama].status',
      'openclaw_workers.json workers[virtuoso_ollama].type',
      'openclaw_workers.json workers[tempo_ollama].fallback_endpoint',
      'openclaw_workers.json workers[anthropic_fallback]',
      'openclaw_workers.json global_settings.retry_backoff_s',
      'nodes_registry.json nodes[harmony].location',
      'nodes_registry.json nodes[harmony].network.mac_address',
      'nodes_registry.json nodes[harmony].status',
      'nodes_registry.json nodes[harmony].added_date',
      'nodes_registry.json nodes[bob].network.ip',
      'nodes_registry.json nodes[crescendo].hardware',
    ]));
    expect(rt.result.notes.find((n) => n.path === 'workers[maestro_ollama].models')?.message).toBe('hand-drifted `models`: read as models_available');
  });

  it('regenerates equivalent files: exactly these fields change, each with why', () => {
    expect(paths(rt.changes)).toEqual([
      'nodes_registry.json _meta',
      'nodes_registry.json nodes[bob].network.ip',
      'nodes_registry.json nodes[harmony].added_date',
      'nodes_registry.json nodes[harmony].hostname',
      'nodes_registry.json nodes[harmony].network.hostname',
      'nodes_registry.json nodes[harmony].network.mac_address',
      'nodes_registry.json nodes[harmony].status',
      'nodes_registry.json nodes[stagehand].services.harpa',
      'openclaw_workers.json _meta',
      'openclaw_workers.json global_settings.retry_backoff_s',
      'openclaw_workers.json routing_rules[reasoning_route].fallback',
      'openclaw_workers.json workers[anthropic_fallback]',
      'openclaw_workers.json workers[cadence_harpa]',
      'openclaw_workers.json workers[cadence_ollama]',
      'openclaw_workers.json workers[crescendo_harpa]',
      'openclaw_workers.json workers[soloist_ollama].models_available',
      'openclaw_workers.json workers[stagehand_harpa].notes',
      'openclaw_workers.json workers[virtuoso_ollama].type',
    ]);
    const soloist = rt.changes.find((c) => c.path === 'workers[soloist_ollama].models_available');
    expect(soloist).toMatchObject({ before: ['llama3.1:8b', 'mistral:7b', 'codestral:22b'], after: ['llama3.1:8b', 'mistral:7b'] });
    expect(soloist?.why).toBe('codestral:22b is not in soloist\'s models_loaded: a worker lists only models observed on its node');
    expect(rt.changes.find((c) => c.path === 'nodes[stagehand].services.harpa')?.why).toBe('a retired node runs nothing');
    for (const c of rt.changes) expect(c.why, c.path).not.toBe('');
  });

  it('expresses the drifted fleet as the fleet model: replaced models, extra workers, renamed default workers', () => {
    const node = (name: string) => rt.result.nodes.find((n) => n.name === name);
    expect(node('tempo')).toMatchObject({ role_models: 'replace', models: ['llama3.2:3b'], addresses: ['tempo.local', '192.168.1.60', '100.101.102.103'] });
    expect(node('bob')?.workers).toEqual([{ id: 'bob_ollama', type: 'ollama_remote', task_types: ['summarize', 'write', 'qa', 'analyze'], models: ['llama3.1:8b', 'llama3.2:3b'], display_name: 'Bob (network)', priority: 95, max_concurrent: 2, notes: 'Bob\'s Ollama for the rest of the network.' }]);
    expect(node('maestro')?.workers).toEqual([{ id: 'maestro_harpa', type: 'harpa_grid', task_types: ['scrape'], priority: 60, notes: 'Chrome is open on Maestro anyway.' }]);
    expect(node('crescendo')?.openclaw).toMatchObject({ worker_id: 'crescendo_big', display_name: 'Crescendo (70B)', priority: 95 });
    expect(node('crescendo')?.hardware).toBe('mac-pro-2023-192gb');
    expect(node('stagehand')).toMatchObject({ status: 'retired', retired: '2026-10-01' });
    expect(readFileSync(join(rt.out, 'catalog', 'hardware.yaml'), 'utf8')).toContain('  mac-pro-2023-192gb:\n    model: Mac Pro (2023)\n    chip: Apple M2 Ultra\n');
  });

  it('is a fixed point: importing the regenerated files changes nothing', async () => {
    const again = await roundTrip(JSON.parse(formatGenerated(rt.regenerated.nodes_registry)), JSON.parse(formatGenerated(rt.regenerated.openclaw_workers)), 'nine-again');
    expect(again.changes).toEqual([]);
    expect(formatGenerated(again.regenerated.openclaw_workers)).toBe(formatGenerated(rt.regenerated.openclaw_workers));
    expect(formatGenerated(again.regenerated.nodes_registry)).toBe(formatGenerated(rt.regenerated.nodes_registry));
  });
});

describe('fleet import (CLI)', () => {
  it('writes fleet/ from the files and prints what it could not express and what will change', async () => {
    const cwd = join(work, 'cli');
    mkdirSync(cwd, { recursive: true });
    cpSync(baseDir, join(cwd, 'fleet'), { recursive: true });
    const dir = join(fixtures, 'import', 'nine-nodes-hand-drifted');
    const r = await runFleet(['import', '--registry', join(dir, 'nodes_registry.json'), '--workers', join(dir, 'openclaw_workers.json'), '--today', TODAY], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported 9 nodes into fleet\/: wrote 11 files; new hardware entries: mac-pro-2023-192gb\n/);
    expect(r.stdout).toContain('Not carried over as written (');
    expect(r.stdout).toContain('  openclaw_workers.json workers[maestro_ollama].models: hand-drifted `models`: read as models_available\n');
    expect(r.stdout).toContain('Regenerating the files from fleet/ will change (18)');
    expect(r.stdout).toContain('  openclaw_workers.json workers[soloist_ollama].models_available: ["llama3.1:8b","mistral:7b","codestral:22b"] -> ["llama3.1:8b","mistral:7b"]: codestral:22b is not in soloist\'s models_loaded');
    expect(r.stdout).toContain('fleet (9 nodes): valid, 0 errors');
    const v = await runFleet(['validate', 'fleet', '--today', TODAY], { cwd });
    expect(v.code).toBe(0);
    const json = await runFleet(['import', '--registry', join(dir, 'nodes_registry.json'), '--workers', join(dir, 'openclaw_workers.json'), '--today', TODAY, '--format', 'json'], { cwd });
    const parsed = JSON.parse(json.stdout) as { changes: unknown[]; notes: unknown[]; problems: unknown[] };
    expect(parsed.changes).toHaveLength(18);
  });

  it('refuses files that are not JSON, and writes nothing', async () => {
    const cwd = join(work, 'cli-bad');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, 'reg.json'), '{"nodes": [');
    writeFileSync(join(cwd, 'workers.json'), '{}');
    const r = await runFleet(['import', '--registry', 'reg.json', '--workers', 'workers.json', '--out', 'fleet'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reg\.json is not JSON/);
  });
});

describe('helpers', () => {
  it('replaceYamlValue changes one value and keeps every comment and alignment', () => {
    const text = 'a:\n  b: 1     # keep\n  list: [x, y]  # also\n  rules:\n    - id: 1\n      l: [a]\n    - id: 2\n  c: 3\n';
    expect(replaceYamlValue(text, ['a', 'b'], 2)).toBe(text.replace('b: 1 ', 'b: 2 '));
    expect(replaceYamlValue(text, ['a', 'list'], ['z'])).toBe(text.replace('[x, y]', '[z]'));
    expect(replaceYamlValue(text, ['a', 'rules'], [{ id: 3, l: ['q', 'r'] }])).toBe('a:\n  b: 1     # keep\n  list: [x, y]  # also\n  rules:\n    - id: 3\n      l: [q, r]\n  c: 3\n');
    expect(replaceYamlValue(text, ['a', 'c'], 3)).toBe(text);
  });

  it('the sysctl and the marketing wording of a chip compare equal', () => {
    expect(normalizeHardwareText('Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz')).toBe(normalizeHardwareText('Intel Core i9-9900K'));
    expect(normalizeHardwareText('Mac Mini M4')).toBe(normalizeHardwareText('Mac mini M4'));
    expect(normalizeHardwareText('Apple M4 Pro')).not.toBe(normalizeHardwareText('Apple M4'));
  });
});
