// Per-node backoff: a Mac that keeps failing is retried less and less often
// (exponential, capped at reconcile.backoff_max_s, with jitter so several
// broken nodes do not retry in lockstep), while the others keep converging.
// Pure given a random source: callers pass the time, nothing reads a clock.
import { FleetError } from '../errors.ts';

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** Cap of every delay (settings reconcile.backoff_max_s * 1000). */
  maxMs: number;
  /** Growth per consecutive failure (default 2). */
  factor?: number;
  /** Fraction of the delay that is random, 0..1 (default 0.5: delays land in [d/2, d]). */
  jitter?: number;
  /** Uniform in [0, 1); Math.random by default, a seeded source in tests. */
  random?: () => number;
}

export interface NodeBackoff {
  node: string;
  failures: number;
  /** Epoch ms before which the node is skipped. */
  nextAttemptAt: number;
  /** The delay that was drawn after the last failure. */
  delayMs: number;
  lastError?: string;
}

export interface BackoffTracker {
  /** True while `node` is still waiting out its delay at `now` (epoch ms). */
  shouldSkip(node: string, now: number): boolean;
  /** Counts a failure at `now` and draws the next delay; returns the node's new state. */
  recordFailure(node: string, now: number, error?: string): NodeBackoff;
  /** Forgets the node's failures. */
  recordSuccess(node: string): void;
  get(node: string): NodeBackoff | undefined;
  /** Every node currently backing off, sorted by name (for status and logs). */
  list(): NodeBackoff[];
  /** Applies new settings (SIGHUP) to future delays; current waits stay. */
  reconfigure(options: Partial<BackoffOptions>): void;
}

/** The uncapped-then-capped delay before jitter, for `failures` consecutive failures (>= 1). */
export function ceilingDelayMs(failures: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs' | 'factor'>): number {
  if (failures <= 0) return 0;
  const factor = options.factor ?? 2;
  // Work in exponents so a long outage cannot overflow to Infinity * 0 = NaN.
  const raw = options.baseMs * Math.pow(factor, Math.min(failures - 1, 1024));
  return Math.min(options.maxMs, Number.isFinite(raw) ? raw : options.maxMs);
}

/** The delay for `failures` consecutive failures, given one uniform draw `u` in [0, 1). */
export function drawDelayMs(failures: number, options: BackoffOptions, u: number): number {
  const ceiling = ceilingDelayMs(failures, options);
  const jitter = clamp01(options.jitter ?? 0.5);
  return Math.round(ceiling * (1 - jitter + jitter * clamp01(u)));
}

export function createBackoffTracker(initial: BackoffOptions): BackoffTracker {
  let options = validateOptions(initial);
  const nodes = new Map<string, NodeBackoff>();
  return {
    shouldSkip(node, now) {
      const state = nodes.get(node);
      return state !== undefined && now < state.nextAttemptAt;
    },
    recordFailure(node, now, error) {
      const failures = (nodes.get(node)?.failures ?? 0) + 1;
      const delayMs = drawDelayMs(failures, options, (options.random ?? Math.random)());
      const state: NodeBackoff = { node, failures, delayMs, nextAttemptAt: now + delayMs, ...(error === undefined ? {} : { lastError: error }) };
      nodes.set(node, state);
      return { ...state };
    },
    recordSuccess(node) {
      nodes.delete(node);
    },
    get(node) {
      const state = nodes.get(node);
      return state === undefined ? undefined : { ...state };
    },
    list() {
      return [...nodes.values()].map((s) => ({ ...s })).sort((a, b) => a.node.localeCompare(b.node));
    },
    reconfigure(changes) {
      options = validateOptions({ ...options, ...changes });
    },
  };
}

function validateOptions(options: BackoffOptions): BackoffOptions {
  if (!(options.baseMs > 0) || !(options.maxMs > 0)) throw new FleetError('invalid-input', `backoff delays must be positive (base ${options.baseMs} ms, max ${options.maxMs} ms); check reconcile.backoff_max_s in fleet/fleet.yaml`);
  if (options.factor !== undefined && !(options.factor >= 1)) throw new FleetError('invalid-input', `backoff factor must be at least 1 (got ${options.factor})`);
  return options;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
