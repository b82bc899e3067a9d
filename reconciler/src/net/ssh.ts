// SSH to a node with ssh2: addresses tried in order through the loopback guard,
// host keys checked against the pins before anything is sent, one connection
// per node that every later command reuses (exec opens a channel on it).
import { Client } from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { LoopbackViolation } from './guard.ts';
import type { ConnectionGuard } from './guard.ts';
import type { ExecOptions, ExecResult, RemoteSession } from './remote.ts';
import type { ShellLine } from '../shell/quote.ts';
import type { ObservedNode } from '../schema/observed.ts';
import { fingerprint, formatKnownHostsEntry, hostPattern, keyTypeOf, splitKeyText } from './known-hosts.ts';

export type Reach = ObservedNode['reach'];
export type ReachAttempt = Reach['attempts'][number];

export interface ConnectTarget {
  node: string;
  /** Tried in order: LAN name, LAN IP, Tailscale... */
  addresses: string[];
  port: number;
  user: string;
  privateKey: Buffer | string;
  /** Where the key came from, for messages. */
  keyPath?: string;
  /** `ssh-ed25519 AAAA...` keys pinned for this node. */
  knownHostKeys: string[];
  /** Keys marked @revoked: refused even under trust on first use. */
  revokedHostKeys?: string[];
  trustOnFirstUse: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Name of the pin file, for messages (default fleet/known_hosts). */
  knownHostsName?: string;
}

export interface HostKeyInfo {
  keyType: string;
  /** Base64 key blob. */
  key: string;
  fingerprint: string;
  /** The known_hosts line that pins this key for the node. */
  line: string;
  trustedOnFirstUse: boolean;
}

export type ConnectResult =
  | { ok: true; session: SshSession; hostKey: HostKeyInfo; reach: Reach }
  | { ok: false; reach: Reach };

/** The known_hosts host list for a node: its name, then every address as OpenSSH writes it. */
export function knownHostsNames(target: Pick<ConnectTarget, 'node' | 'addresses' | 'port'>): string[] {
  return [...new Set([target.node, ...target.addresses.map((a) => hostPattern(a, target.port))])];
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ssh2 algorithm names that present a key of a pinned type (so the server shows the pinned one). */
function hostKeyAlgorithmsFor(keyTypes: readonly string[]): ConnectConfig['algorithms'] | undefined {
  const algos: string[] = [];
  for (const t of new Set(keyTypes)) {
    if (t === 'ssh-rsa') algos.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else if (t === 'ssh-ed25519' || t.startsWith('ecdsa-sha2-nistp')) algos.push(t);
  }
  return algos.length > 0 ? { serverHostKey: algos as NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']> } : undefined;
}

/** A logged-in node. One ssh2 connection; each exec is a channel on it. */
export class SshSession implements RemoteSession {
  readonly node: string;
  readonly address: string;
  readonly defaultTimeoutMs: number;
  readonly memo = new Map<string, unknown>();
  #client: Client;
  #closed = false;

  constructor(node: string, address: string, client: Client, defaultTimeoutMs: number) {
    this.node = node;
    this.address = address;
    this.defaultTimeoutMs = defaultTimeoutMs;
    this.#client = client;
    client.on('close', () => { this.#closed = true; });
    client.on('end', () => { this.#closed = true; });
    // A dropped connection surfaces on the next exec; never crash the process.
    client.on('error', () => { this.#closed = true; });
  }

  get closed(): boolean {
    return this.#closed;
  }

  exec(command: ShellLine, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const started = performance.now();
    return new Promise<ExecResult>((resolve) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let code: number | null = null;
      let signal: string | null = null;
      let channel: ClientChannel | undefined;
      let done = false;
      let timedOut = false;
      const finish = (extraErr?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const stderr = Buffer.concat(err).toString('utf8') + (extraErr ? `${extraErr}\n` : '');
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr, durationMs: performance.now() - started, timedOut });
      };
      // Killing: ask the server to signal the command, then close the channel;
      // we do not wait for a hung server to acknowledge either.
      const kill = (why: string): void => {
        code = null;
        if (channel) {
          try { channel.signal('KILL'); } catch { /* server may not support signals */ }
          try { channel.close(); } catch { /* already closed */ }
        }
        finish(why);
      };
      const timer = setTimeout(() => { timedOut = true; kill(`timed out after ${seconds(timeoutMs)}`); }, timeoutMs);
      const onAbort = (): void => kill('aborted');
      if (options.signal?.aborted) { kill('aborted'); return; }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (this.#closed) { finish(`connection to ${this.node} is closed`); return; }
      try {
        this.#client.exec(command.__shell, (openErr, stream) => {
          if (done) { stream?.close(); return; }
          if (openErr) { finish(`cannot open a channel: ${openErr.message}`); return; }
          channel = stream;
          stream.on('data', (d: Buffer) => out.push(d));
          stream.stderr.on('data', (d: Buffer) => err.push(d));
          stream.on('exit', (c: number | null, s?: string) => {
            code = typeof c === 'number' ? c : null;
            signal = s ?? null;
          });
          stream.on('close', () => finish());
          stream.on('error', (e: Error) => finish(e.message));
          if (options.stdin !== undefined) stream.end(options.stdin);
          else stream.end();
        });
      } catch (e) {
        this.#closed = true;
        finish(`cannot run the command: ${errorText(e)}`);
      }
    });
  }

  close(): void {
    this.#closed = true;
    this.#client.end();
  }
}

type DialOutcome =
  | { ok: true; client: Client; hostKey: HostKeyInfo }
  | { ok: false; attempt: ReachAttempt; final: boolean; hostKey?: Reach['host_key'] };

type Verdict = 'match' | 'changed' | 'unknown' | 'tofu' | 'revoked';

function pinNames(target: ConnectTarget): string {
  return target.knownHostsName ?? 'fleet/known_hosts';
}

function dialAddress(target: ConnectTarget, address: string, ip: string): Promise<DialOutcome> {
  const pinnedBlobs = target.knownHostKeys.map((k) => splitKeyText(k)).filter((k) => k !== null);
  const revoked = new Set((target.revokedHostKeys ?? []).map((k) => splitKeyText(k)?.key).filter((k) => k !== undefined));
  const names = knownHostsNames(target);
  return new Promise<DialOutcome>((resolve) => {
    const client = new Client();
    let seen: { keyType: string; key: string; fingerprint: string } | null = null;
    let verdict: Verdict | null = null;
    let settled = false;
    const finish = (outcome: DialOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(safety);
      client.removeAllListeners();
      if (!outcome.ok) {
        client.on('error', () => {});
        client.end();
        client.destroy();
      }
      resolve(outcome);
    };
    const hostKeyLine = (): string => (seen ? formatKnownHostsEntry(names, seen.keyType, seen.key) : '');
    const fail = (result: ReachAttempt['result'], message: string, final = false): void => {
      const expected = pinnedBlobs[0] ? fingerprint(pinnedBlobs[0].key) : undefined;
      const hostKey: Reach['host_key'] | undefined = seen
        ? { fingerprint: seen.fingerprint, line: hostKeyLine(), ...(expected && result === 'host-key-changed' ? { expected } : {}) }
        : undefined;
      finish({ ok: false, attempt: { address, result, message }, final, ...(hostKey ? { hostKey } : {}) });
    };
    const classify = (err: Error & { level?: string; code?: string }): void => {
      if (verdict === 'changed' || verdict === 'revoked') {
        const expected = pinnedBlobs.map((p) => fingerprint(p.key)).join(' or ');
        const why = verdict === 'revoked' ? `presented ${seen?.fingerprint ?? 'a key'}, which ${pinNames(target)} marks @revoked` : `presented ${seen?.fingerprint ?? 'a different key'}, expected ${expected} (${pinNames(target)})`;
        fail('host-key-changed', `host key changed: ${target.node} at ${address} ${why}. Nothing was run on it. If the Mac was reinstalled or its key rotated on purpose, check the fingerprint on the Mac (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and run \`fleet trust ${target.node}\`; otherwise treat it as a possible impostor.`, true);
        return;
      }
      if (verdict === 'unknown') {
        fail('host-key-unknown', `unknown host key: ${target.node} at ${address} presented ${seen?.fingerprint ?? '?'} and ${pinNames(target)} pins none for it. Check the fingerprint on the Mac (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run \`fleet trust ${target.node}\` (or set ssh.trust_on_first_use in fleet/fleet.yaml).`, true);
        return;
      }
      if (err.level === 'client-timeout') {
        fail('timeout', `no SSH handshake from ${address} within ${seconds(target.connectTimeoutMs)}`);
        return;
      }
      if (err.level === 'client-authentication') {
        fail('auth-failed', `${target.node} at ${address} refused the key ${target.keyPath ?? ''} for user ${target.user}: install Bob's public key in ~${target.user}/.ssh/authorized_keys on the node (the SSH bootstrap step)`.replace('  ', ' '), true);
        return;
      }
      if (err.level === 'client-socket' || err.code) {
        if (err.code === 'ECONNREFUSED') { fail('refused', `connection refused by ${address}:${target.port} (Remote Login off, or the Mac is starting)`); return; }
        if (err.code === 'ETIMEDOUT') { fail('timeout', `no answer from ${address}:${target.port} within ${seconds(target.connectTimeoutMs)}`); return; }
        if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'EHOSTDOWN') { fail('timeout', `no route to ${address}: the Mac is off or away (${err.code})`); return; }
      }
      if (/no matching host key/i.test(err.message) && pinnedBlobs.length > 0) {
        fail('host-key-changed', `host key changed: ${target.node} at ${address} offers no key of the pinned type (${[...new Set(pinnedBlobs.map((p) => p.keyType))].join(', ')}). Nothing was run on it. Check the Mac's keys, then run \`fleet trust ${target.node}\`.`, true);
        return;
      }
      fail('error', `${address}: ${err.message}`);
    };
    // Backstop for a peer that stalls in a way readyTimeout does not cover.
    const safety = setTimeout(() => fail('timeout', `no SSH session from ${address} within ${seconds(target.connectTimeoutMs)}`), target.connectTimeoutMs + 250);
    client.on('ready', () => {
      if (!seen) { fail('error', `${address}: no host key seen`); return; }
      finish({ ok: true, client, hostKey: { ...seen, line: hostKeyLine(), trustedOnFirstUse: verdict === 'tofu' } });
    });
    // Each exec is a few small packets each way; with Nagle on, every one
    // waits out the peer's delayed ACK (~40 ms on Linux, more on macOS).
    client.on('connect', () => client.setNoDelay(true));
    client.on('error', (err: Error) => classify(err));
    client.on('close', () => classify(new Error('connection closed during the handshake')));
    const algorithms = hostKeyAlgorithmsFor(pinnedBlobs.map((p) => p.keyType));
    try {
      client.connect({
        host: ip,
        port: target.port,
        username: target.user,
        privateKey: target.privateKey,
        readyTimeout: target.connectTimeoutMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        ...(algorithms ? { algorithms } : {}),
        hostVerifier: (blob: Buffer): boolean => {
          const key = blob.toString('base64');
          seen = { keyType: keyTypeOf(blob) ?? 'unknown', key, fingerprint: fingerprint(blob) };
          if (revoked.has(key)) verdict = 'revoked';
          else if (pinnedBlobs.some((p) => p.key === key)) verdict = 'match';
          else if (pinnedBlobs.length > 0) verdict = 'changed';
          else verdict = target.trustOnFirstUse ? 'tofu' : 'unknown';
          return verdict === 'match' || verdict === 'tofu';
        },
      });
    } catch (err) {
      fail('error', `cannot use the SSH key ${target.keyPath ?? ''}: ${errorText(err)}`.replace('  ', ' '), true);
    }
  });
}

async function resolveWithin(guard: ConnectionGuard, address: string, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${seconds(ms)}`)), ms);
  });
  try {
    return await Promise.race([guard.resolve(address), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The node-level status when no address gave a session. */
function summarizeAttempts(node: string, attempts: ReachAttempt[]): Reach {
  const message = attempts.length === 0
    ? `${node} has no address to try`
    : attempts.map((a) => a.message ?? `${a.address}: ${a.result}`).join('; ');
  const results = attempts.map((a) => a.result);
  let status: Reach['status'] = 'unreachable';
  const dialled = results.filter((r) => r !== 'blocked');
  if (dialled.length > 0 && dialled.every((r) => r === 'timeout')) status = 'timeout';
  else if (dialled.length > 0 && dialled.every((r) => r === 'error')) status = 'error';
  return { status, message, attempts };
}

/** The IP to dial for `address`, or undefined with the reason (blocked, DNS) recorded as an attempt. */
async function resolveOrRecord(guard: ConnectionGuard, address: string, timeoutMs: number, attempts: ReachAttempt[]): Promise<string | undefined> {
  try {
    return await resolveWithin(guard, address, timeoutMs);
  } catch (err) {
    if (err instanceof LoopbackViolation) attempts.push({ address, result: 'blocked', message: `${address}: not dialled (FLEET_LOOPBACK_ONLY=1 allows only loopback)` });
    else attempts.push({ address, result: 'dns', message: `${address}: cannot resolve (${errorText(err)})` });
    return undefined;
  }
}

/**
 * Logs in to a node: each address through guard.resolve() (a blocked address is
 * recorded and never dialled), host key checked in the handshake (a mismatch
 * stops everything before auth), then the key auth. An auth failure or a host
 * key problem ends the search: the right Mac answered and said no.
 */
export async function connectNode(target: ConnectTarget, guard: ConnectionGuard): Promise<ConnectResult> {
  const attempts: ReachAttempt[] = [];
  const keyMissing = target.privateKey === '' || (Buffer.isBuffer(target.privateKey) && target.privateKey.length === 0);
  for (const address of target.addresses) {
    const ip = await resolveOrRecord(guard, address, target.connectTimeoutMs, attempts);
    if (ip === undefined) continue;
    if (keyMissing) {
      attempts.push({ address, result: 'error', message: `no SSH private key${target.keyPath ? ` at ${target.keyPath}` : ''}: set ssh.key_path in fleet/fleet.yaml to a readable key` });
      return { ok: false, reach: { status: 'error', message: attempts.at(-1)?.message ?? '', attempts } };
    }
    const outcome = await dialAddress(target, address, ip);
    if (outcome.ok) {
      attempts.push({ address, result: 'ok' });
      const session = new SshSession(target.node, address, outcome.client, target.commandTimeoutMs);
      const { hostKey } = outcome;
      return {
        ok: true,
        session,
        hostKey,
        reach: {
          status: 'ok',
          address,
          attempts,
          ...(hostKey.trustedOnFirstUse ? { message: `trusted the host key ${hostKey.fingerprint} on first use: add this line to ${pinNames(target)}: ${hostKey.line}` } : {}),
          host_key: { fingerprint: hostKey.fingerprint, line: hostKey.line, ...(hostKey.trustedOnFirstUse ? { trusted_on_first_use: true } : {}) },
        },
      };
    }
    attempts.push(outcome.attempt);
    if (outcome.final) {
      const status = outcome.attempt.result as Reach['status'];
      return {
        ok: false,
        reach: { status, address, message: outcome.attempt.message ?? status, attempts, ...(outcome.hostKey ? { host_key: outcome.hostKey } : {}) },
      };
    }
  }
  return { ok: false, reach: summarizeAttempts(target.node, attempts) };
}

export type ScanResult =
  | { ok: true; address: string; keyType: string; key: string; fingerprint: string; line: string }
  | { ok: false; reach: Reach };

/**
 * Reads a node's host key without logging in (like ssh-keyscan): the handshake
 * stops at the key, so it works before Bob's key is installed on the node.
 */
export async function scanHostKey(target: Omit<ConnectTarget, 'knownHostKeys' | 'trustOnFirstUse' | 'commandTimeoutMs'>, guard: ConnectionGuard): Promise<ScanResult> {
  const attempts: ReachAttempt[] = [];
  const names = knownHostsNames(target);
  for (const address of target.addresses) {
    const ip = await resolveOrRecord(guard, address, target.connectTimeoutMs, attempts);
    if (ip === undefined) continue;
    const seen = await new Promise<{ keyType: string; key: string } | ReachAttempt>((resolve) => {
      const client = new Client();
      let done = false;
      const finish = (v: { keyType: string; key: string } | ReachAttempt): void => {
        if (done) return;
        done = true;
        clearTimeout(safety);
        client.removeAllListeners();
        client.on('error', () => {});
        client.destroy();
        resolve(v);
      };
      const safety = setTimeout(() => finish({ address, result: 'timeout', message: `no SSH handshake from ${address} within ${seconds(target.connectTimeoutMs)}` }), target.connectTimeoutMs + 250);
      let captured: { keyType: string; key: string } | null = null;
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (captured) finish(captured);
        else if (err.code === 'ECONNREFUSED') finish({ address, result: 'refused', message: `connection refused by ${address}:${target.port}` });
        else if (err.level === 'client-timeout') finish({ address, result: 'timeout', message: `no SSH handshake from ${address} within ${seconds(target.connectTimeoutMs)}` });
        else finish({ address, result: 'error', message: `${address}: ${err.message}` });
      });
      client.on('close', () => finish(captured ?? { address, result: 'error', message: `${address}: connection closed before a host key was seen` }));
      client.connect({
        host: ip,
        port: target.port,
        username: target.user,
        readyTimeout: target.connectTimeoutMs,
        hostVerifier: (blob: Buffer): boolean => {
          // Refusing ends the handshake here: nothing is authenticated or run.
          captured = { keyType: keyTypeOf(blob) ?? 'unknown', key: blob.toString('base64') };
          return false;
        },
      });
    });
    if ('key' in seen) {
      return { ok: true, address, ...seen, fingerprint: fingerprint(seen.key), line: formatKnownHostsEntry(names, seen.keyType, seen.key) };
    }
    attempts.push(seen);
  }
  return { ok: false, reach: summarizeAttempts(target.node, attempts) };
}
