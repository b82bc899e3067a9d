// The SSH face of a simulated node: ssh2's Server fed with sockets from the
// node's gated listener. Public-key authentication with the fleet's client key
// only; exec, shell, env and pty requests; the command itself runs in the
// node's environment through runCommand (the real /bin/sh).
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';

export interface SessionInfo {
  /** `SSH_CONNECTION`: client ip, client port, server ip, server port. */
  connection: string;
  /** LANG / LC_* sent by the client (macOS sshd accepts only those). */
  env: Record<string, string>;
  /** Signals the client sends to the running command (`TERM`, `KILL`, ...). */
  onSignal(listener: (name: string) => void): void;
}

/** Runs `command` (undefined: a shell reading stdin) on the channel; must end it with exit + end. */
export type RunCommand = (command: string | undefined, channel: ServerChannel, session: SessionInfo) => void;

export interface SshFront {
  handle(socket: Socket): void;
  setHostKey(privateKey: string): void;
  closeAll(): void;
}

function parseOne(key: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  const one = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!one) throw new Error('no key found');
  return one;
}

export function createSshFront(options: { hostKey: string; clientPublicKey: string; user: string; runCommand: RunCommand }): SshFront {
  const allowed = parseOne(options.clientPublicKey);
  const allowedBlob = allowed.getPublicSSH();
  const clients = new Set<Connection>();
  let server = makeServer(options.hostKey);

  function makeServer(hostKey: string): InstanceType<typeof ssh2.Server> {
    // ident: what a Mac's sshd announces
    return new ssh2.Server({ hostKeys: [hostKey], ident: 'OpenSSH_9.8' }, (client, info) => {
      clients.add(client);
      client.on('close', () => clients.delete(client));
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || ctx.username !== options.user) return ctx.reject(['publickey']);
        const blob = ctx.key.data;
        const same = ctx.key.algo === allowed.type && blob.length === allowedBlob.length && timingSafeEqual(blob, allowedBlob);
        if (!same) return ctx.reject(['publickey']);
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // the client asks whether this key would do
        return allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey']);
      });
      client.on('ready', () => {
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          const env: Record<string, string> = {};
          const local = (client as unknown as { _sock?: Socket })._sock;
          const connection = `${info.ip} ${info.port} ${local?.localAddress ?? ''} ${local?.localPort ?? ''}`;
          session.on('env', (accept, _reject, e) => {
            if (e.key === 'LANG' || e.key.startsWith('LC_')) env[e.key] = e.val;
            accept?.();
          });
          const signalListeners: ((name: string) => void)[] = [];
          const onSignal = (listener: (name: string) => void): void => {
            signalListeners.push(listener);
          };
          session.on('signal', (accept, _reject, sig) => {
            accept?.();
            for (const l of signalListeners) l(sig.name);
          });
          session.on('pty', (accept) => accept?.());
          session.on('window-change', (accept) => accept?.());
          session.on('auth-agent', (_accept, reject) => reject?.());
          session.on('x11', (_accept, reject) => reject?.());
          session.on('sftp', (_accept, reject) => reject?.());
          session.on('subsystem', (_accept, reject) => reject?.());
          session.on('exec', (accept, _reject, req) => {
            options.runCommand(req.command, accept(), { connection, env: { ...env }, onSignal });
          });
          session.on('shell', (accept) => {
            options.runCommand(undefined, accept(), { connection, env: { ...env }, onSignal });
          });
        });
      });
    });
  }

  return {
    handle(socket) {
      server.injectSocket(socket);
    },
    setHostKey(hostKey) {
      server = makeServer(hostKey);
    },
    closeAll() {
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}
