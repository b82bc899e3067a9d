// observeFleet end to end without the simulator: real ssh2 servers running
// the probe with /bin/sh on stand-in Macs, a fake Ollama reached through the
// official client, and dead, hung and impostor nodes next to healthy ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../reconciler/src/net/guard.ts';
import { fingerprint } from '../../reconciler/src/net/known-hosts.ts';
import { createConnectionPool, resolveTargets } from '../../reconciler/src/observe/connections.ts';
import { observeFleet } from '../../reconciler/src/observe/observe-fleet.ts';
import { checkObserved } from '../../reconciler/src/observe/validate-observed.ts';
import type { Targets } from '../../reconciler/src/schema/targets.ts';
import { buildDesired, node, SETTINGS } from '../plan/build-desired.ts';
import { makeFakeMac, makeKeyPairFile, startFakeOllama } from './helpers/fake-mac.ts';
import { recordingPool } from './helpers/recording-pool.ts';
import type { FakeMac, FakeOllama } from './helpers/fake-mac.ts';
import { makeKeyPair, startSshServer } from './helpers/ssh-server.ts';
import type { TestSshServer } from './helpers/ssh-server.ts';

const guard = createGuard({ loopbackOnly: true });
const clientKey = makeKeyPair();
let keyDir: string;
let keyPath: string;
let ollama: FakeOllama;
let provisioned: FakeMac;
let fresh: FakeMac;
let virtuoso: TestSshServer;
let cadence: TestSshServer;
let impostor: TestSshServer;
let hang: NetServer;
const hangSockets = new Set<Socket>();
let deadPort: number;

async function listenPort(server: NetServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'fleet-observe-'));
  keyPath = makeKeyPairFile(keyDir, clientKey.private);
  ollama = await startFakeOllama();
  provisioned = makeFakeMac({ provisioned: true });
  fresh = makeFakeMac({ provisioned: false });
  virtuoso = await startSshServer({ clientPublicKey: clientKey.public, env: provisioned.env, cwd: provisioned.home });
  cadence = await startSshServer({ clientPublicKey: clientKey.public, env: fresh.env, cwd: fresh.home });
  impostor = await startSshServer({ clientPublicKey: clientKey.public, env: provisioned.env });
  hang = createServer((s) => { hangSockets.add(s); s.on('error', () => {}); });
  const hangPort = await listenPort(hang);
  const dead = createServer();
  deadPort = await listenPort(dead);
  await new Promise<void>((r) => dead.close(() => r()));
  targets = {
    nodes: {
      virtuoso: { addresses: ['127.0.0.1'], ssh_port: virtuoso.port, user: 'bob', key_path: keyPath, host_key: virtuoso.hostKey.publicLine, ollama_url: ollama.url, ollama_port: ollama.port },
      cadence: { addresses: ['127.0.0.1'], ssh_port: cadence.port, user: 'bob', key_path: keyPath, host_key: cadence.hostKey.publicLine, ollama_url: `http://127.0.0.1:${deadPort}`, ollama_port: deadPort },
      maestro: { addresses: ['127.0.0.1'], ssh_port: deadPort, user: 'bob', key_path: keyPath, ollama_url: `http://127.0.0.1:${deadPort}` },
      stagehand: { addresses: ['127.0.0.1'], ssh_port: hangPort, user: 'bob', key_path: keyPath, ollama_url: `http://127.0.0.1:${deadPort}` },
      // Pinned to a key the server does not have: a rotated host key.
      tempo: { addresses: ['127.0.0.1'], ssh_port: impostor.port, user: 'bob', key_path: keyPath, host_key: makeKeyPair().publicLine, ollama_url: ollama.url, ollama_port: ollama.port },
    },
  };
});

let targets: Targets;

afterAll(async () => {
  await Promise.all([virtuoso.close(), cadence.close(), impostor.close(), ollama.close()]);
  for (const s of hangSockets) s.destroy();
  await new Promise<void>((r) => hang.close(() => r()));
  provisioned.remove();
  fresh.remove();
  rmSync(keyDir, { recursive: true, force: true });
});

function fleet(): ReturnType<typeof buildDesired> {
  const settings = { ...SETTINGS, ssh: { ...SETTINGS.ssh, connect_timeout_s: 1, command_timeout_s: 10 }, reconcile: { ...SETTINGS.reconcile, concurrency: 8 } };
  return buildDesired([
    node('virtuoso', 'full_worker', 'mac-mini-m4-24gb'),
    node('cadence', 'full_worker', 'mac-mini-m4-24gb', { status: 'planned' }),
    node('maestro', 'llm_worker', 'imac-27-2019-i9-64gb'),
    node('stagehand', 'browser_node', 'imac-intel-i5-8gb', { presence: 'roaming' }),
    node('tempo', 'full_worker', 'mac-mini-m4-16gb', { status: 'retired', retired: '2026-11-01' }),
  ], settings);
}

describe('observeFleet', () => {
  it('tells every node\'s truth, and a dead or hung node costs no more than its timeout', async () => {
    const desired = fleet();
    const { pool, events } = recordingPool(createConnectionPool(desired, { targets, guard }));
    try {
      const observed = await observeFleet(desired, pool, { guard });
      // Nobody waited for the hung node: every node was asked for before any answered, the dead
      // one's refusal came before the hung one gave up, and that was its connect timeout (1 s).
      expect(events.slice(0, 5)).toEqual(['asked:cadence', 'asked:maestro', 'asked:stagehand', 'asked:tempo', 'asked:virtuoso']);
      expect(events.indexOf('unreachable:maestro')).toBeLessThan(events.indexOf('timeout:stagehand'));
      expect(observed.find((o) => o.node === 'stagehand')?.reach.message).toContain('within 1 s');
      expect(observed.map((o) => [o.node, o.reach.status])).toEqual([
        ['cadence', 'ok'], ['maestro', 'unreachable'], ['stagehand', 'timeout'], ['tempo', 'host-key-changed'], ['virtuoso', 'ok'],
      ]);
      expect(checkObserved(observed)).toEqual([]);

      const v = observed.find((o) => o.node === 'virtuoso');
      expect(v?.facts?.ollama.external).toEqual({ up: true, url: ollama.url, version: '0.12.6' });
      expect(v?.facts?.ollama.local).toEqual({ up: true, version: '0.12.6' });
      expect(v?.facts?.hostnames.host_name).toBe('virtuoso');
      expect(v?.facts?.launchd.ollama.running).toBe(true);

      const c = observed.find((o) => o.node === 'cadence');
      expect(c?.facts?.hostnames.host_name).toBeNull();
      expect(c?.facts?.ollama.external.up).toBe(false);
      expect(c?.facts?.ollama.external.error).toContain('refused');

      const m = observed.find((o) => o.node === 'maestro');
      expect(m?.facts).toBeUndefined();
      expect(m?.reach.attempts).toEqual([expect.objectContaining({ result: 'refused' })]);

      const t = observed.find((o) => o.node === 'tempo');
      expect(t?.facts).toBeUndefined();
      expect(t?.reach.host_key?.fingerprint).toBe(fingerprint(impostor.hostKey.publicLine));
      expect(impostor.stats.execs).toEqual([]);
    } finally {
      pool.close();
    }
  });

  it('keeps one connection per node across runs and reconnects after a close', async () => {
    const desired = fleet();
    const pool = createConnectionPool(desired, { targets, guard });
    try {
      const before = virtuoso.stats.connections;
      await observeFleet(desired, pool, { guard, nodes: ['virtuoso'] });
      await observeFleet(desired, pool, { guard, nodes: ['virtuoso'] });
      expect(virtuoso.stats.connections).toBe(before + 1);
      const s = await pool.session('virtuoso');
      if (s.ok) s.session.close();
      await observeFleet(desired, pool, { guard, nodes: ['virtuoso'] });
      expect(virtuoso.stats.connections).toBe(before + 2);
    } finally {
      pool.close();
    }
  });

  it('refuses unknown node names, and reports a node missing from the targets file', async () => {
    const desired = fleet();
    const pool = createConnectionPool(desired, { targets: { nodes: {} }, guard });
    try {
      await expect(observeFleet(desired, pool, { guard, nodes: ['nobody'] })).rejects.toThrow(/no node named nobody/);
      const [o] = await observeFleet(desired, pool, { guard, nodes: ['virtuoso'] });
      expect(o?.reach).toMatchObject({ status: 'error', message: expect.stringContaining('not in the targets file') });
    } finally {
      pool.close();
    }
  });
});

describe('resolveTargets', () => {
  it('without a targets file: fleet addresses, port 22, ssh settings, pins from known_hosts', () => {
    const pinned = makeKeyPair();
    const desired = { ...fleet(), knownHosts: `# pins\nvirtuoso,virtuoso.local ${pinned.publicLine}\n@revoked * ${clientKey.publicLine}\n` };
    const map = resolveTargets(desired, undefined, { readKey: () => Buffer.from('KEY'), home: '/Users/bob' });
    const v = map.get('virtuoso');
    expect(v).toMatchObject({
      addresses: ['virtuoso.local'], port: 22, user: 'symphony', keyPath: '/Users/bob/.ssh/id_ed25519', knownHostKeys: [pinned.publicLine], revokedHostKeys: [clientKey.publicLine],
      trustOnFirstUse: false, connectTimeoutMs: 1000, commandTimeoutMs: 10_000, ollamaUrl: 'http://virtuoso.local:11434', ollamaPort: 11434, ollamaUrlFollowsSsh: true, knownHostsName: 'fleet/known_hosts',
    });
    expect(map.get('maestro')?.knownHostKeys).toEqual([]);
    expect([...map.keys()].sort()).toEqual(['cadence', 'maestro', 'stagehand', 'tempo', 'virtuoso']);
  });

  it('with a targets file: only its nodes, its addresses and host key, never a fleet address', () => {
    const map = resolveTargets(fleet(), { nodes: { virtuoso: targets.nodes.virtuoso! } }, { readKey: () => Buffer.from('KEY') });
    expect([...map.keys()]).toEqual(['virtuoso']);
    expect(map.get('virtuoso')).toMatchObject({ addresses: ['127.0.0.1'], port: virtuoso.port, knownHostKeys: [virtuoso.hostKey.publicLine], ollamaUrl: ollama.url, ollamaUrlFollowsSsh: false });
  });

  it('an unreadable key becomes an empty key (reported per node at connect time)', () => {
    const map = resolveTargets(fleet(), undefined, { readKey: () => { throw new Error('ENOENT'); } });
    expect(map.get('virtuoso')?.privateKey).toEqual(Buffer.alloc(0));
  });
});
