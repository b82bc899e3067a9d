// What the dashboard shows, as plain data: the daemon builds it
// (daemon/fleet-view.ts), the page renders it. Types only.
import type { RunningStep } from '../apply/progress.ts';
import type { Difference, NodeStatus } from '../model/steps.ts';
import type { Worker } from '../schema/generated.ts';
import type { FleetEvent } from './events.ts';

export type CardState = NodeStatus | 'converging' | 'unknown';
/** ok: green; busy: converging; warn: drifted, stale; bad: red; idle: away, retired, planned. */
export type Severity = 'ok' | 'busy' | 'warn' | 'bad' | 'idle';

export interface PendingStep {
  node: string | null;
  id: string;
  kind: string;
  why: string;
}

export interface NodeCard {
  node: string;
  display_name: string;
  role: string;
  hardware: string;
  presence: 'always_on' | 'roaming';
  state: CardState;
  severity: Severity;
  /** One sentence: why the card is in this state. */
  summary: string;
  /** The address that answered at the last observation. */
  address: string | null;
  observed_at: string | null;
  ollama: { expected: boolean; up: boolean | null; version: string | null; error: string | null };
  models: {
    wanted: string[];
    present: { name: string; size: number }[];
    loaded: { name: string; size: number; size_vram: number }[];
    missing: string[];
  };
  memory: { ram_bytes: number | null; usable_bytes: number | null; worst_case_bytes: number | null; loaded_bytes: number };
  disk: { total_bytes: number | null; available_bytes: number | null; low: boolean };
  heartbeat: { last_seen: string | null; age_seconds: number | null; stale: boolean };
  running: RunningStep[];
  differences: Difference[];
  pending: PendingStep[];
  workers: Pick<Worker, 'worker_id' | 'type' | 'endpoint' | 'priority' | 'max_concurrent' | 'models_available' | 'enabled' | 'task_types'>[];
}

export interface ReconcileSummary {
  started_at: string;
  finished_at: string | null;
  result: string;
  duration_ms: number | null;
  reasons: string[];
  error: string | null;
}

export interface FleetView {
  now: string;
  branch: string;
  revision: string | null;
  head: string | null;
  invalid: { revision: string; problems: { file: string; line: number; col: number; rule: string; message: string }[] } | null;
  origin: { reachable: boolean; since: string | null; error: string | null };
  reconciles: ReconcileSummary[];
  running: boolean;
  pending: PendingStep[];
  /** Steps in the whole plan (pending may list fewer). */
  pending_total: number;
  cards: NodeCard[];
  counts: Partial<Record<Severity, number>>;
  events: FleetEvent[];
  /** Whether "Reconcile now" can be offered (a local token exists). */
  can_reconcile: boolean;
  alerts: { key: string; kind: string; node: string | null; since: string; detail: string }[];
}

