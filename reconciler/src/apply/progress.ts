// What a person sees while apply runs. On a TTY: one line per finished step and
// a live progress bar per node and model being pulled, redrawn in place. Piped
// or in CI: the same step lines, and a plain line per pull every 10% or 5 s.
import type { Step } from '../plan/steps.ts';
import { printable } from '../plan/summarize-plan.ts';
import type { ProgressSink, PullProgress, StepResult } from './context.ts';

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

export function renderBar(p: PullProgress, width: number): string {
  const pct = percentOf(p);
  const label = `${p.node} ${p.model}`;
  const tail = ` ${String(pct).padStart(3)}% ${formatBytes(p.completed)}/${formatBytes(p.total)}`;
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
      if (step.kind === 'pull-model' && step.node !== null) {
        const p: PullProgress = { node: step.node, model: step.model, status: 'starting', completed: 0, total: step.bytes };
        bars.set(`${step.node}\u0000${step.model}`, p);
        if (options.tty) {
          clearBars();
          drawBars();
        } else {
          lastLine.set(`${step.node}\u0000${step.model}`, { at: now(), pct: 0 });
          options.write(`pulling ${step.node} ${step.model} (${formatBytes(step.bytes)})\n`);
        }
      }
    },
    stepFinished(step, result) {
      if (step.kind === 'pull-model' && step.node !== null) {
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
        options.write(`pulling ${p.node} ${p.model}: ${pct}% (${formatBytes(p.completed)} of ${formatBytes(p.total)}) ${p.status}\n`);
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
// Live progress as data: one shape for every reader that is not a terminal
// (the daemon's /api/status and dashboard, `fleet status`, the logs, the
// per-node metrics). Anything that moves bytes (a pull, a LAN copy) reports
// through ProgressSink.pullProgress and is read back as a TransferSnapshot.

/** A transfer (a pull from the registry, a copy between Macs) as it stands now. */
export interface TransferSnapshot {
  model: string;
  /** Ollama's own status line ("pulling 6a0746a1ec1a", "verifying sha256 digest"...). */
  status: string;
  completed: number;
  total: number;
  /** 0-100, floored. */
  percent: number;
  /** Over the last few seconds; null until two samples a moment apart. */
  bytes_per_second: number | null;
  /** null while the rate is unknown or zero. */
  eta_seconds: number | null;
}

/** A step being run right now. */
export interface RunningStep {
  /** null: a fleet step on Bob. */
  node: string | null;
  id: string;
  kind: Step['kind'];
  started_at: string;
  /** Pulls only. */
  transfer: TransferSnapshot | null;
}

export interface LiveProgress extends ProgressSink {
  /** Steps running now, in the order they started. */
  running(): RunningStep[];
  /** Called (synchronously) after every change; returns a function that unsubscribes. */
  onChange(listener: () => void): () => void;
}

/** How far back the transfer rate looks. */
const RATE_WINDOW_MS = 5_000;

interface Sample {
  at: number;
  completed: number;
}

/** Bytes per second over the samples in the window (oldest kept to now), or null. */
export function rateOf(samples: readonly Sample[]): number | null {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || last.at - first.at < 200) return null;
  return Math.max(0, ((last.completed - first.completed) * 1000) / (last.at - first.at));
}

export function snapshotOf(p: PullProgress, samples: readonly Sample[]): TransferSnapshot {
  const rate = rateOf(samples);
  const left = Math.max(0, p.total - p.completed);
  return {
    model: p.model,
    status: p.status,
    completed: p.completed,
    total: p.total,
    percent: percentOf(p),
    bytes_per_second: rate === null ? null : Math.round(rate),
    eta_seconds: rate === null || rate <= 0 ? null : Math.ceil(left / rate),
  };
}

export function createLiveProgress(options: { now?: () => number } = {}): LiveProgress {
  const now = options.now ?? Date.now;
  const steps = new Map<string, RunningStep>();
  const samples = new Map<string, Sample[]>();
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const l of listeners) l();
  };
  const keyOf = (node: string | null, id: string): string => `${node ?? ''}\u0000${id}`;
  return {
    stepStarted(step) {
      steps.set(keyOf(step.node, step.id), {
        node: step.node,
        id: step.id,
        kind: step.kind,
        started_at: new Date(now()).toISOString(),
        transfer: step.kind === 'pull-model' ? snapshotOf({ node: step.node ?? 'bob', model: step.model, status: 'starting', completed: 0, total: step.bytes }, []) : null,
      });
      changed();
    },
    stepFinished(step) {
      steps.delete(keyOf(step.node, step.id));
      samples.delete(keyOf(step.node, step.id));
      changed();
    },
    stepRetrying() {
      changed();
    },
    pullProgress(p) {
      const running = [...steps.entries()].find(([, s]) => s.node === p.node && s.transfer?.model === p.model);
      if (!running) return;
      const [key, step] = running;
      const t = now();
      const list = samples.get(key) ?? [];
      list.push({ at: t, completed: p.completed });
      while (list.length > 2 && (list[0]?.at ?? t) < t - RATE_WINDOW_MS) list.shift();
      samples.set(key, list);
      step.transfer = snapshotOf(p, list);
      changed();
    },
    running() {
      return [...steps.values()].map((s) => ({ ...s, transfer: s.transfer ? { ...s.transfer } : null }));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** One sink feeding several (a terminal renderer and the daemon's live view, say). */
export function teeProgress(...sinks: readonly (ProgressSink | undefined)[]): ProgressSink {
  const all = sinks.filter((s): s is ProgressSink => s !== undefined);
  return {
    stepStarted: (step) => all.forEach((s) => s.stepStarted(step)),
    stepFinished: (step, result) => all.forEach((s) => s.stepFinished(step, result)),
    pullProgress: (p) => all.forEach((s) => s.pullProgress(p)),
    stepRetrying: (step, attempt, waitMs, error) => all.forEach((s) => s.stepRetrying?.(step, attempt, waitMs, error)),
  };
}

export interface ProgressLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * Pull progress in the daemon's log at a sane rate: a line when a pull starts,
 * each time it crosses `stepPercent` (default 25%) and at least every
 * `intervalMs` (default 30 s) while it moves; never one per stream event.
 */
export function createProgressLog(log: ProgressLogger, options: { now?: () => number; intervalMs?: number; stepPercent?: number } = {}): ProgressSink {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 30_000;
  const stepPercent = options.stepPercent ?? 25;
  const last = new Map<string, { at: number; pct: number; samples: Sample[] }>();
  return {
    stepStarted(step) {
      if (step.kind !== 'pull-model' || step.node === null) return;
      last.set(`${step.node}\u0000${step.model}`, { at: now(), pct: 0, samples: [] });
      log.info({ node: step.node, model: step.model, total_bytes: step.bytes }, 'pull started');
    },
    stepFinished(step) {
      if (step.kind === 'pull-model' && step.node !== null) last.delete(`${step.node}\u0000${step.model}`);
    },
    pullProgress(p) {
      const entry = last.get(`${p.node}\u0000${p.model}`);
      if (!entry) return;
      const t = now();
      entry.samples.push({ at: t, completed: p.completed });
      while (entry.samples.length > 2 && (entry.samples[0]?.at ?? t) < t - RATE_WINDOW_MS) entry.samples.shift();
      const snap = snapshotOf(p, entry.samples);
      const crossed = Math.floor(snap.percent / stepPercent) > Math.floor(entry.pct / stepPercent);
      if (!crossed && t - entry.at < intervalMs) return;
      entry.at = t;
      entry.pct = snap.percent;
      log.info({ node: p.node, model: p.model, percent: snap.percent, completed_bytes: p.completed, total_bytes: p.total, bytes_per_second: snap.bytes_per_second, eta_seconds: snap.eta_seconds }, 'pull progress');
    },
  };
}

/** "12.3 MB/s", "ETA 1m05s": for `fleet status` and the dashboard. */
export function formatRate(bytesPerSecond: number | null): string {
  return bytesPerSecond === null ? '- MB/s' : `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond >= 1e8 ? 0 : 1)} MB/s`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null) return 'ETA -';
  if (seconds < 60) return `ETA ${seconds}s`;
  if (seconds < 3600) return `ETA ${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `ETA ${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export { formatBytes };
