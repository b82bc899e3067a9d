// The local token: created once, 0600 in a 0700 directory, checked in constant
// time; a file that is not a token is refused with what to do.
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalToken } from '../../reconciler/src/daemon/local-token.ts';

const dir = mkdtempSync(join(tmpdir(), 'fleet-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openLocalToken', () => {
  it('creates a 64-hex-digit token 0600 in a 0700 directory, and reads the same one again', async () => {
    const file = join(dir, 'home', '.symphony', 'fleetd.token');
    const token = await openLocalToken(file);
    const text = readFileSync(file, 'utf8').trim();
    expect(text).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'home', '.symphony')).mode & 0o777).toBe(0o700);
    expect(token.check(text)).toBe(true);
    expect(token.check(`${text}\n`)).toBe(true);
    for (const bad of [undefined, '', text.slice(1), text.toUpperCase().replace(/[0-9]/g, 'z'), 'x'.repeat(10_000)]) expect(token.check(bad)).toBe(false);
    expect((await openLocalToken(file)).check(text)).toBe(true);
  });

  it('tightens a readable file to 0600, and refuses a link or a file that is not a token', async () => {
    const loose = join(dir, 'loose.token');
    writeFileSync(loose, `${'a'.repeat(64)}\n`);
    chmodSync(loose, 0o644);
    await openLocalToken(loose);
    expect(statSync(loose).mode & 0o777).toBe(0o600);
    const link = join(dir, 'link.token');
    symlinkSync(loose, link);
    await expect(openLocalToken(link)).rejects.toThrow(/not a plain file.*Remove it and restart/);
    const junk = join(dir, 'junk.token');
    writeFileSync(junk, 'hunter2\n');
    await expect(openLocalToken(junk)).rejects.toThrow(/does not hold a local token/);
  });
});
