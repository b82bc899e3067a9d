// The fleet lock with real processes: a live child holds it, a killed child
// leaves a stale lock that is taken over with a log line.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, assessLock, defaultLockPath, isProcessAlive, readLock, tryAcquireLock, withLock } from '../../reconciler/src/bob/lock.ts';
import type { LockInfo } from '../../reconciler/src/bob/lock.ts';
import type { Log } from '../../reconciler/src/ports.ts';
import { FleetError } from '../../reconciler/src/errors.ts';

const HOLDER = join(import.meta.dirname, '../fixtures/daemon/hold-lock.ts');

let tmp: string;
let lockPath: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-lock-'));
  lockPath = join(tmp, 'state', 'fleet.lock');
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

function recordingLog(): Pick<Log, 'info' | 'warn'> & { lines: { level: string; fields: object; message: string }[] } {
  const lines: { level: string; fields: object; message: string }[] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
  };
}

/** Starts a child process that takes the lock; resolves once it holds it. */
async function startHolder(): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [HOLDER, lockPath], { stdio: 'pipe' });
  children.push(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('locked\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`holder exited ${code}: ${out}`)));
  });
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  await once(child, 'exit');
  return pid;
}

function lockFor(pid: number, overrides: Partial<LockInfo> = {}): LockInfo {
  const now = new Date().toISOString();
  return { pid, hostname: hostname(), command: 'fleet apply', process_started_at: now, acquired_at: now, token: 'feedfacefeedface', ...overrides };
}

describe('defaultLockPath', () => {
  it('is ~/.symphony/fleet.lock unless FLEET_LOCK_FILE says otherwise', () => {
    expect(defaultLockPath({}, '/Users/bob')).toBe('/Users/bob/.symphony/fleet.lock');
    expect(defaultLockPath({ FLEET_LOCK_FILE: '/tmp/x.lock' }, '/Users/bob')).toBe('/tmp/x.lock');
  });
});

describe('assessLock', () => {
  const alive = new Set([100]);
  const context = { hostname: 'bob', isAlive: (pid: number) => alive.has(pid), bootTimeMs: Date.parse('2026-11-24T08:00:00Z') };
  const base: LockInfo = { pid: 100, hostname: 'bob', command: 'fleet daemon', process_started_at: '2026-11-24T09:00:00Z', acquired_at: '2026-11-24T09:00:01Z', token: 't' };
  it.each([
    ['a live pid holds it', base, 'held'],
    ['a dead pid is stale', { ...base, pid: 101 }, 'stale'],
    ['a lock from before the last boot is stale even if its pid now exists', { ...base, acquired_at: '2026-11-24T07:59:00Z' }, 'stale'],
    ['another host\'s lock is never stolen', { ...base, pid: 101, hostname: 'maestro' }, 'held'],
    ['an unreadable lock is stale', null, 'stale'],
  ] as const)('%s', (_name, info, state) => {
    expect(assessLock(info, context).state).toBe(state);
  });
});

describe('the lock between processes', () => {
  it('a live process holds it: no second holder, a clear error naming the holder', async () => {
    const child = await startHolder();
    const info = await readLock(lockPath);
    expect(info).toMatchObject({ pid: child.pid, command: 'fleet apply (test holder)', hostname: hostname() });
    expect(Date.parse(info?.process_started_at ?? '')).toBeLessThanOrEqual(Date.parse(info?.acquired_at ?? ''));

    const attempt = await tryAcquireLock(lockPath);
    expect(attempt).toEqual({ heldBy: info });
    const err = await acquireLock(lockPath, { wait: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('lock-held');
    expect((err as Error).message).toContain(`held by fleet apply (test holder) (pid ${child.pid}`);
  });

  it('waits for a live holder and gets the lock once it releases', async () => {
    const child = await startHolder();
    const log = recordingLog();
    // The holder is asked to let go only after the waiter has found it alive three times.
    let looks = 0;
    let letGo = false;
    const isAlive = (pid: number): boolean => {
      looks++;
      if (looks === 3) { letGo = true; child.kill('SIGTERM'); }
      return isProcessAlive(pid);
    };
    const lock = await acquireLock(lockPath, { wait: true, timeoutMs: 10_000, pollMs: 50, log, command: 'fleet daemon', isAlive });
    expect(letGo).toBe(true);
    expect(looks).toBeGreaterThanOrEqual(3);
    expect(lock.info.pid).toBe(process.pid);
    expect(log.lines.map((l) => l.message)).toEqual(['waiting for the fleet lock']);
    await lock.release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('gives up waiting after the timeout', async () => {
    await startHolder();
    // A look every pollMs: 300 ms give about 7 looks. A waiter that ignored its
    // timeout is stopped at twice that and fails here with an abort instead.
    let looks = 0;
    const overrun = new AbortController();
    const isAlive = (pid: number): boolean => {
      if (++looks >= 14) overrun.abort(new Error(`still waiting after ${looks} looks`));
      return isProcessAlive(pid);
    };
    await expect(acquireLock(lockPath, { wait: true, timeoutMs: 300, pollMs: 50, isAlive, signal: overrun.signal })).rejects.toThrow(/gave up waiting/);
    expect(looks).toBeGreaterThanOrEqual(2); // it did wait before giving up
  });

  it('a killed holder leaves a stale lock that is taken over with a log line', async () => {
    const child = await startHolder();
    const pid = child.pid;
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect((await readLock(lockPath))?.pid).toBe(pid);
    const log = recordingLog();
    const lock = await acquireLock(lockPath, { wait: false, log });
    expect(lock.info.pid).toBe(process.pid);
    expect(log.lines).toEqual([{ level: 'warn', message: 'stale lock taken over', fields: expect.objectContaining({ stale_pid: pid, why: `process ${pid} is gone` }) }]);
    await lock.release();
  });

  it('a lock file naming a dead pid is stale; an unparsable one too', async () => {
    await mkdir(dirname(lockPath), { recursive: true });
    await writeFile(lockPath, JSON.stringify(lockFor(await deadPid())));
    const first = await tryAcquireLock(lockPath);
    expect('release' in first).toBe(true);
    if ('release' in first) await first.release();
    await writeFile(lockPath, 'not json');
    const second = await tryAcquireLock(lockPath);
    expect('release' in second).toBe(true);
  });
});

describe('withLock', () => {
  it('releases the lock when the function throws, and only removes its own lock', async () => {
    await expect(withLock(lockPath, () => Promise.reject(new Error('boom')), { wait: false })).rejects.toThrow('boom');
    expect(existsSync(lockPath)).toBe(false);
    const log = recordingLog();
    const result = await withLock(lockPath, async (lock) => {
      // someone else takes over meanwhile (e.g. a person deleted and re-created it)
      await writeFile(lockPath, JSON.stringify(lockFor(process.pid, { token: 'someone-else' })));
      expect(lock.info.token).not.toBe('someone-else');
      return 42;
    }, { wait: false, log });
    expect(result).toBe(42);
    expect(JSON.parse(await readFile(lockPath, 'utf8')).token).toBe('someone-else');
    expect(log.lines.map((l) => l.message)).toEqual(['lock was taken over before release']);
  });

  it('two holders in one process exclude each other (no re-entry by pid)', async () => {
    const order: string[] = [];
    let releaseFirst: () => void = () => undefined;
    let firstIn: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => { firstIn = resolve; });
    const first = withLock(lockPath, async () => {
      order.push('first in');
      firstIn();
      await new Promise<void>((resolve) => { releaseFirst = resolve; });
      order.push('first out');
    }, { wait: false });
    await holding;
    await expect(withLock(lockPath, () => { order.push('skipped'); return Promise.resolve(); }, { wait: false })).rejects.toThrow(/held by/);
    // The first lets go once the second has found it held twice.
    let looks = 0;
    const isAlive = (pid: number): boolean => {
      if (++looks === 2) releaseFirst();
      return isProcessAlive(pid);
    };
    const second = withLock(lockPath, () => { order.push('second in'); return Promise.resolve(); }, { wait: true, pollMs: 20, timeoutMs: 5000, isAlive });
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('stops waiting when aborted', async () => {
    await startHolder();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(acquireLock(lockPath, { wait: true, pollMs: 20, signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
