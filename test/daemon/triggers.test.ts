// The scheduler with real timers (kept short), real node-cron, real chokidar
// on a temp dir, and a fake reconcile that records its calls.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScheduler } from '../../reconciler/src/daemon/triggers.ts';
import type { ReconcileRequest, Scheduler, SchedulerOptions, TriggerReason } from '../../reconciler/src/daemon/triggers.ts';
import { FleetError } from '../../reconciler/src/errors.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A fake reconcile: records calls, checks no two overlap, and can be held open. */
function fakeReconcile() {
  const calls: { reasons: TriggerReason[]; signal: AbortSignal }[] = [];
  let active = 0;
  let maxActive = 0;
  let gate: Promise<void> | null = null;
  let open: () => void = () => undefined;
  return {
    calls,
    get maxActive() { return maxActive; },
    hold() { gate = new Promise<void>((r) => { open = r; }); },
    release() { const g = open; gate = null; g(); },
    async reconcile(req: ReconcileRequest): Promise<void> {
      active++;
      maxActive = Math.max(maxActive, active);
      calls.push({ reasons: req.reasons, signal: req.signal });
      try {
        if (gate) await gate;
      } finally {
        active--;
      }
    },
  };
}

const schedulers: Scheduler[] = [];
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-triggers-'));
});
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop({ timeoutMs: 200 });
  await rm(tmp, { recursive: true, force: true });
});

function make(options: SchedulerOptions): Scheduler {
  const s = createScheduler(options);
  schedulers.push(s);
  return s;
}

describe('scheduler', () => {
  it('reconciles once on start', async () => {
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r) });
    await s.start();
    await s.idle();
    expect(f.calls.map((c) => c.reasons)).toEqual([['start']]);
    expect(s.status()).toMatchObject({ running: false, runs: 1, pending: [] });
  });

  it('never runs two at once: triggers during a run coalesce into one follow-up run', async () => {
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false });
    await s.start();
    f.hold();
    s.trigger('webhook');
    await until(() => f.calls.length === 1);
    s.trigger('webhook');
    s.trigger('drift');
    s.trigger('webhook');
    s.trigger('commit');
    expect(s.status().pending).toEqual(['webhook', 'drift', 'commit']);
    f.release();
    await s.idle();
    expect(f.calls.map((c) => c.reasons)).toEqual([['webhook'], ['webhook', 'drift', 'commit']]);
    expect(f.maxActive).toBe(1);
  });

  it('a webhook trigger starts a run at once', async () => {
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false, pollIntervalMs: 60_000, checkForCommits: () => Promise.resolve(false) });
    await s.start();
    const t0 = Date.now();
    s.trigger('webhook');
    await until(() => f.calls.length === 1);
    expect(Date.now() - t0).toBeLessThan(100);
  });

  it('polls for commits on the interval, and reconciles when the poll finds some', async () => {
    const f = fakeReconcile();
    const answers = [false, false, true, false];
    let checks = 0;
    const s = make({
      reconcile: (r) => f.reconcile(r), runOnStart: false, pollIntervalMs: 30,
      checkForCommits: () => { checks++; return Promise.resolve(answers.shift() ?? false); },
    });
    await s.start();
    await until(() => f.calls.length === 1);
    expect(checks).toBe(3);
    expect(f.calls[0]?.reasons).toEqual(['commit']);
  });

  it('skips poll ticks while a reconcile runs (they would race in the same clone)', async () => {
    const f = fakeReconcile();
    let checks = 0;
    let checkDuringRun = false;
    let running = false;
    const s = make({
      reconcile: async (r) => { running = true; try { await f.reconcile(r); } finally { running = false; } },
      pollIntervalMs: 20,
      checkForCommits: () => { checks++; if (running) checkDuringRun = true; return Promise.resolve(false); },
    });
    f.hold();
    await s.start();
    await sleep(150);
    expect(checks).toBe(0);
    f.release();
    await until(() => checks >= 2);
    expect(checkDuringRun).toBe(false);
  });

  it('a trigger arriving during a poll check runs right after it', async () => {
    const f = fakeReconcile();
    let releaseCheck: () => void = () => undefined;
    const s = make({
      reconcile: (r) => f.reconcile(r), runOnStart: false, pollIntervalMs: 10,
      checkForCommits: () => new Promise<boolean>((resolve) => { releaseCheck = () => resolve(false); }),
    });
    await s.start();
    await until(() => s.status().running);
    s.trigger('webhook');
    await sleep(30);
    expect(f.calls).toHaveLength(0);
    releaseCheck();
    await until(() => f.calls.length === 1);
    expect(f.calls[0]?.reasons).toEqual(['webhook']);
  });

  it('runs on the drift cron schedule (real node-cron, every second)', async () => {
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false, driftCron: '* * * * * *' });
    await s.start();
    await until(() => f.calls.length >= 1, 3000);
    expect(f.calls[0]?.reasons).toEqual(['drift']);
  });

  it('rejects an invalid cron expression with an actionable error', () => {
    expect(() => createScheduler({ reconcile: () => Promise.resolve(), driftCron: '*/99 * *' })).toThrow(FleetError);
    expect(() => createScheduler({ reconcile: () => Promise.resolve(), driftCron: 'every day' })).toThrow(/drift_cron/);
  });

  it('dev mode: a burst of changes in the watched dir gives one debounced run; .git/ and generated/ are ignored', async () => {
    await mkdir(join(tmp, 'fleet', 'nodes'), { recursive: true });
    await mkdir(join(tmp, '.git'), { recursive: true });
    await mkdir(join(tmp, 'generated'), { recursive: true });
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false, watchDir: tmp, watchDebounceMs: 150 });
    await s.start();
    await writeFile(join(tmp, '.git', 'index'), 'x');
    await writeFile(join(tmp, 'generated', 'nodes_registry.json'), '{}');
    await sleep(400);
    expect(f.calls).toHaveLength(0);
    await writeFile(join(tmp, 'fleet', 'nodes', 'virtuoso.yaml'), 'name: virtuoso\n');
    await sleep(30);
    await writeFile(join(tmp, 'fleet', 'nodes', 'virtuoso.yaml'), 'name: virtuoso\nrole: llm_worker\n');
    await writeFile(join(tmp, 'fleet', 'fleet.yaml'), 'x: 1\n');
    await until(() => f.calls.length === 1);
    await sleep(300);
    expect(f.calls.map((c) => c.reasons)).toEqual([['watch']]);
  });

  it('keeps going after a failing reconcile, reporting the error', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const s = make({
      reconcile: () => { n++; return n === 1 ? Promise.reject(new Error('ssh exploded')) : Promise.resolve(); },
      onError: (err) => errors.push(err),
    });
    await s.start();
    await s.idle();
    expect(s.status().last?.error).toBe('ssh exploded');
    s.trigger('manual');
    await s.idle();
    expect(n).toBe(2);
    expect(errors.map(String)).toEqual(['Error: ssh exploded']);
    expect(s.status().last?.error).toBeNull();
  });

  it('stop() aborts the run\'s signal, waits for it to return, and clears every timer and watcher', async () => {
    let aborted = false;
    let checks = 0;
    let resolveStarted: () => void = () => undefined;
    const started = new Promise<void>((r) => { resolveStarted = r; });
    const s = make({
      reconcile: ({ signal }) => new Promise<void>((resolve) => {
        resolveStarted();
        signal.addEventListener('abort', () => { aborted = true; setTimeout(resolve, 50); });
      }),
      pollIntervalMs: 10,
      checkForCommits: () => { checks++; return Promise.resolve(false); },
      driftCron: '* * * * * *',
      watchDir: tmp,
    });
    await s.start();
    await started;
    const t0 = Date.now();
    const result = await s.stop();
    expect(result).toEqual({ finished: true });
    expect(aborted).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    expect(s.status()).toMatchObject({ stopped: true, running: false });
    const after = checks;
    s.trigger('webhook');
    await writeFile(join(tmp, 'late.yaml'), 'x');
    await sleep(1200);
    expect(checks).toBe(after);
    expect(s.status().runs).toBe(1);
  });

  it('stop() with a grace period lets the run finish before aborting', async () => {
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r) });
    f.hold();
    await s.start();
    await until(() => f.calls.length === 1);
    setTimeout(() => f.release(), 50);
    expect(await s.stop({ graceMs: 2000 })).toEqual({ finished: true });
    expect(f.calls[0]?.signal.aborted).toBe(true); // aborted only after it returned
  });

  it('stop() gives up on a run that ignores its signal', async () => {
    const s = make({ reconcile: () => new Promise<void>(() => undefined) });
    await s.start();
    await until(() => s.status().running);
    expect(await s.stop({ timeoutMs: 100 })).toEqual({ finished: false });
  });

  it('reconfigure() changes the poll interval for the next tick', async () => {
    let checks = 0;
    const s = make({ reconcile: () => Promise.resolve(), runOnStart: false, pollIntervalMs: 60_000, checkForCommits: () => { checks++; return Promise.resolve(false); } });
    await s.start();
    await sleep(100);
    expect(checks).toBe(0);
    s.reconfigure({ pollIntervalMs: 20 });
    await until(() => checks >= 2);
    expect(() => s.reconfigure({ driftCron: 'nope' })).toThrow(/drift_cron/);
  });

  it('two schedulers in one process are independent', async () => {
    const a = fakeReconcile();
    const b = fakeReconcile();
    const sa = make({ reconcile: (r) => a.reconcile(r), runOnStart: false });
    const sb = make({ reconcile: (r) => b.reconcile(r), runOnStart: false });
    await sa.start();
    await sb.start();
    a.hold();
    sa.trigger('webhook');
    sb.trigger('webhook');
    await sb.idle();
    expect(b.calls).toHaveLength(1);
    await sb.stop();
    expect(a.calls[0]?.signal.aborted).toBe(false);
    a.release();
    await sa.idle();
  });
});
