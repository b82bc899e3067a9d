// The observed snapshot: stable (volatile values dropped, keys and lists
// sorted), validated, written atomically, untouched when no fact changed.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot, stableJson, toSnapshot, writeSnapshot } from '../../reconciler/src/observe/snapshot.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';

function observed(name: string, over: { at?: string; pid?: number | null; free?: number; duration?: number } = {}): ObservedNode {
  return {
    node: name,
    observed_at: over.at ?? '2026-11-24T10:00:00.000Z',
    duration_ms: over.duration ?? 120,
    reach: { status: 'ok', address: '127.0.0.1', attempts: [{ address: '127.0.0.1', result: 'ok' }] },
    facts: {
      hostnames: { computer_name: 'Virtuoso', host_name: name, local_host_name: name },
      os: { product_version: '14.5', build_version: '23F79' },
      hardware: { architecture: 'arm64', chip: 'Apple M4', ram_bytes: 25769803776, ncpu: 10 },
      disk: { total_bytes: 494384795648, available_bytes: over.free ?? 265144725504, models_bytes: 5195055778 },
      brew: { prefix: '/opt/homebrew', formulae: { ollama: '0.12.6' }, casks: { 'google-chrome': '1', docker: '4' } },
      ollama: {
        cli_version: '0.12.6', local: { up: true, version: '0.12.6' }, external: { up: true, url: 'http://127.0.0.1:1' },
        models: [{ name: 'nomic-embed-text:latest', digest: 'b'.repeat(64), size: 2 }, { name: 'llama3.1:8b', digest: 'a'.repeat(64), size: 1 }],
        loaded: [],
      },
      files: { ollama_env: { sha256: 'c'.repeat(64), size: 3 }, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null },
      launchd: { ollama: { loaded: true, pid: over.pid === undefined ? 512 : over.pid, last_exit: 0 } },
      crontab: { lines: [] },
      sudo: true,
      ip: '192.168.1.42',
    },
  };
}

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'fleet-snap-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

describe('toSnapshot', () => {
  it('drops duration and pid (keeping whether the agent runs), coarsens free disk, sorts nodes and models', () => {
    const [a, b] = toSnapshot([observed('virtuoso'), observed('cadence', { pid: null })]);
    expect(a?.node).toBe('cadence');
    expect(b?.duration_ms).toBeUndefined();
    expect(b?.facts?.launchd.ollama).toEqual({ loaded: true, pid: null, last_exit: 0, running: true });
    expect(a?.facts?.launchd.ollama.running).toBe(false);
    expect(b?.facts?.disk.available_bytes).toBe(265_000_000_000);
    expect(b?.facts?.ollama.models.map((m) => m.name)).toEqual(['llama3.1:8b', 'nomic-embed-text:latest']);
  });
  it('does not modify its input', () => {
    const input = observed('virtuoso');
    toSnapshot([input]);
    expect(input.duration_ms).toBe(120);
    expect(input.facts?.launchd.ollama.pid).toBe(512);
  });
  it('keeps unreachable nodes as they are, without facts', () => {
    const down: ObservedNode = { node: 'maestro', observed_at: 'x', reach: { status: 'unreachable', message: 'refused', attempts: [] } };
    expect(toSnapshot([down])).toEqual([down]);
  });
});

describe('writeSnapshot / readSnapshot', () => {
  it('round-trips, with sorted keys', async () => {
    const file = join(dir, 'generated', 'observed.json');
    const returned = await writeSnapshot(file, [observed('virtuoso')]);
    const text = readFileSync(file, 'utf8');
    expect(returned).toBe(text);
    expect(text).toBe(stableJson(toSnapshot([observed('virtuoso')])));
    expect(text.indexOf('"docker"')).toBeLessThan(text.indexOf('"google-chrome"'));
    expect(await readSnapshot(file)).toEqual(toSnapshot([observed('virtuoso')]));
  });

  it('leaves the file untouched when only volatile values changed', async () => {
    const file = join(dir, 'observed.json');
    await writeSnapshot(file, [observed('virtuoso')]);
    const first = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const unchanged = await writeSnapshot(file, [observed('virtuoso', { at: '2026-11-24T10:01:00.000Z', pid: 999, duration: 87, free: 265144000000 })]);
    expect(unchanged).toBe(first);
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });

  it('rewrites, with the new time, when a fact changed', async () => {
    const file = join(dir, 'observed.json');
    await writeSnapshot(file, [observed('virtuoso')]);
    const changed = observed('virtuoso', { at: '2026-11-24T10:05:00.000Z' });
    changed.facts!.crontab.lines = ['* * * * * bash ~/.symphony/heartbeat.sh'];
    await writeSnapshot(file, [changed]);
    const [back] = await readSnapshot(file);
    expect(back?.observed_at).toBe('2026-11-24T10:05:00.000Z');
    expect(back?.facts?.crontab.lines).toHaveLength(1);
  });

  it('merges a partial observation when asked, replaces otherwise', async () => {
    const file = join(dir, 'observed.json');
    await writeSnapshot(file, [observed('virtuoso'), observed('cadence')]);
    await writeSnapshot(file, [observed('tempo')], { merge: true });
    expect((await readSnapshot(file)).map((o) => o.node)).toEqual(['cadence', 'tempo', 'virtuoso']);
    await writeSnapshot(file, [observed('tempo')]);
    expect((await readSnapshot(file)).map((o) => o.node)).toEqual(['tempo']);
  });

  it('reads a missing file as no observations, and refuses an invalid one with what to do', async () => {
    expect(await readSnapshot(join(dir, 'none.json'))).toEqual([]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ node: 'Not A Name', observed_at: 'x', reach: { status: 'ok', attempts: [] } }]));
    await expect(readSnapshot(bad)).rejects.toThrow(/does not match the observed schema.*fleet observe --snapshot/);
    writeFileSync(bad, '{');
    await expect(readSnapshot(bad)).rejects.toThrow(/not JSON/);
  });

  it('refuses to write invalid data', async () => {
    const broken = observed('virtuoso');
    (broken.facts as unknown as { sudo: string }).sudo = 'yes';
    await expect(writeSnapshot(join(dir, 'x.json'), [broken])).rejects.toThrow(/invalid snapshot/);
  });
});
