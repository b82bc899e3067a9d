// The scheduler on a hand-turned clock (its poll, debounce and stop timers
// fire only when a test advances it), real node-cron (driven by vitest's fake
// timers), real chokidar on a temp dir, and a fake reconcile that records its calls.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import cron from 'node-cron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createScheduler } from '../../reconciler/src/daemon/triggers.ts';
import type { TriggeredRun, Scheduler, SchedulerOptions, TriggerReason } from '../../reconciler/src/daemon/triggers.ts';
import type { Clock, Log } from '../../reconciler/src/ports.ts';
import { FleetError } from '../../reconciler/src/errors.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Lets every promise chain that waits on no I/O run to its end. */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** A clock that stands still until advance(): timers fire in order, each followed by a flush. */
function manualClock(): Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'> & { pending(): number; advance(ms: number): Promise<void> } {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => { seq++; timers.set(seq, { at: now + ms, fn }); return seq; },
    clearTimeout: (handle) => { timers.delete(handle as number); },
    pending: () => timers.size,
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
        if (next === undefined) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        await flush();
      }
      now = end;
      await flush();
    },
  };
}

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
    async reconcile(req: TriggeredRun): Promise<void> {
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

const schedulers: { s: Scheduler; clock: ReturnType<typeof manualClock> }[] = [];
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-triggers-'));
});
afterEach(async () => {
  for (const { s, clock } of schedulers.splice(0)) {
    const stopping = s.stop({ timeoutMs: 200 });
    await clock.advance(60_000);
    await stopping;
  }
  await rm(tmp, { recursive: true, force: true });
});

/** A scheduler on its own manual clock unless the test passes one. */
function make(options: SchedulerOptions & { clock?: ReturnType<typeof manualClock> }): Scheduler {
  const clock = options.clock ?? manualClock();
  const s = createScheduler({ ...options, clock });
  schedulers.push({ s, clock });
  return s;
}

/** A log that keeps the paths of 'watched file changed', relative to dir. */
function watchLog(dir: string): Log & { changed: string[] } {
  const changed: string[] = [];
  const ignore = (): void => undefined;
  return {
    changed,
    info: ignore, warn: ignore, error: ignore,
    debug: (fields, message) => { if (message === 'watched file changed') changed.push(relative(dir, (fields as { path: string }).path)); },
  };
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
    const clock = manualClock();
    const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false, pollIntervalMs: 60_000, checkForCommits: () => Promise.resolve(false), clock });
    await s.start();
    s.trigger('webhook');
    await flush();
    // The clock has not moved: no timer (poll, debounce) stands between the webhook and its run.
    expect(f.calls.map((c) => c.reasons)).toEqual([['webhook']]);
  });

  it('polls for commits on the interval, and reconciles when the poll finds some', async () => {
    const f = fakeReconcile();
    const answers = [false, false, true, false];
    let checks = 0;
    const clock = manualClock();
    const s = make({
      reconcile: (r) => f.reconcile(r), runOnStart: false, pollIntervalMs: 30,
      checkForCommits: () => { checks++; return Promise.resolve(answers.shift() ?? false); },
      clock,
    });
    await s.start();
    await clock.advance(29);
    expect(checks).toBe(0);
    await clock.advance(1);
    expect(checks).toBe(1);
    await clock.advance(60);
    expect(checks).toBe(3);
    expect(f.calls.map((c) => c.reasons)).toEqual([['commit']]);
  });

  it('skips poll ticks while a reconcile runs (they would race in the same clone)', async () => {
    const f = fakeReconcile();
    let checks = 0;
    let checkDuringRun = false;
    let running = false;
    const clock = manualClock();
    const s = make({
      reconcile: async (r) => { running = true; try { await f.reconcile(r); } finally { running = false; } },
      pollIntervalMs: 20,
      checkForCommits: () => { checks++; if (running) checkDuringRun = true; return Promise.resolve(false); },
      clock,
    });
    f.hold();
    await s.start();
    await clock.advance(150);
    expect(checks).toBe(0);
    f.release();
    await s.idle();
    await clock.advance(40);
    expect(checks).toBe(2);
    expect(checkDuringRun).toBe(false);
  });

  it('a trigger arriving during a poll check runs right after it', async () => {
    const f = fakeReconcile();
    let releaseCheck: () => void = () => undefined;
    const clock = manualClock();
    const s = make({
      reconcile: (r) => f.reconcile(r), runOnStart: false, pollIntervalMs: 10,
      checkForCommits: () => new Promise<boolean>((resolve) => { releaseCheck = () => resolve(false); }),
      clock,
    });
    await s.start();
    await clock.advance(10);
    expect(s.status().running).toBe(true);
    s.trigger('webhook');
    await clock.advance(30);
    expect(f.calls).toHaveLength(0);
    releaseCheck();
    await flush();
    expect(f.calls.map((c) => c.reasons)).toEqual([['webhook']]);
  });

  it('runs on the drift cron schedule (real node-cron, every second)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const f = fakeReconcile();
      const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false, driftCron: '* * * * * *' });
      await s.start();
      expect(f.calls).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1000);
      expect(f.calls.map((c) => c.reasons)).toEqual([['drift']]);
      await s.stop();
    } finally {
      vi.useRealTimers();
    }
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
    const clock = manualClock();
    const log = watchLog(tmp);
    const s = make({ reconcile: (r) => f.reconcile(r), runOnStart: false, watchDir: tmp, watchDebounceMs: 150, log, clock });
    await s.start();
    await writeFile(join(tmp, '.git', 'index'), 'x');
    await writeFile(join(tmp, 'generated', 'nodes_registry.json'), '{}');
    await writeFile(join(tmp, 'fleet', 'nodes', 'virtuoso.yaml'), 'name: virtuoso\n');
    await until(() => log.changed.includes(join('fleet', 'nodes', 'virtuoso.yaml')));
    await clock.advance(149);
    expect(f.calls).toHaveLength(0);
    // More changes inside the quiet time start it again.
    await writeFile(join(tmp, 'fleet', 'nodes', 'virtuoso.yaml'), 'name: virtuoso\nrole: llm_worker\n');
    await writeFile(join(tmp, 'fleet', 'fleet.yaml'), 'x: 1\n');
    await until(() => log.changed.includes(join('fleet', 'fleet.yaml')));
    await clock.advance(149);
    expect(f.calls).toHaveLength(0);
    await clock.advance(150);
    expect(f.calls.map((c) => c.reasons)).toEqual([['watch']]);
    expect(log.changed.filter((p) => p.startsWith('.git') || p.startsWith('generated'))).toEqual([]);
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
    let returnRun: () => void = () => undefined;
    const started = new Promise<void>((r) => { resolveStarted = r; });
    const clock = manualClock();
    const drift = (): number => [...cron.getTasks().values()].filter((t) => t.name === 'fleet-drift').length;
    const s = make({
      reconcile: ({ signal }) => new Promise<void>((resolve) => {
        resolveStarted();
        signal.addEventListener('abort', () => { aborted = true; returnRun = resolve; });
      }),
      pollIntervalMs: 10,
      checkForCommits: () => { checks++; return Promise.resolve(false); },
      driftCron: '* * * * * *',
      watchDir: tmp,
      clock,
    });
    await s.start();
    await started;
    expect(drift()).toBe(1);
    let result: { finished: boolean } | undefined;
    const stopping = s.stop().then((r) => { result = r; });
    await flush();
    expect(aborted).toBe(true);
    expect(result).toBeUndefined(); // still waiting for the run to return
    returnRun();
    await stopping;
    expect(result).toEqual({ finished: true });
    expect(s.status()).toMatchObject({ stopped: true, running: false });
    expect(clock.pending()).toBe(0); // poll, debounce and stop's own timer
    expect(drift()).toBe(0);
    const after = checks;
    s.trigger('webhook');
    // A watcher of the test's own sees the late file, so the scheduler's would have by now.
    const { watch } = await import('chokidar');
    const witness = watch(tmp, { ignoreInitial: true });
    await new Promise<void>((r) => witness.once('ready', () => r()));
    const seen = new Promise<void>((r) => witness.on('add', (path) => { if (path.endsWith('late.yaml')) r(); }));
    await writeFile(join(tmp, 'late.yaml'), 'x');
    await seen;
    await witness.close();
    expect(clock.pending()).toBe(0); // no debounce armed by the late file
    await clock.advance(60_000);
    expect(checks).toBe(after);
    expect(s.status().runs).toBe(1);
  });

  it('stop() with a grace period lets the run finish before aborting', async () => {
    const f = fakeReconcile();
    const s = make({ reconcile: (r) => f.reconcile(r) });
    f.hold();
    await s.start();
    await until(() => f.calls.length === 1);
    const stopping = s.stop({ graceMs: 2000 });
    await flush();
    expect(f.calls[0]?.signal.aborted).toBe(false); // within the grace period
    f.release();
    expect(await stopping).toEqual({ finished: true });
    expect(f.calls[0]?.signal.aborted).toBe(true); // aborted only after it returned
  });

  it('stop() gives up on a run that ignores its signal', async () => {
    const clock = manualClock();
    const s = make({ reconcile: () => new Promise<void>(() => undefined), clock });
    await s.start();
    await until(() => s.status().running);
    let result: { finished: boolean } | undefined;
    const stopping = s.stop({ timeoutMs: 100 }).then((r) => { result = r; });
    await clock.advance(99);
    expect(result).toBeUndefined();
    await clock.advance(1);
    expect(result).toEqual({ finished: false });
    await stopping;
  });

  it('reconfigure() changes the poll interval for the next tick', async () => {
    let checks = 0;
    const clock = manualClock();
    const s = make({ reconcile: () => Promise.resolve(), runOnStart: false, pollIntervalMs: 60_000, checkForCommits: () => { checks++; return Promise.resolve(false); }, clock });
    await s.start();
    await clock.advance(100);
    expect(checks).toBe(0);
    s.reconfigure({ pollIntervalMs: 20 });
    await clock.advance(40);
    expect(checks).toBe(2);
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
