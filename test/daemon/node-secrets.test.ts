// Bob's store of the nodes' heartbeat keys, and `fleet secret` on top of it:
// 0600 files in a 0700 directory, an id (never the key) in every output, and a
// rotation that keeps the old key accepted until the node holds the new one.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openNodeSecrets } from '../../reconciler/src/daemon/node-secrets.ts';
import { runFleet } from '../cli/run-fleet.ts';

const root = mkdtempSync(join(tmpdir(), 'fleet-secrets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('node secret store', () => {
  it('creates one key per node, 0600 in a 0700 directory; the plan sees only ids', async () => {
    const dir = join(root, 'a');
    const store = await openNodeSecrets(dir);
    expect(await store.ensure(['maestro', 'stagehand'])).toEqual(['maestro', 'stagehand']);
    expect(await store.ensure(['maestro'])).toEqual([]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'maestro.key')).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(dir, 'maestro.key'), 'utf8');
    expect(text).toMatch(/^[0-9a-f]{64}\n$/);
    const plan = store.planInput(['maestro']);
    expect(JSON.stringify(plan)).not.toContain(text.trim());
    expect(plan.maestro).toEqual({ key_id: expect.stringMatching(/^[0-9a-f]{64}$/), installed: null });
    expect(store.contentFor('maestro', plan.maestro!.key_id)).toBe(text);
    expect(store.contentFor('maestro', 'f'.repeat(64))).toBeUndefined();
  });

  it('rotation: both keys accepted until the new one is installed, then only the new one', async () => {
    const store = await openNodeSecrets(join(root, 'b'));
    await store.ensure(['maestro']);
    const old = store.current('maestro')!;
    await store.markInstalled('maestro', old.id);
    const id = await store.rotate('maestro');
    expect(store.keys('maestro').map((k) => k.toString('hex'))).toEqual([store.current('maestro')!.key.toString('hex'), old.key.toString('hex')]);
    await store.markInstalled('maestro', id);
    expect(store.keys('maestro')).toHaveLength(1);
    const reopened = await openNodeSecrets(join(root, 'b'));
    expect(reopened.installed('maestro')).toBe(id);
  });

  it('refuses a name that is not a node name (no path tricks)', async () => {
    const store = await openNodeSecrets(join(root, 'c'));
    await expect(store.ensure(['../evil'])).rejects.toThrow(/not a node name/);
    await expect(store.rotate('a/b')).rejects.toThrow(/not a node name/);
  });

  it('fleet secret rotate and list: ids only, never a key', async () => {
    const config = join(root, 'fleetd.yaml');
    writeFileSync(config, `secrets_dir: ${join(root, 'cli')}\n`);
    const rotated = await runFleet(['secret', 'rotate', 'maestro', '--config', config]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^maestro: new heartbeat key [0-9a-f]{12} in /);
    const key = readFileSync(join(root, 'cli', 'maestro.key'), 'utf8').trim();
    const listed = await runFleet(['secret', 'list', '--config', config]);
    expect(listed.stdout).toMatch(/maestro\s+key [0-9a-f]{12}\s+not installed yet/);
    expect(rotated.stdout + listed.stdout).not.toContain(key);
    expect((await runFleet(['secret', 'rotate', '../x', '--config', config])).code).toBe(1);
  }, 60_000);
});
