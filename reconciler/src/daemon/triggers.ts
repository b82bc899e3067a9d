// When the daemon reconciles: on start, when the poll finds new commits, at
// once on a webhook, on the drift schedule (node-cron), and on changes in a
// local directory in dev mode (chokidar, debounced). Never two runs at once:
// triggers arriving during a run are coalesced into one follow-up run.
// The reconcile itself is injected; this module only decides when.
import { relative, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { FleetError } from '../errors.ts';
import { systemClock, type Clock, type Log } from '../ports.ts';
import { parseCron } from '../validate/cron-expression.ts';

export type TriggerReason = 'start' | 'commit' | 'webhook' | 'drift' | 'watch' | 'manual' | 'reload' | 'address';

export interface TriggeredRun {
  /** The first trigger of this run. */
  reason: TriggerReason;
  /** Every distinct trigger coalesced into this run, in arrival order. */
  reasons: TriggerReason[];
  /** Aborted on stop(): finish or cleanly abandon the current step and return. */
  signal: AbortSignal;
}

export interface SchedulerSettings {
  /** How often checkForCommits runs; 0 or absent: no polling. */
  pollIntervalMs?: number;
  /** node-cron expression for drift runs (5 or 6 fields); absent: none. */
  driftCron?: string;
  cronTimezone?: string;
}

export interface SchedulerOptions extends SchedulerSettings {
  reconcile(request: TriggeredRun): Promise<void>;
  /** Fetches and says whether a reconcile is needed (new commits outside generated/). Never runs during a reconcile. */
  checkForCommits?(signal: AbortSignal): Promise<boolean>;
  /** Dev mode: a local directory whose changes trigger a run. */
  watchDir?: string;
  /** Quiet time after the last change before the run (default 300 ms). */
  watchDebounceMs?: number;
  /** Paths (relative to watchDir) to ignore besides .git/, node_modules/ and generated/. */
  watchIgnore?: (relativePath: string) => boolean;
  /** Run once at start (default true). */
  runOnStart?: boolean;
  onError?(err: unknown, context: { phase: 'reconcile' | 'poll' | 'watch' | 'cron'; reasons: TriggerReason[] }): void;
  log?: Log;
  clock?: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
}

export interface SchedulerStatus {
  started: boolean;
  stopped: boolean;
  running: boolean;
  /** Triggers waiting for the follow-up run. */
  pending: TriggerReason[];
  runs: number;
  last: { reasons: TriggerReason[]; startedAt: number; finishedAt: number | null; error: string | null } | null;
}

export interface Scheduler {
  /** Starts timers, the cron task and the watcher; resolves when the watcher is ready. */
  start(): Promise<void>;
  trigger(reason: TriggerReason): void;
  /** New poll interval or cron (SIGHUP); the current run is not disturbed. */
  reconfigure(settings: SchedulerSettings): void;
  /** Resolves when nothing runs and nothing is pending. */
  idle(): Promise<void>;
  /**
   * Stops triggering, drops pending triggers, waits graceMs (default 0) for
   * the current run, then aborts its signal and waits up to timeoutMs
   * (default 30 s) for it to return. `finished` is false if it never did.
   */
  stop(options?: { graceMs?: number; timeoutMs?: number }): Promise<{ finished: boolean }>;
  status(): SchedulerStatus;
}

const ALWAYS_IGNORED = new Set(['.git', 'node_modules', 'generated']);

/**
 * Throws unless `expression` is a drift schedule the daemon can run: parsed
 * with bounds first (node-cron expands ranges eagerly, so "1-50000000" would
 * block the event loop), then by node-cron itself.
 */
export function validateCron(expression: string): void {
  // Sub-minute schedules come only from Bob's own --drift-cron (and tests): fleet validate refuses them in a pull request.
  const parsed = parseCron(expression, { subMinute: true });
  if (!parsed.ok) {
    throw new FleetError('invalid-input', `drift schedule (reconcile.drift_cron or --drift-cron) ${JSON.stringify(expression)} cannot run: ${parsed.message}. Use 5 fields like "*/15 * * * *" (every 15 minutes)`);
  }
  if (!cron.validate(expression)) {
    throw new FleetError('invalid-input', `reconcile.drift_cron ${JSON.stringify(expression)} is not a valid cron expression; use 5 fields like "*/15 * * * *" (every 15 minutes)`);
  }
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const clock = options.clock ?? systemClock;
  const log = options.log;
  let settings: SchedulerSettings = { ...pickSettings(options) };
  if (settings.driftCron !== undefined) validateCron(settings.driftCron);

  const controller = new AbortController();
  let started = false;
  let stopped = false;
  let busy = false;
  let current: Promise<void> | null = null;
  let pending: TriggerReason[] = [];
  let runs = 0;
  let last: SchedulerStatus['last'] = null;
  let pollTimer: unknown = null;
  let debounceTimer: unknown = null;
  let cronTask: ScheduledTask | null = null;
  let watcher: FSWatcher | null = null;
  let idleWaiters: (() => void)[] = [];

  const report = (err: unknown, phase: 'reconcile' | 'poll' | 'watch' | 'cron', reasons: TriggerReason[]): void => {
    if (options.onError) options.onError(err, { phase, reasons });
    else log?.error({ err, phase, reasons }, 'scheduled work failed');
  };

  const settle = (): void => {
    if (busy || pending.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  // Runs reconciles while triggers are pending; one at a time.
  const pump = (): void => {
    if (busy || stopped || pending.length === 0) {
      settle();
      return;
    }
    busy = true;
    current = (async () => {
      try {
        while (!stopped && pending.length > 0) {
          const reasons = pending;
          pending = [];
          runs++;
          const run: NonNullable<SchedulerStatus['last']> = { reasons, startedAt: clock.now(), finishedAt: null, error: null };
          last = run;
          log?.debug({ reasons }, 'reconcile triggered');
          try {
            // reasons[0] exists: pending was non-empty
            await options.reconcile({ reason: reasons[0] ?? 'manual', reasons, signal: controller.signal });
          } catch (err) {
            run.error = err instanceof Error ? err.message : String(err);
            report(err, 'reconcile', reasons);
          } finally {
            run.finishedAt = clock.now();
          }
        }
      } finally {
        busy = false;
        current = null;
        settle();
      }
    })();
  };

  const trigger = (reason: TriggerReason): void => {
    if (stopped) return;
    if (!pending.includes(reason)) pending.push(reason);
    if (busy) log?.debug({ reason }, 'trigger coalesced into the next run');
    pump();
  };

  const schedulePoll = (): void => {
    if (pollTimer !== null) clock.clearTimeout(pollTimer);
    pollTimer = null;
    const interval = settings.pollIntervalMs ?? 0;
    if (stopped || !started || interval <= 0 || !options.checkForCommits) return;
    pollTimer = clock.setTimeout(() => {
      pollTimer = null;
      void pollOnce();
    }, interval);
  };

  const pollOnce = async (): Promise<void> => {
    const check = options.checkForCommits?.bind(options);
    // While a reconcile runs it fetches anyway: skip this tick rather than race it in the same clone.
    if (!stopped && !busy && check) {
      busy = true;
      let found = false;
      current = (async () => {
        try {
          found = await check(controller.signal);
        } catch (err) {
          report(err, 'poll', []);
        }
      })();
      await current;
      busy = false;
      current = null;
      if (found) trigger('commit');
      else pump();
    }
    schedulePoll();
  };

  const startCron = (): void => {
    void cronTask?.destroy();
    cronTask = null;
    if (settings.driftCron === undefined || stopped) return;
    cronTask = cron.createTask(settings.driftCron, () => trigger('drift'), {
      name: 'fleet-drift',
      ...(settings.cronTimezone ? { timezone: settings.cronTimezone } : {}),
      // node-cron's own messages (e.g. missed runs) go to our log, not the console.
      logger: {
        info: (m) => log?.debug({ source: 'node-cron' }, m),
        warn: (m) => log?.debug({ source: 'node-cron' }, m),
        error: (m) => report(m, 'cron', ['drift']),
        debug: () => undefined,
      },
    });
    void cronTask.start();
  };

  const startWatcher = async (dir: string): Promise<void> => {
    const debounceMs = options.watchDebounceMs ?? 300;
    const ignore = options.watchIgnore;
    const isIgnored = (path: string): boolean => {
      const rel = relative(dir, path);
      if (rel === '' || rel.startsWith('..')) return false;
      const first = rel.split(sep)[0] ?? '';
      return ALWAYS_IGNORED.has(first) || (ignore?.(rel) ?? false);
    };
    // Dev mode only: the daemon on Bob never loads chokidar.
    const { watch } = await import('chokidar');
    if (stopped) return;
    const w = watch(dir, { ignoreInitial: true, ignored: isIgnored, persistent: true });
    watcher = w;
    const onChange = (path: string): void => {
      if (stopped) return;
      log?.debug({ path }, 'watched file changed');
      if (debounceTimer !== null) clock.clearTimeout(debounceTimer);
      debounceTimer = clock.setTimeout(() => {
        debounceTimer = null;
        trigger('watch');
      }, debounceMs);
    };
    w.on('all', (_event, path) => onChange(path));
    w.on('error', (err) => report(err, 'watch', ['watch']));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
  };

  return {
    async start() {
      if (started || stopped) return;
      started = true;
      if (options.watchDir !== undefined) await startWatcher(options.watchDir);
      startCron();
      if (options.runOnStart ?? true) trigger('start');
      schedulePoll();
    },
    trigger,
    reconfigure(next) {
      if (next.driftCron !== undefined) validateCron(next.driftCron);
      const cronChanged = next.driftCron !== settings.driftCron || next.cronTimezone !== settings.cronTimezone;
      settings = { ...pickSettings(next) };
      if (!started || stopped) return;
      schedulePoll();
      if (cronChanged) startCron();
    },
    idle() {
      if (!busy && pending.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async stop(stopOptions = {}) {
      stopped = true;
      pending = [];
      if (pollTimer !== null) clock.clearTimeout(pollTimer);
      if (debounceTimer !== null) clock.clearTimeout(debounceTimer);
      pollTimer = null;
      debounceTimer = null;
      void cronTask?.destroy();
      cronTask = null;
      const closing = watcher?.close();
      watcher = null;
      let finished = true;
      const running = current;
      if (running !== null) {
        if ((stopOptions.graceMs ?? 0) > 0) await raceWithTimeout(clock, running, stopOptions.graceMs ?? 0);
        controller.abort(new FleetError('internal', 'the daemon is shutting down'));
        finished = await raceWithTimeout(clock, running, stopOptions.timeoutMs ?? 30_000);
      } else {
        controller.abort(new FleetError('internal', 'the daemon is shutting down'));
      }
      await closing;
      settle();
      return { finished };
    },
    status() {
      return { started, stopped, running: busy, pending: [...pending], runs, last: last === null ? null : { ...last, reasons: [...last.reasons] } };
    },
  };
}

function pickSettings(s: SchedulerSettings): SchedulerSettings {
  return {
    ...(s.pollIntervalMs !== undefined ? { pollIntervalMs: s.pollIntervalMs } : {}),
    ...(s.driftCron !== undefined ? { driftCron: s.driftCron } : {}),
    ...(s.cronTimezone !== undefined ? { cronTimezone: s.cronTimezone } : {}),
  };
}

/** true if `work` settled within `ms`; the timer is cleared either way so it never holds the process open. */
async function raceWithTimeout(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, work: Promise<void>, ms: number): Promise<boolean> {
  let timer: unknown = null;
  const timeout = new Promise<boolean>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}
