// net/ssh.ts against a real ssh2 server on loopback: host keys pinned,
// changed, unknown and trusted on first use; refused, hung and auth-failed
// peers; addresses in order; a blocked address never dialled; exec with
// stdin, exit codes and timeouts.
import { createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGuard } from '../../reconciler/src/net/guard.ts';
import { fingerprint } from '../../reconciler/src/net/known-hosts.ts';
import { connectNode, scanHostKey } from '../../reconciler/src/net/ssh.ts';
import type { ConnectTarget } from '../../reconciler/src/net/ssh.ts';
import { raw, sh } from '../../reconciler/src/shell/quote.ts';
import { makeKeyPair, startSshServer } from './helpers/ssh-server.ts';
import type { TestSshServer } from './helpers/ssh-server.ts';

const guard = createGuard({ loopbackOnly: true });
const clientKey = makeKeyPair();
let server: TestSshServer;
let refusedPort: number;
let hangServer: NetServer;
let hangPort: number;
const hangSockets = new Set<Socket>();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function target(over: Partial<ConnectTarget> = {}): ConnectTarget {
  return {
    node: 'virtuoso',
    addresses: ['127.0.0.1'],
    port: server.port,
    user: 'bob',
    privateKey: clientKey.private,
    keyPath: '/keys/id_ed25519',
    knownHostKeys: [server.hostKey.publicLine],
    trustOnFirstUse: false,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 5000,
    ...over,
  };
}

beforeAll(async () => {
  server = await startSshServer({ clientPublicKey: clientKey.public });
  refusedPort = await freePort();
  hangServer = createServer((sock) => { hangSockets.add(sock); sock.on('error', () => {}); });
  await new Promise<void>((r) => hangServer.listen(0, '127.0.0.1', r));
  hangPort = (hangServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await server.close();
  for (const s of hangSockets) s.destroy();
  await new Promise<void>((r) => hangServer.close(() => r()));
});

describe('connectNode', () => {
  it('logs in when the host key matches the pin, and runs commands with stdin and exit codes', async () => {
    const result = await connectNode(target(), guard);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    try {
      expect(result.reach).toMatchObject({ status: 'ok', address: '127.0.0.1', attempts: [{ address: '127.0.0.1', result: 'ok' }] });
      expect(result.hostKey.fingerprint).toBe(fingerprint(server.hostKey.publicLine));
      expect(result.hostKey.trustedOnFirstUse).toBe(false);
      const echo = await result.session.exec(sh`printf '%s' ${"it's quoted; $(rm -rf /)"}`);
      expect(echo).toMatchObject({ code: 0, stdout: "it's quoted; $(rm -rf /)", timedOut: false });
      const cat = await result.session.exec(raw('cat; echo err >&2; exit 3'), { stdin: 'from stdin\n' });
      expect(cat).toMatchObject({ code: 3, stdout: 'from stdin\n', stderr: 'err\n' });
      // Same connection for every exec.
      const before = server.stats.connections;
      await Promise.all([1, 2, 3].map((i) => result.session.exec(sh`echo ${String(i)}`)));
      expect(server.stats.connections).toBe(before);
    } finally {
      result.session.close();
    }
  });

  it('kills a command that outlives its timeout and reports it', async () => {
    const result = await connectNode(target(), guard);
    if (!result.ok) throw new Error(result.reach.message);
    try {
      // 600 s against 300 ms: only the timeout can end it (the test's own timeout is the backstop).
      const r = await result.session.exec(raw('sleep 600'), { timeoutMs: 300 });
      expect(r.timedOut).toBe(true);
      expect(r.code).toBeNull();
      expect(r.stderr).toContain('timed out after 0.3 s');
      // The connection survives a killed command.
      expect((await result.session.exec(raw('echo alive'))).stdout).toBe('alive\n');
    } finally {
      result.session.close();
    }
  });

  it('refuses a changed host key with both fingerprints and runs nothing', async () => {
    const other = makeKeyPair();
    const execsBefore = server.stats.execs.length;
    const authBefore = server.stats.authAttempts;
    const result = await connectNode(target({ knownHostKeys: [other.publicLine] }), guard);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reach.status).toBe('host-key-changed');
    expect(result.reach.host_key).toMatchObject({ fingerprint: fingerprint(server.hostKey.publicLine), expected: fingerprint(other.publicLine) });
    expect(result.reach.message).toContain(fingerprint(other.publicLine));
    expect(result.reach.message).toContain(fingerprint(server.hostKey.publicLine));
    expect(result.reach.message).toContain('fleet trust virtuoso');
    expect(server.stats.execs.length).toBe(execsBefore);
    expect(server.stats.authAttempts).toBe(authBefore);
  });

  it('refuses a key marked @revoked even when it is also pinned', async () => {
    const result = await connectNode(target({ revokedHostKeys: [server.hostKey.publicLine] }), guard);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reach.status).toBe('host-key-changed');
  });

  it('stops at an unknown host key unless trust on first use is on', async () => {
    const unknown = await connectNode(target({ knownHostKeys: [] }), guard);
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) {
      expect(unknown.reach.status).toBe('host-key-unknown');
      expect(unknown.reach.host_key?.fingerprint).toBe(fingerprint(server.hostKey.publicLine));
      expect(unknown.reach.message).toContain('fleet trust virtuoso');
    }
    const tofu = await connectNode(target({ knownHostKeys: [], trustOnFirstUse: true }), guard);
    expect(tofu.ok).toBe(true);
    if (!tofu.ok) return;
    tofu.session.close();
    expect(tofu.reach.host_key).toMatchObject({ trusted_on_first_use: true, fingerprint: fingerprint(server.hostKey.publicLine) });
    expect(tofu.reach.host_key?.line).toBe(`virtuoso,[127.0.0.1]:${server.port} ${server.hostKey.publicLine}`);
    expect(tofu.reach.message).toContain(tofu.reach.host_key?.line);
  });

  it('reports a refused port as unreachable', async () => {
    const result = await connectNode(target({ port: refusedPort }), guard);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reach.status).toBe('unreachable');
    expect(result.reach.attempts).toEqual([expect.objectContaining({ address: '127.0.0.1', result: 'refused' })]);
  });

  it('gives up on a peer that accepts and says nothing, within the connect timeout', async () => {
    const dialled = hangSockets.size;
    const result = await connectNode(target({ port: hangPort, connectTimeoutMs: 400 }), guard);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reach.status).toBe('timeout');
    // It did reach the peer, and it was the configured connect timeout that ended the wait.
    expect(hangSockets.size).toBe(dialled + 1);
    expect(result.reach.attempts).toEqual([expect.objectContaining({ address: '127.0.0.1', result: 'timeout' })]);
    expect(result.reach.message).toContain('within 0.4 s');
  });

  it('waits for a slow peer up to the connect timeout (does not give up early)', async () => {
    // The SSH server behind a relay that answers nothing for the first 600 ms of a 3 s connect timeout.
    const relay = createServer((sock) => {
      sock.on('error', () => {});
      setTimeout(() => {
        const up = net.connect(server.port, '127.0.0.1');
        up.on('error', () => sock.destroy());
        sock.pipe(up).pipe(sock);
      }, 600);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      const result = await connectNode(target({ port: (relay.address() as AddressInfo).port, connectTimeoutMs: 3000 }), guard);
      expect(result.ok).toBe(true);
      if (result.ok) result.session.close();
    } finally {
      relay.close();
    }
  });

  it('reports a refused key as auth-failed, with what to do', async () => {
    const stranger = makeKeyPair();
    const result = await connectNode(target({ privateKey: stranger.private }), guard);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reach.status).toBe('auth-failed');
    expect(result.reach.message).toContain('authorized_keys');
  });

  it('reports an unreadable key without dialling', async () => {
    const result = await connectNode(target({ privateKey: '' }), guard);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reach.status).toBe('error');
      expect(result.reach.message).toContain('/keys/id_ed25519');
    }
  });

  it('tries addresses in order: a dead first address, then the one that answers', async () => {
    // Nothing listens on 127.0.0.2 at this port (the server is bound to 127.0.0.1).
    const result = await connectNode(target({ addresses: ['127.0.0.2', '127.0.0.1'] }), guard);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    result.session.close();
    expect(result.reach.attempts.map((a) => [a.address, a.result])).toEqual([['127.0.0.2', 'refused'], ['127.0.0.1', 'ok']]);
    expect(result.session.address).toBe('127.0.0.1');
  });

  it('never dials an address the loopback guard blocks', async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      const result = await connectNode(target({ addresses: ['10.20.30.40', 'maestro.local', '127.0.0.1'] }), guard);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      result.session.close();
      expect(result.reach.attempts.map((a) => [a.address, a.result])).toEqual([['10.20.30.40', 'blocked'], ['maestro.local', 'blocked'], ['127.0.0.1', 'ok']]);
      const hosts = connect.mock.calls.map((c) => JSON.stringify(c[0]));
      expect(hosts.some((h) => h.includes('10.20.30.40') || h.includes('maestro'))).toBe(false);
      expect(hosts.some((h) => h.includes('127.0.0.1'))).toBe(true);
    } finally {
      connect.mockRestore();
    }
  });

  it('reports only blocked addresses as unreachable', async () => {
    const result = await connectNode(target({ addresses: ['192.168.1.20'] }), guard);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reach.status).toBe('unreachable');
      expect(result.reach.attempts[0]?.result).toBe('blocked');
      expect(result.reach.message).toContain('FLEET_LOOPBACK_ONLY');
    }
  });
});

describe('scanHostKey', () => {
  it('reads the host key without logging in (works before our key is installed)', async () => {
    const authBefore = server.stats.authAttempts;
    const stranger = makeKeyPair();
    const scan = await scanHostKey({ node: 'virtuoso', addresses: ['127.0.0.1'], port: server.port, user: 'bob', privateKey: stranger.private, connectTimeoutMs: 2000 }, guard);
    expect(scan).toMatchObject({ ok: true, fingerprint: fingerprint(server.hostKey.publicLine), keyType: 'ssh-ed25519', line: `virtuoso,[127.0.0.1]:${server.port} ${server.hostKey.publicLine}` });
    expect(server.stats.authAttempts).toBe(authBefore);
  });
  it('reports a refused port', async () => {
    const scan = await scanHostKey({ node: 'virtuoso', addresses: ['127.0.0.1'], port: refusedPort, user: 'bob', privateKey: '', connectTimeoutMs: 1000 }, guard);
    expect(scan.ok).toBe(false);
  });
});
