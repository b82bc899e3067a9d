// The heartbeat store: what nodes told Bob survives a restart, is written
// atomically, and a damaged file never stops the daemon.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHeartbeatStore } from '../../reconciler/src/daemon/heartbeats.ts';

let tmp: string;
let file: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-hb-'));
  file = join(tmp, 'heartbeats.json');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const at = (s: string) => new Date(`2026-11-24T10:${s}Z`);

describe('heartbeat store', () => {
  it('keeps last seen and IP per node across a restart, sorted for generate', async () => {
    const store = await openHeartbeatStore(file);
    store.record({ node_id: 'virtuoso', ip: '192.168.1.42', at: at('00:00') });
    store.record({ node_id: 'maestro', ip: '192.168.1.20', at: at('00:05') });
    const moved = store.record({ node_id: 'virtuoso', ip: '192.168.1.43', at: at('01:00') });
    expect(moved).toEqual({ record: { node_id: 'virtuoso', ip: '192.168.1.43', last_seen: '2026-11-24T10:01:00.000Z' }, ipChanged: true, previousIp: '192.168.1.42' });
    await store.flush();
    const reopened = await openHeartbeatStore(file);
    expect(reopened.list()).toEqual([
      { node_id: 'maestro', ip: '192.168.1.20', last_seen: '2026-11-24T10:00:05.000Z' },
      { node_id: 'virtuoso', ip: '192.168.1.43', last_seen: '2026-11-24T10:01:00.000Z' },
    ]);
  });

  it('the first heartbeat is not an address change; the same address again is not either', async () => {
    const store = await openHeartbeatStore(file);
    expect(store.record({ node_id: 'a', ip: '10.0.0.1', at: at('00:00') }).ipChanged).toBe(false);
    expect(store.record({ node_id: 'a', ip: '10.0.0.1', at: at('00:01') }).ipChanged).toBe(false);
  });

  it('UNKNOWN keeps the last address; with none known it uses the address the request came from', async () => {
    const store = await openHeartbeatStore(file);
    expect(store.record({ node_id: 'a', ip: 'UNKNOWN', at: at('00:00'), peerIp: '192.168.1.50' }).record.ip).toBe('192.168.1.50');
    store.record({ node_id: 'b', ip: '192.168.1.60', at: at('00:00') });
    expect(store.record({ node_id: 'b', ip: 'UNKNOWN', at: at('00:01'), peerIp: '10.9.9.9' }).record.ip).toBe('192.168.1.60');
    expect(store.record({ node_id: 'c', ip: 'UNKNOWN', at: at('00:00') }).record.ip).toBe('UNKNOWN');
  });

  it('coalesces a burst of heartbeats into few writes and leaves no temp files', async () => {
    const store = await openHeartbeatStore(file, { flushDelayMs: 50 });
    for (let i = 0; i < 200; i++) store.record({ node_id: `n${i % 20}`, ip: `10.0.0.${i % 250}`, at: at('00:00') });
    await store.flush();
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.heartbeats).toHaveLength(20);
    expect(await readdir(tmp)).toEqual(['heartbeats.json']);
  });

  it('writes in the background without flush()', async () => {
    const store = await openHeartbeatStore(file, { flushDelayMs: 10 });
    store.record({ node_id: 'a', ip: '10.0.0.1', at: at('00:00') });
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.parse(await readFile(file, 'utf8')).heartbeats).toHaveLength(1);
  });

  it('a damaged file is moved aside with a warning and the store starts empty', async () => {
    await writeFile(file, '{"heartbeats": [ {"node_id": "a", ');
    const warnings: string[] = [];
    const store = await openHeartbeatStore(file, { log: { warn: (_f, m) => warnings.push(m), error: (_f, m) => warnings.push(m) } });
    expect(store.list()).toEqual([]);
    expect(warnings).toEqual(['heartbeat file unreadable, starting empty']);
    expect((await readdir(tmp)).some((f) => f.startsWith('heartbeats.json.corrupt-'))).toBe(true);
  });

  it('skips malformed entries in an otherwise readable file', async () => {
    await writeFile(file, JSON.stringify({ version: 1, heartbeats: [{ node_id: 'a', ip: '10.0.0.1', last_seen: 'x' }, { node_id: 5 }, null], registrations: 'nope' }));
    const store = await openHeartbeatStore(file);
    expect(store.list().map((r) => r.node_id)).toEqual(['a']);
    expect(store.listRegistrations()).toEqual([]);
  });

  it('two stores in one process do not share state', async () => {
    const one = await openHeartbeatStore(file);
    const two = await openHeartbeatStore(join(tmp, 'two.json'));
    one.record({ node_id: 'a', ip: '10.0.0.1', at: at('00:00') });
    expect(two.list()).toEqual([]);
  });
});
