// The SSH face of a simulated node: ssh2's Server fed with sockets from the
// node's gated listener. Public-key authentication with the fleet's client key
// only; exec, shell, env and pty requests; the command itself runs in the
// node's environment through runCommand (the real /bin/sh).
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  /**
   * The client logged in with a key from the node's ~/.ssh/authorized_keys
   * (a peer Mac's per-copy key), not Bob's: its `command=`, run instead of
   * what the client asked (which is then SSH_ORIGINAL_COMMAND), as sshd does.
   */
  forcedCommand?: string;
  /** The client's address. */
  clientIp: string;
}

/** One line of authorized_keys: its options (`restrict`, `from="..."`, `command="..."`) and key. */
interface AuthorizedKey {
  key: ParsedKey;
  blob: Buffer;
  from?: string[];
  command?: string;
}

/** The lines of an authorized_keys file that parse; options as sshd reads them (quoted values may hold commas). */
export function parseAuthorizedKeys(text: string): AuthorizedKey[] {
  const out: AuthorizedKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^((?:[^\s"]|"(?:[^"\\]|\\.)*")*?)\s*(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256)\s+([A-Za-z0-9+/=]+)/.exec(line);
    if (!m) continue;
    const parsed = ssh2.utils.parseKey(`${m[2]} ${m[3]}`);
    const one = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (one === undefined || one instanceof Error) continue;
    const entry: AuthorizedKey = { key: one, blob: one.getPublicSSH() };
    for (const opt of (m[1] ?? '').match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
      const kv = /^([A-Za-z-]+)(?:="((?:[^"\\]|\\.)*)")?$/.exec(opt.trim());
      if (!kv) continue;
      const value = kv[2]?.replace(/\\(.)/g, '$1');
      if (kv[1] === 'from' && value !== undefined) entry.from = value.split(',');
      if (kv[1] === 'command' && value !== undefined) entry.command = value;
    }
    out.push(entry);
  }
  return out;
}

function fromMatches(patterns: readonly string[], ip: string): boolean {
  let ok = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const glob = new RegExp(`^${(negate ? p.slice(1) : p).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (glob.test(ip)) {
      if (negate) return false;
      ok = true;
    }
  }
  return ok;
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

export function createSshFront(options: { hostKey: string; clientPublicKey: string; user: string; runCommand: RunCommand; authorizedKeysPath?: string }): SshFront {
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
      let forcedCommand: string | undefined;
      client.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || ctx.username !== options.user) return ctx.reject(['publickey']);
        const blob = ctx.key.data;
        const same = ctx.key.algo === allowed.type && blob.length === allowedBlob.length && timingSafeEqual(blob, allowedBlob);
        let key: ParsedKey = allowed;
        let command: string | undefined;
        if (!same) {
          // sshd reads authorized_keys at each login: a key there, from an address its from= allows.
          let text = '';
          try {
            text = options.authorizedKeysPath === undefined ? '' : readFileSync(options.authorizedKeysPath, 'utf8');
          } catch {
            // no file: Bob's key only
          }
          const entry = parseAuthorizedKeys(text).find((e) => e.key.type === ctx.key.algo && e.blob.length === blob.length && timingSafeEqual(e.blob, blob));
          if (entry === undefined || (entry.from !== undefined && !fromMatches(entry.from, info.ip))) return ctx.reject(['publickey']);
          key = entry.key;
          command = entry.command;
        }
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // the client asks whether this key would do
        if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
        forcedCommand = command;
        return ctx.accept();
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
          const forced = forcedCommand === undefined ? {} : { forcedCommand };
          session.on('exec', (accept, _reject, req) => {
            options.runCommand(req.command, accept(), { connection, env: { ...env }, onSignal, clientIp: info.ip, ...forced });
          });
          session.on('shell', (accept) => {
            options.runCommand(undefined, accept(), { connection, env: { ...env }, onSignal, clientIp: info.ip, ...forced });
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
