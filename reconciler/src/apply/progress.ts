// What a person sees while apply runs. On a TTY: one line per finished step and
// a live progress bar per node and model being pulled, redrawn in place. Piped
// or in CI: the same step lines, and a plain line per pull every 10% or 5 s.
import type { Step } from '../model/steps.ts';
import { printable } from '../plan/summarize-plan.ts';
import type { ProgressSink, PullProgress, StepResult } from './context.ts';
import type { Log } from '../ports.ts';

export interface ProgressOptions {
  write(text: string): void;
  tty: boolean;
  /** Terminal width for the bars. */
  columns?: number;
  now?: () => number;
  /** Non-TTY: a line at least every this many ms while a pull moves. */
  intervalMs?: number;
  /** Non-TTY: a line each time a pull crosses this many percent. */
  stepPercent?: number;
  /** TTY: minimum ms between redraws. */
  redrawMs?: number;
}

export interface ProgressRenderer extends ProgressSink {
  /** Removes the bars (TTY) so the summary prints below clean output. */
  close(): void;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(0)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** A moving-window rate and ETA for progress reports (a window of about 5 s). */
export interface RateMeter {
  sample(completed: number, total: number): { bytesPerSecond?: number; etaSeconds?: number };
}

export function createRateMeter(now: () => number, windowMs = 5000): RateMeter {
  const points: { at: number; bytes: number }[] = [];
  return {
    sample(completed, total) {
      const t = now();
      points.push({ at: t, bytes: completed });
      while (points.length > 2 && (points[0]?.at ?? t) < t - windowMs) points.shift();
      const first = points[0];
      if (first === undefined || t - first.at < 200 || completed < first.bytes) return {};
      const rate = ((completed - first.bytes) * 1000) / (t - first.at);
      if (!(rate > 0)) return { bytesPerSecond: 0 };
      return { bytesPerSecond: Math.round(rate), etaSeconds: Math.max(0, Math.round((total - completed) / rate)) };
    },
  };
}

function formatRate(p: PullProgress): string {
  if (p.bytesPerSecond === undefined) return '';
  const eta = p.etaSeconds === undefined ? '' : `, ${p.etaSeconds >= 60 ? `${Math.floor(p.etaSeconds / 60)}m${String(p.etaSeconds % 60).padStart(2, '0')}s` : `${p.etaSeconds}s`} left`;
  return ` ${formatBytes(p.bytesPerSecond)}/s${eta}`;
}

/** `internet` or `LAN from virtuoso`, for people. */
export function describeSource(source: string | undefined): string {
  if (source === undefined) return '';
  return source.startsWith('lan:') ? `LAN from ${source.slice(4)}` : source;
}

function percentOf(p: PullProgress): number {
  return p.total > 0 ? Math.min(100, Math.floor((p.completed / p.total) * 100)) : 0;
}

const MARK: Record<StepResult['status'], string> = { ok: 'ok', failed: 'FAILED', manual: 'MANUAL', skipped: 'skipped' };

/** One line for a finished step, for people; text from nodes cannot break the terminal. */
export function formatStepLine(step: Step, result: StepResult): string {
  return printable(rawStepLine(step, result));
}

function rawStepLine(step: Step, result: StepResult): string {
  const where = step.node ?? 'bob';
  const base = `${MARK[result.status].padEnd(7)} ${where}  ${step.id}`;
  switch (result.status) {
    case 'ok': {
      const note = result.warning ? `  warning: ${result.warning}` : result.detail ? `  (${result.detail})` : result.changed ? '' : '  (already done)';
      return `${base}${note}`;
    }
    case 'failed': return `${base}  ${result.message}`;
    case 'manual': return `${base}  ${result.instructions[0] ?? result.reason}`;
    case 'skipped': return `${base}  ${result.message}`;
  }
}

/** One line for a model arriving (the daemon's status and `fleet status`), the same fields as the bars. */
export function formatTransferLine(p: PullProgress): string {
  return printable(`${p.node} ${p.model}${p.source === undefined ? '' : ` (${describeSource(p.source)})`}: ${percentOf(p)}% ${formatBytes(p.completed)}/${formatBytes(p.total)}${formatRate(p)}`);
}

/** A sink that passes everything to both (the CLI's renderer and a daemon's status, say). */
export function teeProgress(a: ProgressRenderer, b: Partial<ProgressSink>): ProgressRenderer {
  return {
    stepStarted(step) { a.stepStarted(step); b.stepStarted?.(step); },
    stepFinished(step, result) { a.stepFinished(step, result); b.stepFinished?.(step, result); },
    pullProgress(p) { a.pullProgress(p); b.pullProgress?.(p); },
    stepRetrying(step, attempt, waitMs, error) { a.stepRetrying?.(step, attempt, waitMs, error); b.stepRetrying?.(step, attempt, waitMs, error); },
    close() { a.close(); },
  };
}

export function renderBar(p: PullProgress, width: number): string {
  const pct = percentOf(p);
  const label = `${p.node} ${p.model}${p.source === undefined ? '' : ` (${describeSource(p.source)})`}`;
  const tail = ` ${String(pct).padStart(3)}% ${formatBytes(p.completed)}/${formatBytes(p.total)}${formatRate(p)}`;
  const barWidth = Math.max(10, Math.min(40, width - label.length - tail.length - 4));
  const filled = Math.round((pct / 100) * barWidth);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}

export function createProgress(options: ProgressOptions): ProgressRenderer {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 5000;
  const stepPercent = options.stepPercent ?? 10;
  const redrawMs = options.redrawMs ?? 100;
  const columns = options.columns ?? 100;
  // Active pulls, keyed node + model, in the order they started.
  const bars = new Map<string, PullProgress>();
  const lastLine = new Map<string, { at: number; pct: number }>();
  let drawn = 0;
  let lastDraw = 0;

  const clearBars = (): void => {
    if (!options.tty || drawn === 0) return;
    // Up `drawn` lines, clear to the end of the screen.
    options.write(`\x1b[${drawn}F\x1b[0J`);
    drawn = 0;
  };
  const drawBars = (): void => {
    if (!options.tty) return;
    const lines = [...bars.values()].map((p) => renderBar(p, columns));
    if (lines.length > 0) options.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
    lastDraw = now();
  };
  const printLine = (line: string): void => {
    clearBars();
    options.write(`${line}\n`);
    drawBars();
  };

  return {
    stepStarted(step) {
      if ((step.kind === 'pull-model' || step.kind === 'copy-model') && step.node !== null) {
        const p: PullProgress = { node: step.node, model: step.model, status: 'starting', completed: 0, total: step.bytes };
        bars.set(`${step.node}\u0000${step.model}`, p);
        if (options.tty) {
          clearBars();
          drawBars();
        } else {
          lastLine.set(`${step.node}\u0000${step.model}`, { at: now(), pct: 0 });
          options.write(`${step.kind === 'copy-model' ? 'copying' : 'pulling'} ${step.node} ${step.model} (${formatBytes(step.bytes)})\n`);
        }
      }
    },
    stepFinished(step, result) {
      if ((step.kind === 'pull-model' || step.kind === 'copy-model') && step.node !== null) {
        bars.delete(`${step.node}\u0000${step.model}`);
        lastLine.delete(`${step.node}\u0000${step.model}`);
      }
      printLine(formatStepLine(step, result));
    },
    stepRetrying(step, attempt, waitMs, error) {
      printLine(printable(`${'retry'.padEnd(7)} ${step.node ?? 'bob'}  ${step.id}  attempt ${attempt} failed, again in ${Math.round(waitMs / 100) / 10} s: ${error}`));
    },
    pullProgress(p) {
      const key = `${p.node}\u0000${p.model}`;
      bars.set(key, p);
      if (options.tty) {
        if (now() - lastDraw >= redrawMs) {
          clearBars();
          drawBars();
        }
        return;
      }
      const pct = percentOf(p);
      const last = lastLine.get(key) ?? { at: 0, pct: -stepPercent };
      const crossed = Math.floor(pct / stepPercent) > Math.floor(last.pct / stepPercent);
      if (crossed || now() - last.at >= intervalMs) {
        lastLine.set(key, { at: now(), pct });
        options.write(`${p.source?.startsWith('lan:') === true ? 'copying' : 'pulling'} ${p.node} ${p.model}${p.source === undefined ? '' : ` (${describeSource(p.source)})`}: ${pct}% (${formatBytes(p.completed)} of ${formatBytes(p.total)})${formatRate(p)} ${p.status}\n`);
      }
    },
    close() {
      clearBars();
      bars.clear();
    },
  };
}

/** A sink that shows nothing (tests, --json). */
export function createSilentProgress(): ProgressRenderer {
  return { stepStarted() {}, stepFinished() {}, pullProgress() {}, close() {} };
}

// ---------------------------------------------------------------------------
// Live progress as data, for every reader that is not a terminal (the
// daemon's /api/status and dashboard, `fleet status`, the logs, the per-node
// metrics). One shape for a model arriving, whatever moves it (an internet
// pull, a LAN copy): PullProgress (context.ts), with its source, rate and ETA
// when the producer knows them, measured here (createRateMeter) when not.

/** A step being run right now. */
export interface RunningStep {
  /** null: a fleet step on Bob. */
  node: string | null;
  id: string;
  kind: Step['kind'];
  /** The model a model step moves or removes, else null. */
  model: string | null;
  started_at: string;
  /** The model arriving, once its first progress report came. */
  transfer: PullProgress | null;
}

export interface LiveProgress extends ProgressSink {
  /** Steps running now, in the order they started. */
  running(): RunningStep[];
  /** Models arriving now (as `transfers` in the daemon's status). */
  transfers(): PullProgress[];
  /** Called (synchronously) after every change; returns a function that unsubscribes. */
  onChange(listener: () => void): () => void;
}

/** The percent a report shows (0-100, floored). */
export function percentDone(p: PullProgress): number {
  return percentOf(p);
}

export function createLiveProgress(options: { now?: () => number } = {}): LiveProgress {
  const now = options.now ?? Date.now;
  const steps = new Map<string, RunningStep>();
  const meters = new Map<string, RateMeter>();
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const l of listeners) l();
  };
  const keyOf = (node: string | null, id: string): string => `${node ?? ''}\u0000${id}`;
  return {
    stepStarted(step) {
      steps.set(keyOf(step.node, step.id), { node: step.node, id: step.id, kind: step.kind, model: 'model' in step ? step.model : null, started_at: new Date(now()).toISOString(), transfer: null });
      changed();
    },
    stepFinished(step) {
      steps.delete(keyOf(step.node, step.id));
      meters.delete(keyOf(step.node, step.id));
      changed();
    },
    stepRetrying() {
      changed();
    },
    pullProgress(p) {
      const running = [...steps.entries()].find(([, s]) => s.node === p.node && s.model === p.model);
      if (!running) return;
      const [key, step] = running;
      let rate: { bytesPerSecond?: number; etaSeconds?: number } = {};
      if (p.bytesPerSecond === undefined) {
        const meter = meters.get(key) ?? createRateMeter(now);
        meters.set(key, meter);
        rate = meter.sample(p.completed, p.total);
      }
      step.transfer = { ...p, ...rate };
      changed();
    },
    running() {
      return [...steps.values()].map((s) => ({ ...s, transfer: s.transfer ? { ...s.transfer } : null }));
    },
    transfers() {
      return [...steps.values()].flatMap((s) => (s.transfer ? [{ ...s.transfer }] : []));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Several sinks as one (the daemon's live view, log and metrics). */
export function fanOutProgress(...sinks: readonly (Partial<ProgressSink> | undefined)[]): ProgressSink {
  const all = sinks.filter((s): s is Partial<ProgressSink> => s !== undefined);
  return {
    stepStarted: (step) => all.forEach((s) => s.stepStarted?.(step)),
    stepFinished: (step, result) => all.forEach((s) => s.stepFinished?.(step, result)),
    pullProgress: (p) => all.forEach((s) => s.pullProgress?.(p)),
    stepRetrying: (step, attempt, waitMs, error) => all.forEach((s) => s.stepRetrying?.(step, attempt, waitMs, error)),
  };
}

/**
 * Models arriving, in the daemon's log at a sane rate: a line when a pull
 * starts, each time it crosses `stepPercent` (default 25%) and at least every
 * `intervalMs` (default 30 s) while it moves; never one per stream event.
 */
export function createProgressLog(log: Pick<Log, 'info'>, options: { now?: () => number; intervalMs?: number; stepPercent?: number } = {}): ProgressSink {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 30_000;
  const stepPercent = options.stepPercent ?? 25;
  const last = new Map<string, { at: number; pct: number; meter: RateMeter }>();
  const keyOf = (node: string, model: string): string => `${node}\u0000${model}`;
  return {
    stepStarted(step) {
      if (step.kind !== 'pull-model' || step.node === null) return;
      last.set(keyOf(step.node, step.model), { at: now(), pct: 0, meter: createRateMeter(now) });
      log.info({ node: step.node, model: step.model, total_bytes: step.bytes }, 'pull started');
    },
    stepFinished(step) {
      if ('model' in step && step.node !== null) last.delete(keyOf(step.node, step.model));
    },
    pullProgress(p) {
      const key = keyOf(p.node, p.model);
      const entry = last.get(key) ?? { at: now(), pct: 0, meter: createRateMeter(now) };
      last.set(key, entry);
      const rate = p.bytesPerSecond === undefined ? entry.meter.sample(p.completed, p.total) : { bytesPerSecond: p.bytesPerSecond, etaSeconds: p.etaSeconds };
      const pct = percentOf(p);
      const crossed = Math.floor(pct / stepPercent) > Math.floor(entry.pct / stepPercent);
      if (!crossed && now() - entry.at < intervalMs) return;
      entry.at = now();
      entry.pct = pct;
      log.info({ node: p.node, model: p.model, ...(p.source === undefined ? {} : { source: p.source }), percent: pct, completed_bytes: p.completed, total_bytes: p.total, bytes_per_second: rate.bytesPerSecond ?? null, eta_seconds: rate.etaSeconds ?? null }, 'pull progress');
    },
  };
}

/** "12.3 MB/s": for `fleet status` and the dashboard. */
export function formatBytesPerSecond(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '- MB/s' : `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond >= 1e8 ? 0 : 1)} MB/s`;
}

/** "ETA 1m05s": for `fleet status` and the dashboard. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return 'ETA -';
  if (seconds < 60) return `ETA ${seconds}s`;
  if (seconds < 3600) return `ETA ${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `ETA ${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export { formatBytes };
