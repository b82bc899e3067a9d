// `fleet plan`, `fleet drift` and `fleet generate` as whole processes, offline
// against a snapshot of the real fleet/ (no node is contacted): formats and
// exit codes (0 no changes, 2 changes pending, 1 error).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Desired } from '../../reconciler/src/model/desired.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import { planSchema } from '../../reconciler/src/schema/plan.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { freshAs, provisioned } from './build-observed.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'reconciler', 'src', 'cli', 'main.ts');
const run = promisify(execFile);

const work = mkdtempSync(join(tmpdir(), 'fleet-plan-cli-'));
const fleetDir = join(work, 'fleet');
const out = join(work, 'generated');
const snapshot = join(work, 'observed.json');
let converged: ObservedNode[] = [];

async function fleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(NODE, [MAIN, ...args], { cwd: work, env: { ...process.env, FLEET_LOOPBACK_ONLY: '1', NO_COLOR: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const writeSnapshot = (nodes: ObservedNode[]): void => writeFileSync(snapshot, `${JSON.stringify(nodes, null, 2)}\n`);

beforeAll(async () => {
  cpSync(join(ROOT, 'fleet'), fleetDir, { recursive: true });
  const loaded = await loadFleet(fleetDir);
  const desired: Desired | null = loaded.desired;
  if (desired === null) throw new Error(`fleet/ does not load: ${JSON.stringify(loaded.problems)}`);
  const options = { prune: false, registryUrl: `http://${desired.settings.network.bob_address}:${desired.settings.network.registry_api_port}`, today: '2026-11-24' };
  converged = desired.nodes.map((n) => provisioned(desired, freshAs(desired, n.name), options));
  writeSnapshot(converged);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fleet plan --offline', () => {
  it('a converged fleet whose generated files are current: no changes, exit 0', async () => {
    const gen = await fleet('generate', '--fleet', fleetDir, '--out', out, '--snapshot', snapshot);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toContain('nodes_registry.json: written');
    const check = await fleet('generate', '--fleet', fleetDir, '--out', out, '--snapshot', snapshot, '--check');
    expect(check.code).toBe(0);
    const r = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('No changes: the fleet matches fleet/.');
  });

  it('a deleted model: the pull is planned, exit 2; the generated files would change too', async () => {
    const drifted = structuredClone(converged);
    const maestro = drifted.find((o) => o.node === 'maestro');
    maestro!.facts!.ollama.models = maestro!.facts!.ollama.models.filter((m) => m.name !== 'mistral:7b');
    writeSnapshot(drifted);
    const r = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('pull-model  Pull the model mistral:7b');
    expect(r.stdout).toContain('write-generated');
    const check = await fleet('generate', '--fleet', fleetDir, '--out', out, '--snapshot', snapshot, '--check');
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('would change nodes_registry.json, openclaw_workers.json');
    const oneNode = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out, '--node', 'maestro', '--format', 'json');
    const doc = JSON.parse(oneNode.stdout) as { nodes: { node: string; steps: { id: string }[] }[]; fleet: unknown[] };
    expect(doc.nodes.map((n) => n.node)).toEqual(['maestro']);
    expect(doc.nodes[0]?.steps.map((s) => s.id)).toEqual(['maestro/pull-model/mistral:7b']);
    expect(doc.fleet).toEqual([]);
  });

  it('markdown for the pull request comment starts with the hidden marker', async () => {
    const r = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out, '--format', 'markdown');
    expect(r.stdout.startsWith('<!-- symphony-fleet-plan -->\n### Fleet plan\n')).toBe(true);
    expect(r.stdout).toContain('| maestro | 🔧 drifted | 1 | 0 |');
  });

  it('json validates against the plan schema', async () => {
    const r = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out, '--format', 'json');
    const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(planSchema);
    expect(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('hardware that is not what fleet/ says: exit 1', async () => {
    const wrong = structuredClone(converged);
    wrong.find((o) => o.node === 'bob')!.facts!.hardware.ram_bytes = 8 * 2 ** 30;
    writeSnapshot(wrong);
    const r = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('bob  unknown-hardware  hardware differs from the declared mac-mini-m4-16gb: RAM 8 GB (declared 16 GB)');
  });

  it('drift: one line per node, then the details', async () => {
    const r = await fleet('drift', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--out', out);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^bob\s+unknown-hardware\s+1 difference: hardware$/);
    expect(lines[1]).toMatch(/^maestro\s+in-sync\s+in sync$/);
    expect(r.stdout).toContain('bob:\n  hardware: RAM 8 GB (declared 16 GB) (want Mac mini M4, Apple M4, 16 GB, arm64)');
  });

  it('an unknown --node is an error', async () => {
    const r = await fleet('plan', '--offline', '--fleet', fleetDir, '--snapshot', snapshot, '--node', 'virtuosso');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no node named virtuosso');
  });

  it('an invalid fleet is refused with its problems, before anything is read or contacted', async () => {
    const broken = join(work, 'broken-fleet');
    cpSync(fleetDir, broken, { recursive: true });
    writeFileSync(join(broken, 'nodes', 'maestro.yaml'), readFileSync(join(broken, 'nodes', 'maestro.yaml'), 'utf8').replace('role: llm_worker', 'role: llm_wroker'));
    const r = await fleet('plan', '--fleet', broken, '--snapshot', snapshot);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('maestro.yaml');
    expect(r.stderr).toContain('is not valid');
    const g = await fleet('generate', '--fleet', broken, '--out', join(work, 'never'));
    expect(g.code).toBe(1);
  });
});
