// The heartbeat store: what nodes told Bob survives a restart, is written
// atomically, a damaged file never stops the daemon, unknown registrations
// stay bounded, and a full disk loses nothing (issue 11).
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHeartbeatStore } from '../../reconciler/src/daemon/heartbeats.ts';
import type { RegisterRequest } from '../../reconciler/src/schema/registry-api.ts';

let tmp: string;
let file: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-hb-'));
  file = join(tmp, 'heartbeats.json');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const at = (s: string): Date => new Date(`2026-11-24T10:${s}Z`);
const beat = (node_id: string, ip: string, when: string, signed = true) => ({ node_id, ip, at: at(when), source_ip: ip, signed });

describe('heartbeat store', () => {
  it('keeps last seen, IP, source and signature per node across a restart, sorted for generate', async () => {
    const store = await openHeartbeatStore(file);
    store.update(beat('virtuoso', '192.168.1.42', '00:00'));
    store.update(beat('maestro', '192.168.1.20', '00:05', false));
    const moved = store.update(beat('virtuoso', '192.168.1.43', '01:00'));
    expect(moved).toEqual({ record: { node_id: 'virtuoso', ip: '192.168.1.43', last_seen: '2026-11-24T10:01:00.000Z', source_ip: '192.168.1.43', signed: true }, ipChanged: true, previousIp: '192.168.1.42' });
    await store.flush();
    const reopened = await openHeartbeatStore(file);
    expect(reopened.list()).toEqual([
      { node_id: 'maestro', ip: '192.168.1.20', last_seen: '2026-11-24T10:00:05.000Z' },
      { node_id: 'virtuoso', ip: '192.168.1.43', last_seen: '2026-11-24T10:01:00.000Z' },
    ]);
    expect(reopened.get('virtuoso')?.signed).toBe(true);
    expect(reopened.get('maestro')?.signed).toBe(false);
    // Owner-only: it says where every node is.
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('once signed, a node stays signed even if a later update says otherwise', async () => {
    const store = await openHeartbeatStore(file);
    store.update(beat('virtuoso', '192.168.1.42', '00:00', true));
    expect(store.update(beat('virtuoso', '192.168.1.42', '00:30', false)).record.signed).toBe(true);
  });

  it('reads a version-1 file: records start unsigned, with no source address', async () => {
    await writeFile(file, JSON.stringify({ version: 1, heartbeats: [{ node_id: 'bob', ip: '192.168.1.10', last_seen: '2026-11-24T09:00:00.000Z' }], registrations: [] }));
    const store = await openHeartbeatStore(file);
    expect(store.get('bob')).toEqual({ node_id: 'bob', ip: '192.168.1.10', last_seen: '2026-11-24T09:00:00.000Z', source_ip: null, signed: false });
  });

  it('a damaged file is moved aside and the store starts empty', async () => {
    await writeFile(file, '{"heartbeats": [');
    const store = await openHeartbeatStore(file);
    expect(store.list()).toEqual([]);
    expect((await readdir(tmp)).some((f) => f.startsWith('heartbeats.json.corrupt-'))).toBe(true);
  });

  it('unknown registrations: a bounded list, oldest dropped, oversized bodies cut to the name, never heartbeats', async () => {
    const store = await openHeartbeatStore(file, { limits: { pendingMax: 3, pendingBodyBytes: 200 } });
    const body = (n: string, notes = ''): RegisterRequest => ({ node_id: n, role: 'llm_worker', ip: '192.168.1.9', hostname: `${n}.local`, display_name: notes });
    for (const n of ['a', 'b', 'c', 'd']) store.addPending({ node_id: n, peer: '192.168.1.66', received_at: at('00:00').toISOString(), body: body(n) });
    store.addPending({ node_id: 'e', peer: '192.168.1.66', received_at: at('00:00').toISOString(), body: body('e', 'x'.repeat(500)) });
    expect(store.listPending().map((p) => p.node_id)).toEqual(['c', 'd', 'e']);
    expect(store.listPending().at(-1)?.body).toEqual({ node_id: 'e' });
    expect(store.list()).toEqual([]);
    // A node added by a pull request leaves the list; heartbeats of removed nodes go.
    store.update(beat('gone', '192.168.1.5', '00:00'));
    store.retain(new Set(['d']));
    expect(store.listPending().map((p) => p.node_id)).toEqual(['c', 'e']);
    expect(store.get('gone')).toBeUndefined();
  });

  it('disk full: heartbeats stay in memory, the failure is reported, and the next write succeeds with everything (finding: lost heartbeats)', async () => {
    let full = true;
    const written: string[] = [];
    const writeFileFn = (path: string, text: string): Promise<void> => {
      if (full) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      written.push(text);
      return writeFile(path, text);
    };
    const errors: string[] = [];
    const store = await openHeartbeatStore(file, { writeFile: writeFileFn, retryBaseMs: 5, log: { warn: () => undefined, error: (_f, m) => errors.push(m) } });
    store.update(beat('virtuoso', '192.168.1.42', '00:00'));
    await expect(store.flush()).rejects.toThrow(/ENOSPC/);
    expect(store.writeStatus()).toMatchObject({ pending: true, error: 'ENOSPC', failures: 1 });
    expect(errors[0]).toMatch(/kept in memory/);
    store.update(beat('maestro', '192.168.1.20', '00:10'));
    expect(store.list().map((r) => r.node_id)).toEqual(['maestro', 'virtuoso']);
    full = false;
    // The retry timer writes by itself once the disk has room.
    for (let i = 0; i < 200 && store.writeStatus().pending; i++) await new Promise((r) => setTimeout(r, 5));
    expect(store.writeStatus()).toMatchObject({ pending: false, error: null });
    const saved = JSON.parse(await readFile(file, 'utf8')) as { heartbeats: { node_id: string }[] };
    expect(saved.heartbeats.map((h) => h.node_id)).toEqual(['maestro', 'virtuoso']);
    store.close();
  });
});
