// The loopback guard refuses a non-loopback target before any packet: every
// socket this process opens is recorded, and none goes outside 127.0.0.0/8.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, guardedFetch, LoopbackViolation } from '../../reconciler/src/net/guard.ts';
import { connectNode } from '../../reconciler/src/net/ssh.ts';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { startTestFleet } from './fleet-fixture.ts';

// net.Socket.prototype.connect is what ssh2 and undici both end up calling
const net = createRequire(import.meta.url)('node:net') as typeof import('node:net');
const dialled: string[] = [];
const originalConnect = Reflect.get(net.Socket.prototype, 'connect') as (this: Socket, ...args: unknown[]) => Socket;
let sim: { fleet: SimFleet; cleanup: () => Promise<void> };

beforeAll(async () => {
  Reflect.set(net.Socket.prototype, 'connect', function (this: Socket, ...args: unknown[]): Socket {
    const first = args[0];
    const opts = (Array.isArray(first) ? first[0] : first) as { host?: string; path?: string } | number | string | undefined;
    const host = typeof opts === 'object' && opts !== null ? (opts.host ?? opts.path ?? '') : typeof args[1] === 'string' ? args[1] : '';
    dialled.push(String(host));
    return originalConnect.apply(this, args);
  });
  sim = await startTestFleet({ nodes: 1, preset: 'provisioned' });
});
afterAll(async () => {
  Reflect.set(net.Socket.prototype, 'connect', originalConnect);
  await sim.cleanup();
});

const guard = createGuard({ loopbackOnly: true });

describe('loopback guard', () => {
  it('refuses LAN, Tailscale and public addresses, and names other than localhost, without resolving them', async () => {
    for (const host of ['192.168.1.10', '100.101.102.103', '8.8.8.8', 'maestro.local', 'example.invalid', '[fe80::1]']) {
      await expect(guard.resolve(host)).rejects.toBeInstanceOf(LoopbackViolation);
    }
    expect(await guard.resolve('127.0.1.1')).toBe('127.0.1.1');
  });

  it('an Ollama client on guardedFetch never dials a LAN address', async () => {
    const before = dialled.length;
    const client = new Ollama({ host: 'http://192.168.1.20:11434', fetch: guardedFetch(guard) });
    await expect(client.list()).rejects.toBeInstanceOf(LoopbackViolation);
    expect(dialled.slice(before)).toEqual([]);
  });

  it('the SSH client skips a LAN address without dialling it and reaches the simulated node next', async () => {
    const node = sim.fleet.nodes[0];
    if (!node) throw new Error('no node');
    const before = dialled.length;
    const { readFileSync } = await import('node:fs');
    const result = await connectNode(
      {
        node: node.name,
        addresses: ['192.168.1.50', 'virtuoso.local', node.ip],
        port: node.sshPort(),
        user: node.user,
        privateKey: readFileSync(sim.fleet.clientKeyPath),
        knownHostKeys: [node.hostKey()],
        trustOnFirstUse: false,
        connectTimeoutMs: 10_000,
        commandTimeoutMs: 10_000,
      },
      guard,
    );
    expect(result.ok).toBe(true);
    if (result.ok) result.session.close();
    expect(result.reach.attempts.map((a) => a.result)).toEqual(['blocked', 'blocked', 'ok']);
    expect(dialled.slice(before).every((h) => h.startsWith('127.'))).toBe(true);
  });

  it('nothing in this file dialled outside loopback', () => {
    expect(dialled.length).toBeGreaterThan(0);
    expect(dialled.filter((h) => !h.startsWith('127.') && h !== 'localhost' && !h.startsWith('/'))).toEqual([]);
  });
});
