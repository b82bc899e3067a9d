// A real ssh2 server on 127.0.0.1 (ephemeral port) for the SSH tests: it
// authenticates one client key and runs exec requests with /bin/sh -c, like
// sshd, with the env the test gives it. It counts what clients did, so a test
// can prove that nothing ran on a refused node.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Server, utils } from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { generateEd25519KeyPair } from '../../../reconciler/src/net/ssh-keys.ts';

export interface KeyPair {
  private: string;
  public: string;
  /** `ssh-ed25519 AAAA...` (no comment). */
  publicLine: string;
}

export function makeKeyPair(): KeyPair {
  const kp = generateEd25519KeyPair();
  const [type, blob] = kp.public.split(' ');
  return { private: kp.private, public: kp.public, publicLine: `${type} ${blob}` };
}

export interface TestSshServer {
  port: number;
  hostKey: KeyPair;
  stats: { connections: number; authAttempts: number; execs: string[] };
  close(): Promise<void>;
}

export interface ServerOptions {
  hostKey?: KeyPair;
  clientPublicKey: string;
  /** Reject every key (auth failure). */
  rejectAll?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  host?: string;
}

export async function startSshServer(options: ServerOptions): Promise<TestSshServer> {
  const hostKey = options.hostKey ?? makeKeyPair();
  const allowed = utils.parseKey(options.clientPublicKey) as ParsedKey;
  const stats = { connections: 0, authAttempts: 0, execs: [] as string[] };
  const clients = new Set<{ end(): unknown }>();
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    stats.connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method === 'none') { ctx.reject(['publickey']); return; }
      stats.authAttempts++;
      if (ctx.method !== 'publickey' || options.rejectAll) { ctx.reject(['publickey']); return; }
      const same = ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH());
      if (!same) { ctx.reject(['publickey']); return; }
      if (ctx.signature && ctx.blob) {
        if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
        else ctx.reject(['publickey']);
        return;
      }
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          stats.execs.push(info.command);
          const stream = acceptExec();
          const child = spawn('/bin/sh', ['-c', info.command], { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
          const killTree = (): void => { try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          stream.pipe(child.stdin).on('error', () => {});
          child.stdin.on('error', () => {});
          stream.on('close', killTree);
          session.on('signal', killTree);
          child.on('close', (code, signal) => {
            if (code !== null) stream.exit(code);
            else stream.exit(signal ?? 'KILL', false, '');
            stream.end();
          });
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hostKey,
    stats,
    close: () => new Promise<void>((resolve) => {
      // Drop connections the test left open, then stop listening.
      for (const c of clients) c.end();
      server.close(() => resolve());
    }),
  };
}
