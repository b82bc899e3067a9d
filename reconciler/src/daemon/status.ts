// The daemon's status: plain data anyone can read (GET /api/status, `fleet
// status`, the dashboard, alerts), as Flux reports a controller's. Types and
// the pure helpers that fill it.
import type { PullProgress } from '../apply/context.ts';
import type { RunningStep } from '../apply/progress.ts';
import type { NodePlan, NodeStatus, Plan, Step } from '../model/steps.ts';
import type { Problem } from '../model/problem.ts';
import type { PendingRegistration, WriteStatus } from './heartbeats.ts';
import type { ReconcileVerdict } from './metrics.ts';
import type { TriggerReason } from './triggers.ts';

export interface NodeStatusLine {
  node: string;
  status: NodeStatus;
  summary: string;
  /** The address that answered at the last observation (null: none did). */
  address: string | null;
  differences: NodePlan['differences'];
  pending_steps: number;
  backoff_until: string | null;
}

export interface DaemonStatus {
  /** The --repo URL with any credentials blanked. */
  repo: string;
  branch: string;
  /** Whether the last fetch or push reached origin; the last good revision goes on being reconciled meanwhile. */
  origin: { reachable: boolean; since: string | null; error: string | null };
  /** A force-push that replaced the history the last good revision is on. */
  rewritten: { from: string; to: string; at: string; accepted: boolean } | null;
  /** Registrations from nodes the fleet does not know, held until a pull request adds them. */
  pending_registrations: PendingRegistration[];
  heartbeats: { nodes: number; write: WriteStatus };
  /** Remote head at the last fetch. */
  head: string | null;
  /** The revision being reconciled (passed validation). */
  revision: string | null;
  invalid: { revision: string; problems: Problem[] } | null;
  /** The last reconcile, with the commit it made. */
  last: (ReconcileRecord & { commit: string | null }) | null;
  reconciles: number;
  /** The last reconciles, newest first (at most 20). */
  history: ReconcileRecord[];
  nodes: NodeStatusLine[];
  /** Steps running now; a model step with its transfer (bytes, source, rate, ETA). */
  running: RunningStep[];
  /** Models arriving on nodes right now (internet pulls and LAN copies): source, bytes, rate, ETA. */
  transfers?: PullProgress[];
  /** The plan being applied (during a reconcile) or still left (after one): steps with their reasons, the first MAX_PENDING_SHOWN. */
  pending: PendingStep[];
  /** How many steps that plan has in all. */
  pending_total: number;
  /** Alerts firing now, where they go (formats only, never a URL) and the last delivery problem. */
  alerts: { targets: string[]; firing: { key: string; kind: string; node: string | null; since: string; detail: string }[]; suppressed: number; last_error: string | null };
}

export interface ReconcileRecord {
  reasons: TriggerReason[];
  started_at: string;
  finished_at: string | null;
  result: ReconcileVerdict | 'running';
  duration_ms: number | null;
  error: string | null;
}

export interface PendingStep {
  node: string | null;
  id: string;
  kind: Step['kind'];
  why: string;
}

/** Steps listed in the status at most (a fresh 100-node fleet has thousands); pending_total counts them all. */
export const MAX_PENDING_SHOWN = 200;

/** A plan's steps as the status shows them: what, where and why, never a file's content. */
export function pendingSteps(plan: Plan): PendingStep[] {
  return [...plan.nodes.flatMap((n) => n.steps), ...plan.fleet].slice(0, MAX_PENDING_SHOWN).map((s) => ({ node: s.node, id: s.id, kind: s.kind, why: s.why }));
}

export function countSteps(plan: Plan): number {
  return plan.nodes.reduce((n, np) => n + np.steps.length, plan.fleet.length);
}

