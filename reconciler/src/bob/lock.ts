// The fleet lock: a manual `fleet apply` and the daemon never change nodes at
// the same time. A file holding the owner's pid; created with link(2) from a
// fully written temporary file, so nobody ever reads a half-written lock.
// A lock whose process is gone (killed, crashed, or from before a reboot) is
// stale and taken over with a log line.
import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir, hostname, uptime } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetError } from '../errors.ts';
import { readIfExists } from '../fs/read-if-exists.ts';
import type { Log } from '../ports.ts';

/**
 * The one lock path `fleet apply` and the daemon agree on, whatever their
 * workdirs: FLEET_LOCK_FILE, else ~/.symphony/fleet.lock.
 */
export function defaultLockPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const fromEnv = env.FLEET_LOCK_FILE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(home, '.symphony', 'fleet.lock');
}

export interface LockInfo {
  pid: number;
  hostname: string;
  /** What holds it, for the person reading the error: `fleet daemon`, `fleet apply`. */
  command: string;
  /** When the holding process started (ISO). */
  process_started_at: string;
  acquired_at: string;
  /** Tells two holders in the same process apart (two daemons in one test run). */
  token: string;
}

export interface HeldLock {
  path: string;
  info: LockInfo;
  /** Removes the lock if it is still ours; idempotent. */
  release(): Promise<void>;
}

/** Enough of a pino logger for the two lines the lock writes. */
export interface LockOptions {
  command?: string;
  log?: Pick<Log, 'info' | 'warn'>;
  /** Liveness probe, injectable for tests; default: signal 0 to the pid. */
  isAlive?: (pid: number) => boolean;
  /** Epoch ms of the last boot; a lock taken before it is stale (its pid may be reused). */
  bootTimeMs?: number;
}

export interface WaitOptions extends LockOptions {
  /** false: fail at once when held; true: poll until free or timeoutMs. */
  wait: boolean;
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export type LockVerdict = { state: 'held'; info: LockInfo } | { state: 'stale'; info: LockInfo | null; why: string };

/** Decides whether an existing lock still belongs to a live process. Pure given its inputs. */
export function assessLock(info: LockInfo | null, context: { hostname: string; isAlive: (pid: number) => boolean; bootTimeMs: number }): LockVerdict {
  if (info === null) return { state: 'stale', info, why: 'the lock file is unreadable' };
  // Another machine's pid means nothing here: never steal it.
  if (info.hostname !== context.hostname) return { state: 'held', info };
  const started = Date.parse(info.acquired_at);
  if (Number.isFinite(started) && started < context.bootTimeMs) return { state: 'stale', info, why: 'taken before the last boot' };
  if (!context.isAlive(info.pid)) return { state: 'stale', info, why: `process ${info.pid} is gone` };
  return { state: 'held', info };
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readLock(path: string): Promise<LockInfo | null | undefined> {
  const text = await readIfExists(path);
  return text === undefined ? undefined : parseLock(text);
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return null;
    if (typeof v.token !== 'string' || typeof v.acquired_at !== 'string') return null;
    return {
      pid: v.pid, token: v.token, acquired_at: v.acquired_at,
      hostname: typeof v.hostname === 'string' ? v.hostname : '',
      command: typeof v.command === 'string' ? v.command : 'unknown',
      process_started_at: typeof v.process_started_at === 'string' ? v.process_started_at : v.acquired_at,
    };
  } catch {
    return null;
  }
}

/** One attempt: the lock, or who holds it. */
export async function tryAcquireLock(path: string, options: LockOptions = {}): Promise<HeldLock | { heldBy: LockInfo }> {
  const now = Date.now();
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    command: options.command ?? 'fleet',
    process_started_at: new Date(now - process.uptime() * 1000).toISOString(),
    acquired_at: new Date(now).toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const context = {
    hostname: info.hostname,
    isAlive: options.isAlive ?? isProcessAlive,
    bootTimeMs: options.bootTimeMs ?? now - uptime() * 1000,
  };
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${info.token}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  try {
    // A few rounds: each stale takeover may race with another process doing the same.
    for (let round = 0; round < 5; round++) {
      try {
        await link(tmp, path);
        return makeHeld(path, info, options.log);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const raw = await readIfExists(path);
      if (raw === undefined) continue; // released between link and read
      const verdict = assessLock(parseLock(raw), context);
      if (verdict.state === 'held') return { heldBy: verdict.info };
      await removeStale(path, raw, verdict, options.log);
    }
    throw new FleetError('lock-held', `could not take the lock ${path}: it keeps changing hands; retry in a moment`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

// Move the stale file aside under a unique name and check it is still the one
// judged stale: if another process replaced it meanwhile, put theirs back.
async function removeStale(path: string, raw: string, verdict: Extract<LockVerdict, { state: 'stale' }>, log: Pick<Log, 'info' | 'warn'> | undefined): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readIfExists(aside);
  if (moved !== raw) {
    await link(aside, path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return;
  }
  await unlink(aside).catch(() => undefined);
  log?.warn({ lock: path, stale_pid: verdict.info?.pid ?? null, stale_command: verdict.info?.command ?? null, since: verdict.info?.acquired_at ?? null, why: verdict.why }, 'stale lock taken over');
}

function makeHeld(path: string, info: LockInfo, log: Pick<Log, 'info' | 'warn'> | undefined): HeldLock {
  let released = false;
  return {
    path,
    info,
    async release() {
      if (released) return;
      released = true;
      const current = await readLock(path);
      if (current?.token !== info.token) {
        log?.warn({ lock: path, holder_pid: current?.pid ?? null }, 'lock was taken over before release');
        return;
      }
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}

function describeHolder(path: string, info: LockInfo): string {
  return `${path} is held by ${info.command} (pid ${info.pid} on ${info.hostname}, since ${info.acquired_at})`;
}

/** Takes the lock, waiting for it when `wait` is set; throws FleetError('lock-held') otherwise. */
export async function acquireLock(path: string, options: WaitOptions): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const pollMs = options.pollMs ?? 500;
  let announced = false;
  for (;;) {
    const result = await tryAcquireLock(path, options);
    if (!('heldBy' in result)) return result;
    if (!options.wait) {
      throw new FleetError('lock-held', `the fleet lock ${describeHolder(path, result.heldBy)}; wait for it to finish (or stop it) and run again`);
    }
    if (Date.now() >= deadline) {
      throw new FleetError('lock-held', `gave up waiting after ${formatSeconds(options.timeoutMs ?? 0)}: the fleet lock ${describeHolder(path, result.heldBy)}`);
    }
    if (!announced) {
      options.log?.info({ lock: path, holder_pid: result.heldBy.pid, holder: result.heldBy.command }, 'waiting for the fleet lock');
      announced = true;
    }
    options.signal?.throwIfAborted();
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())), undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** Runs `fn` holding the lock and releases it however `fn` ends. */
export async function withLock<T>(path: string, fn: (lock: HeldLock) => Promise<T>, options: WaitOptions): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/** 30 s, 1.5 s, 0.3 s: a short wait is not "0 s". */
function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Number(s.toFixed(1))} s`;
}
