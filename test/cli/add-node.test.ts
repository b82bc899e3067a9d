// `fleet add-node` writes the file a pull request adds, or refuses and writes
// nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFleetDir, runFleet } from './run-fleet.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function fleet(from: 'fleet' | 'grown' = 'fleet', fixture?: string): string {
  const f = makeFleetDir(from, fixture);
  cleanup = f.cleanup;
  return f.dir;
}

describe('fleet add-node', () => {
  it('writes a commented node file that validates, then refuses the same name again', async () => {
    const dir = fleet();
    const r = await runFleet(['add-node', 'virtuoso', '--hardware', 'mac-mini-m4-pro-48gb', '--role', 'full_worker', '--models', 'codestral:22b', '--address', 'virtuoso.local', '--address', '192.168.1.40', '--today', '2026-11-24'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote fleet/nodes/virtuoso.yaml');
    expect(r.stdout).toMatch(/fits: codestral:22b \+ llama3\.1:8b need ~18\.7 GB of ~36\.0 GB usable/);
    const text = readFileSync(join(dir, 'fleet', 'nodes', 'virtuoso.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/node.schema.json');
    expect(text).toMatch(/^hardware: mac-mini-m4-pro-48gb\s+# Mac mini M4 Pro, 48 GB RAM/m);
    expect(text).toContain('  - codestral:22b');
    expect(text).toContain('status: planned');
    expect(text).toContain('added: 2026-11-24');
    const v = await runFleet(['validate', 'fleet'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('(4 nodes): valid');

    const again = await runFleet(['add-node', 'virtuoso', '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('--role-models replace writes a node serving only its own models, which then fits a 16 GB laptop', async () => {
    const dir = fleet();
    const r = await runFleet(['add-node', 'tempo', '--hardware', 'macbook-pro-14-m4-16gb', '--role', 'llm_worker', '--role-models', 'replace', '--models', 'llama3.2:3b', '--presence', 'roaming', '--address', 'tempo.local', '--address', '100.101.102.103', '--today', '2026-11-24'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('models: llama3.2:3b\n');
    const text = readFileSync(join(dir, 'fleet', 'nodes', 'tempo.yaml'), 'utf8');
    expect(text).toContain("# The role's base models (llama3.1:8b, mistral:7b, nomic-embed-text) are not pulled: models below is the whole list.\nrole_models: replace\n");
    expect(text).toContain('models:\n  - llama3.2:3b\n');
    expect(text).toContain('added: 2026-11-24');
    const v = await runFleet(['validate', 'fleet'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).not.toContain('near-limit');
  });

  it.each([
    ['an uppercase name', ['Virtuoso', '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker'], /"Virtuoso" is not a valid node name\. Use "virtuoso"/],
    ['a path instead of a name', ['../../etc/x', '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker'], /is not a valid node name/],
    ['a model that does not fit', ['tempo', '--hardware', 'mac-mini-m4-16gb', '--role', 'llm_worker', '--models', 'codestral:22b'], /model-fit: .*need ~18\.7 GB; tempo \(Mac mini M4, 16 GB\) gives models ~10\.7 GB/],
    ['unknown hardware', ['tempo', '--hardware', 'mac-mini-m5', '--role', 'full_worker'], /unknown-hardware/],
    ['an LLM role on 8 GB', ['tempo', '--hardware', 'imac-intel-i5-8gb', '--role', 'llm_worker'], /llm-min-ram/],
    ['an address in use', ['tempo', '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker', '--address', '192.168.1.20'], /duplicate-address: Address 192\.168\.1\.20 is also used by maestro/],
    ['shell text in a model', ['tempo', '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker', '--models', 'mistral:7b;reboot'], /schema: models\[0\]/],
  ])('refuses %s and writes nothing', async (_label, args, message) => {
    const dir = fleet();
    const before = readdirSync(join(dir, 'fleet', 'nodes')).sort();
    const r = await runFleet(['add-node', ...args, '--today', '2026-11-24'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(join(dir, 'fleet', 'nodes')).sort()).toEqual(before);
  });

  it('refuses a name retired less than six months ago, and allows it after', async () => {
    const dir = fleet('fleet', 'name-reuse');
    // The fixture's overlay already holds virtuoso.yaml; use its retired name for a fresh node file.
    const retiredName = 'virtuoso';
    const nodes = join(dir, 'fleet', 'nodes');
    const { rmSync } = await import('node:fs');
    rmSync(join(nodes, `${retiredName}.yaml`));
    const early = await runFleet(['add-node', retiredName, '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker', '--today', '2026-11-24'], { cwd: dir });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/name-reuse: .*from 2027-03-01/);
    expect(existsSync(join(nodes, `${retiredName}.yaml`))).toBe(false);
    const later = await runFleet(['add-node', retiredName, '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker', '--today', '2027-03-01'], { cwd: dir });
    expect(later.code).toBe(0);
  });

  it('warns about a name outside the orchestral list but writes the file', async () => {
    const dir = fleet();
    const r = await runFleet(['add-node', 'node-7', '--hardware', 'mac-mini-m4-24gb', '--role', 'full_worker', '--address', '192.168.1.47'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning orchestral-name: node-7 is not from the orchestral naming list/);
    expect(existsSync(join(dir, 'fleet', 'nodes', 'node-7.yaml'))).toBe(true);
  });

  it('has --help listing its options', async () => {
    const r = await runFleet(['add-node', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--hardware <id>', '--role <role>', '--models <list>', '--address <address>', '--fleet <dir>']) expect(r.stdout).toContain(flag);
  });
});
