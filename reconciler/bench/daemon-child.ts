// Shared by bench/daemon.ts and bench/soak.ts: a `fleet daemon` child process
// on loopback (so its RSS is the daemon's alone, not the simulator's), a bare
// git repository as origin, and a person's clone that pushes commits.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonStatus } from '../src/daemon/status.ts';
import { signGithubBody } from '../src/daemon/webhook.ts';
import { freePort } from '../src/net/free-port.ts';
import { createOrigin, pushCommit as pushOnOrigin, type PushedCommit } from '../src/sim/origin.ts';
import { createGuard, guardedFetch } from '../src/net/guard.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FLEET_CLI = join(REPO_ROOT, 'reconciler', 'bin', 'fleet.mjs');

// Every request of the benches goes through the loopback guard.
export { freePort };

export const loopbackFetch = guardedFetch(createGuard({ loopbackOnly: true }));


export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A bare origin holding a fleet/, and a person's clone of it (the demo's set-up). */
export { createOrigin };

/** The person's commit and push, rebasing when the daemon pushed first; a bench gives up after 3 pushes. */
export function pushCommit(person: string, message: string, edit: () => void): Promise<PushedCommit> {
  return pushOnOrigin(person, message, edit, 3);
}

export interface DaemonChild {
  readonly url: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** null while it runs. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  stderrTail(): string;
  status(): Promise<DaemonStatus>;
  health(timeoutMs?: number): Promise<boolean>;
  sendWebhook(after: string): Promise<number>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export interface DaemonChildOptions {
  origin: string;
  targetsFile: string;
  workdir: string;
  pollIntervalS: number;
  webhookSecret: string;
  driftCron?: string;
}

/** Starts `fleet daemon` as a child and waits until /api/health answers. */
export async function startDaemonChild(options: DaemonChildOptions): Promise<DaemonChild> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    FLEET_CLI, 'daemon', '--repo', options.origin, '--targets', options.targetsFile, '--workdir', options.workdir,
    '--host', '127.0.0.1', '--port', String(port), '--poll-interval', String(options.pollIntervalS), '--log-level', 'error',
    // No scheduled drift runs unless asked: they would blur the timings.
    '--drift-cron', options.driftCron ?? '0 0 1 1 *',
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, FLEET_LOOPBACK_ONLY: '1', FLEET_WEBHOOK_SECRET: options.webhookSecret },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4000);
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitedPromise = new Promise<void>((done) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    done();
  }));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the daemon');

  async function get(path: string, timeoutMs = 5000): Promise<Response> {
    return loopbackFetch(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  }

  const handle: DaemonChild = {
    url,
    pid,
    process: child,
    exited: () => exit,
    stderrTail: () => stderr,
    async status() {
      return (await (await get('/api/status')).json()) as DaemonStatus;
    },
    async health(timeoutMs = 5000) {
      try {
        return (await get('/api/health', timeoutMs)).ok;
      } catch {
        return false;
      }
    },
    async sendWebhook(after) {
      const body = JSON.stringify({ ref: 'refs/heads/main', after });
      const res = await loopbackFetch(`${url}/hooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithubBody(options.webhookSecret, body) },
        body,
      });
      return res.status;
    },
    async metrics() {
      return (await get('/metrics')).text();
    },
    async stop() {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };

  const started = Date.now();
  while (!(await handle.health(1000))) {
    if (exit) throw new Error(`the daemon exited at start (${JSON.stringify(exit)}): ${stderr}`);
    if (Date.now() - started > 60_000) {
      await handle.stop();
      throw new Error(`the daemon did not answer /api/health within 60 s: ${stderr}`);
    }
    await sleep(100);
  }
  return handle;
}

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc. */
export function readRssMb(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Node's own flags of a running process (`fleet daemon` re-executes itself with the daemon's), from /proc. */
export function readNodeFlags(pid: number): string[] {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  const script = argv.findIndex((a) => a.endsWith('.mjs') || a.endsWith('.ts'));
  return argv.slice(1, script < 0 ? 1 : script);
}

/** Polls until check passes; returns the elapsed ms, or throws after timeoutMs. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 50): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}

export const nodesInSync = (status: DaemonStatus, names: readonly string[]): boolean =>
  names.every((n) => status.nodes.some((x) => x.node === n && x.status === 'in-sync'));

/** True when no reconcile runs (the daemon has finished at least `after` runs). */
export const isSettled = (status: DaemonStatus, after = 0): boolean => status.reconciles > after && status.last?.result !== 'running';
