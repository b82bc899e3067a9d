import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetError } from '../../reconciler/src/errors.ts';
import { loadFleet, loadFleetFromFiles, readFleetFiles } from '../../reconciler/src/load/load-fleet.ts';
import type { FleetFile } from '../../reconciler/src/load/load-fleet.ts';

const repo = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fleet-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copyOfFleet(name: string): string {
  const dir = join(work, name);
  cpSync(join(repo, 'fleet'), join(dir, 'fleet'), { recursive: true });
  return dir;
}

describe('loadFleet on fleet/', () => {
  it('loads the real network with defaults filled and models normalised', async () => {
    const { desired, problems } = await loadFleet('fleet', { cwd: repo, today: '2026-11-24' });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    if (!desired) throw new Error('no desired');
    expect(desired.nodes.map((n) => n.name)).toEqual(['bob', 'maestro', 'stagehand']);
    expect(desired.nodes.map((n) => n.addresses[1])).toEqual(['192.168.1.10', '192.168.1.20', '192.168.1.30']);
    expect(desired.nodes[0]?.presence).toBe('always_on'); // schema default
    expect(Object.keys(desired.models)).toContain('nomic-embed-text:latest');
    expect(desired.settings.ollama.env).toMatchObject({ OLLAMA_CONTEXT_LENGTH: 4096, OLLAMA_NUM_PARALLEL: 1, OLLAMA_MAX_LOADED_MODELS: 2 });
    expect(desired.settings.network.bob_address).toBe('192.168.1.10');
    expect(Object.keys(desired.roles).sort()).toEqual(['browser_node', 'full_worker', 'hq', 'llm_worker']);
    expect(desired.knownHosts).toContain('known_hosts format');
    expect(desired.hardware['imac-27-2019-i9-64gb']).toMatchObject({ ram_gb: 64, metal: false, architecture: 'x86_64' });
  });

  it('names files relative to the working directory, or absolutely outside it', async () => {
    const dir = copyOfFleet('paths');
    writeFileSync(join(dir, 'fleet', 'nodes', 'junk.txt'), 'x\n');
    const inside = await loadFleet('fleet', { cwd: dir, today: '2026-11-24' });
    expect(inside.problems.find((p) => p.rule === 'unknown-file')?.file).toBe('fleet/nodes/junk.txt');
    const outside = await loadFleet(join(dir, 'fleet'), { cwd: repo, today: '2026-11-24' });
    expect(outside.problems.find((p) => p.rule === 'unknown-file')?.file).toBe(join(dir, 'fleet', 'nodes', 'junk.txt'));
  });

  it('refuses a missing directory with a FleetError', async () => {
    await expect(loadFleet('no-such-fleet', { cwd: work })).rejects.toBeInstanceOf(FleetError);
  });

  it('does not follow symbolic links and ignores Finder litter', async () => {
    const dir = copyOfFleet('links');
    symlinkSync('/etc/passwd', join(dir, 'fleet', 'nodes', 'passwd.yaml'));
    writeFileSync(join(dir, 'fleet', 'nodes', '.DS_Store'), Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]));
    const r = await loadFleet('fleet', { cwd: dir, today: '2026-11-24' });
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => `${p.rule} ${p.file}`)).toEqual(['unknown-file fleet/nodes/passwd.yaml']);
    expect(r.desired).toBeNull();
  });
});

describe('loadFleetFromFiles', () => {
  it('works on plain data (a git revision) with any root, and keeps the fleet as far as it loaded', async () => {
    const read = await readFleetFiles('fleet', { cwd: repo });
    const bare: FleetFile[] = read.files.map((f) => ({ path: f.path.replace(/^fleet\//, ''), text: f.text }));
    const extra = { path: 'nodes/virtuoso.yaml', text: 'name: virtuoso\nrole: full_worker\nhardware: mac-mini-m4-16gb\naddresses: [virtuoso.local]\nstatus: planned\nmodels: [llama3.1:70b]\n' };
    const r = loadFleetFromFiles([...bare, extra], { root: '', today: '2026-11-24' });
    expect(r.desired).toBeNull();
    expect(r.partial?.nodes.map((n) => n.name)).toEqual(['bob', 'maestro', 'stagehand', 'virtuoso']);
    const fit = r.problems.find((p) => p.rule === 'model-fit');
    expect(fit).toMatchObject({ file: 'nodes/virtuoso.yaml', line: 6, col: 10, severity: 'error' });
    expect(fit?.message).toMatch(/llama3\.1:70b .*need ~\d+\.\d GB; virtuoso \(Mac mini M4, 16 GB\) gives models ~10\.7 GB/);
  });

  it('sorts problems by file and position', () => {
    const files: FleetFile[] = [
      { path: 'fleet/nodes/b.yaml', text: 'name: B\n' },
      { path: 'fleet/nodes/a.yaml', text: 'name: a\nname: a\n' },
    ];
    const r = loadFleetFromFiles(files, { today: '2026-11-24' });
    const keys = r.problems.map((p) => `${p.file}:${String(p.line).padStart(4, '0')}:${String(p.col).padStart(4, '0')}`);
    expect(keys).toEqual([...keys].sort());
    expect(r.problems.map((p) => p.rule)).toEqual(expect.arrayContaining(['missing-file', 'duplicate-key', 'schema']));
  });

  it('reports a file outside the fleet directory', () => {
    const r = loadFleetFromFiles([{ path: 'elsewhere/x.yaml', text: 'a: 1\n' }], { today: '2026-11-24' });
    expect(r.problems.find((p) => p.file === 'elsewhere/x.yaml')?.rule).toBe('unknown-file');
  });

  it('judges a file by its real size when the reader cut it short', () => {
    const r = loadFleetFromFiles([{ path: 'fleet/nodes/x.yaml', text: 'name: x\n', size: 10_000_000 }], { today: '2026-11-24' });
    expect(r.problems.find((p) => p.file === 'fleet/nodes/x.yaml')?.rule).toBe('file-too-large');
  });

  it('refuses a fleet.yaml that moves known_hosts: the pins are always fleet/known_hosts (issue 11)', async () => {
    const read = await readFleetFiles('fleet', { cwd: repo });
    const files = read.files.map((f) => (f.path === 'fleet/fleet.yaml' ? { ...f, text: readFileSync(join(repo, 'fleet', 'fleet.yaml'), 'utf8').replace('  key_path:', '  known_hosts: pinned_hosts\n  key_path:') } : f.path === 'fleet/known_hosts' ? { ...f, path: 'fleet/pinned_hosts' } : f));
    const r = loadFleetFromFiles(files, { today: '2026-11-24' });
    const errors = r.problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.file} ${p.rule}`).sort()).toEqual(['fleet/fleet.yaml schema', 'fleet/pinned_hosts unknown-file']);
    expect(errors.find((p) => p.rule === 'schema')?.message).toMatch(/ssh\.known_hosts is "pinned_hosts"; the only value accepted is "known_hosts"/);
  });
});
