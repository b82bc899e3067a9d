// What the executor is given (adapters, passed in: no module state) and what it
// hands back. Two applies, or many tests, can run at once with their own.
import type { ConnectionGuard } from '../net/guard.ts';
import type { Clock, Log } from '../ports.ts';
import type { RemoteSession } from '../net/remote.ts';
import type { ManualReason, Step, StepKind } from '../model/steps.ts';
import type { ObservedNode } from '../schema/observed.ts';
import type { BobAdapter } from '../bob/bob-local.ts';
import type { NodeSecretStore } from '../bob/node-secrets.ts';
import type { NodeTarget } from '../observe/connections.ts';
import type { TransferCoordinator, TransferLimits } from './transfers.ts';

/** observe's connection pool, as far as apply needs it. */
export interface SessionSource {
  session(node: string): Promise<{ ok: true; session: RemoteSession } | { ok: false; reach: { status: string; message?: string } }>;
  /** Where and how a node is reached (a LAN copy's target reaches its source there). */
  target?(node: string): NodeTarget | undefined;
}

/** The part of the official `ollama` client apply uses (new Ollama({host, fetch: guardedFetch(guard)})). */
export interface OllamaLike {
  version(): Promise<{ version: string }>;
  list(): Promise<{ models: { name: string; model?: string; digest: string; size: number }[] }>;
  pull(request: { model: string; stream: true; insecure?: boolean }): Promise<PullStream>;
  delete(request: { model: string }): Promise<unknown>;
}

export interface PullStream extends AsyncIterable<{ status: string; digest?: string; total?: number; completed?: number }> {
  abort(): void;
}

/** One progress report of a model arriving on a node, by internet pull or LAN copy: the CLI, the daemon's status and the dashboard show the same fields. */
export interface PullProgress {
  node: string;
  model: string;
  status: string;
  completed: number;
  total: number;
  /** `internet` (an Ollama pull) or `lan:<peer>` (a copy from that Mac). */
  source?: string;
  /** Recent rate, bytes per second (a moving window), when known. */
  bytesPerSecond?: number;
  /** Seconds left at that rate, when known. */
  etaSeconds?: number;
}

/** Where the executor reports what it is doing (a TTY renderer, log lines, a test recorder). */
export interface ProgressSink {
  stepStarted(step: Step): void;
  stepFinished(step: Step, result: StepResult): void;
  pullProgress(progress: PullProgress): void;
  /** A transient failure; the step runs again after `waitMs`. */
  stepRetrying?(step: Step, attempt: number, waitMs: number, error: string): void;
}

/** Bob's own files: the fleet-level steps, run locally on the machine that runs apply. */


export interface ApplyContext {
  pool: SessionSource;
  guard: ConnectionGuard;
  createOllama(host: string): OllamaLike;
  /** What observe saw, per node (uid, brew prefix, disk). */
  observed: ReadonlyMap<string, ObservedNode>;
  /** The node's Ollama as Bob reaches it (targets or the node's first address). */
  ollamaUrl(node: string): string | undefined;
  clock: Pick<Clock, 'now' | 'sleep'>;
  log: Log;
  progress: ProgressSink;
  bob?: BobAdapter;
  /** Bob's secret store: the key an install-secret step installs (never carried by the step). */
  secrets?: Pick<NodeSecretStore, 'contentFor' | 'markInstalled'>;
  /** A short random tag for temporary file names. */
  randomTag?(): string;
  /** Fleet-wide state of the model transfers (apply/transfers.ts); applyPlan makes one when absent. */
  transfers?: TransferCoordinator;
}

export interface ApplyOptions {
  /** Nodes applied at once (settings.reconcile.concurrency). */
  concurrency: number;
  stepTimeoutMs: number;
  pullTimeoutMs: number;
  /** Retries of a transient failure (connection drop, timeout, HTTP 5xx). */
  retries: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Free disk to keep after a pull (settings.memory.disk_margin_gb). */
  diskMarginBytes: number;
  /** How long a pull waits for a freshly started Ollama to answer. */
  ollamaReadyTimeoutMs?: number;
  /** Internet slots, rate cap and LAN slots per source (fleet.yaml transfer). */
  transfer?: TransferLimits;
  /** How often a LAN copy reports its progress (ms, default 1000). */
  copyProgressMs?: number;
  signal?: AbortSignal;
}

export type StepOutcome =
  | { status: 'ok'; changed: boolean; detail?: string; warning?: string }
  | { status: 'failed'; message: string; stderr?: string; /** FailureKind, or 'disk-space'. */ failure?: string }
  | { status: 'manual'; reason: ManualReason; instructions: string[]; blocksDependents: boolean }
  | { status: 'skipped'; message: string };

export type StepResult = StepOutcome & {
  id: string;
  node: string | null;
  kind: StepKind;
  attempts: number;
  durationMs: number;
};

export type NodeApplyStatus = 'converged' | 'partial' | 'failed' | 'unreachable' | 'aborted';

export interface NodeApplyResult {
  node: string;
  status: NodeApplyStatus;
  /** Why, in one sentence, when not converged. */
  message?: string;
  steps: StepResult[];
}

export interface ApplyResult {
  nodes: NodeApplyResult[];
  fleet: StepResult[];
  aborted: boolean;
  durationMs: number;
}
