// How `fleet daemon` starts its process: the pure decisions (which command
// re-executes, with what), and the real launcher: a `fleet daemon` child runs
// with the daemon's V8 flags under its own pid, and when its sources were not
// in the compile cache it starts once more from the cache it just wrote.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAEMON_NODE_FLAGS,
  isDaemonRun,
  RELAUNCHED_ENV,
  relaunchWarm,
  relaunchWithFlags,
  type ProcessImage,
} from '../../reconciler/src/daemon/relaunch.ts';
import { freePort } from '../../reconciler/src/net/free-port.ts';
import { createOrigin } from '../../reconciler/src/sim/origin.ts';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';

const repo = join(import.meta.dirname, '..', '..');
const launcher = join(repo, 'reconciler', 'bin', 'fleet.mjs');
const node24 = join(repo, 'node_modules', '.bin', 'node');

const image = (over: Partial<ProcessImage> = {}): ProcessImage => ({
  execPath: '/usr/local/bin/node',
  execArgv: [],
  argv: ['/usr/local/bin/node', '/srv/fleet/reconciler/bin/fleet.mjs', 'daemon', '--repo', '/srv/fleet.git'],
  env: { HOME: '/Users/bob' },
  ...over,
});

describe('isDaemonRun', () => {
  it.each([
    [['daemon', '--repo', 'x'], true],
    [['daemon'], true],
    [['daemon', 'install', '--repo', 'x'], false],
    [['daemon', 'uninstall'], false],
    [['daemon', '--help'], false],
    [['daemon', '-h'], false],
    [['daemon', 'help'], false],
    [['status'], false],
    [['plan', 'daemon'], false],
  ])('%j -> %s', (args, expected) => {
    expect(isDaemonRun(args)).toBe(expected);
  });
});

describe('relaunchWithFlags', () => {
  it('runs the same script and arguments with the daemon flags before the script', () => {
    expect(relaunchWithFlags(image())).toEqual({
      file: '/usr/local/bin/node',
      args: ['/usr/local/bin/node', ...DAEMON_NODE_FLAGS, '/srv/fleet/reconciler/bin/fleet.mjs', 'daemon', '--repo', '/srv/fleet.git'],
      env: { HOME: '/Users/bob' },
    });
  });

  it('leaves a process alone that already runs with Node flags (its own relaunch, or a person\'s choice)', () => {
    expect(relaunchWithFlags(image({ execArgv: [...DAEMON_NODE_FLAGS] }))).toBeNull();
    expect(relaunchWithFlags(image({ execArgv: ['--max-old-space-size=512'] }))).toBeNull();
  });
});

describe('relaunchWarm', () => {
  it('starts again with the same flags and a marker when types had to be stripped', () => {
    const flagged = image({ execArgv: [...DAEMON_NODE_FLAGS] });
    expect(relaunchWarm(flagged, true)).toEqual({
      file: '/usr/local/bin/node',
      args: ['/usr/local/bin/node', ...DAEMON_NODE_FLAGS, '/srv/fleet/reconciler/bin/fleet.mjs', 'daemon', '--repo', '/srv/fleet.git'],
      env: { HOME: '/Users/bob', [RELAUNCHED_ENV]: '1' },
    });
  });

  it('does nothing when the sources came from the cache, and at most once', () => {
    expect(relaunchWarm(image(), false)).toBeNull();
    expect(relaunchWarm(image({ env: { [RELAUNCHED_ENV]: '1' } }), true)).toBeNull();
  });
});

describe('fleet daemon as a process', () => {
  const root = mkdtempSync(join(tmpdir(), 'fleet-relaunch-'));
  const origin = join(root, 'origin.git');
  // A compile cache of its own: cold on the first start, warm on the second.
  const cacheDir = join(root, 'compile-cache');
  const loopbackFetch = guardedFetch(createGuard({ loopbackOnly: true }));

  beforeAll(async () => {
    await createOrigin(root, join(repo, 'fleet'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** Starts `fleet daemon`, waits for /api/health, returns its `daemon process` log line, and stops it. */
  async function startAndStop(): Promise<{ pid: number; line: Record<string, unknown> }> {
    const port = await freePort();
    const child = spawn(node24, [
      launcher, 'daemon', '--repo', origin, '--workdir', join(root, 'fleetd'), '--host', '127.0.0.1', '--port', String(port),
      '--log-level', 'info', '--poll-interval', '3600', '--drift-cron', '0 0 1 1 *',
    ], {
      env: { ...process.env, FLEET_LOOPBACK_ONLY: '1', NODE_COMPILE_CACHE: cacheDir, FLEET_WEBHOOK_SECRET: 'relaunch-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const started = Date.now();
      for (;;) {
        const ok = await loopbackFetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
        if (ok) break;
        if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`the daemon did not answer: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => l.msg === 'daemon process');
    if (!line) throw new Error(`no "daemon process" line in: ${stdout}${stderr}`);
    return { pid: child.pid ?? -1, line };
  }

  it('runs under its own pid with the daemon flags, and re-executes once when the compile cache was cold', async () => {
    const cold = await startAndStop();
    expect(cold.line).toMatchObject({ pid: cold.pid, flags: DAEMON_NODE_FLAGS, typesStripped: false, relaunched: true });
    const warm = await startAndStop();
    expect(warm.line).toMatchObject({ pid: warm.pid, flags: DAEMON_NODE_FLAGS, typesStripped: false, relaunched: false });
  }, 120_000);
});
