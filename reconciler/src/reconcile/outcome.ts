// What a reconcile came to, judged from its data alone: which nodes converged,
// which are away, what failed on Bob, and the exit code every caller shares
// (0 nothing left to do, 2 changes pending or not converged, 1 a node in error).
import type { StepResult } from '../apply/context.ts';
import type { Plan } from '../model/steps.ts';
import { planExitCode } from '../plan/plan.ts';
import type { ReconcileResult } from './reconcile.ts';

export interface ReconcileOutcome {
  exitCode: 0 | 1 | 2;
  converged: string[];
  /** Roaming nodes that are away: nothing to do until they are back, and nothing wrong. */
  away: string[];
  notConverged: string[];
  /** Bob's own steps (install the generated files, signal OpenClaw) that failed. */
  bobFailed: Extract<StepResult, { status: 'failed' }>[];
  /** Everything converged (or is away), nothing failed on Bob, and the run was not interrupted. */
  complete: boolean;
}

/** A node is converged when the plan has nothing left for it. */
export function isConverged(p: Plan, node: string): boolean {
  const np = p.nodes.find((n) => n.node === node);
  return np !== undefined && np.steps.length === 0 && (np.status === 'in-sync' || np.status === 'retired');
}

export function judgeOutcome(result: ReconcileResult): ReconcileOutcome {
  const after = result.after ?? result.plan;
  const converged = after.nodes.filter((n) => isConverged(after, n.node)).map((n) => n.node);
  const away = after.nodes.filter((n) => n.status === 'away').map((n) => n.node);
  const notConverged = after.nodes.map((n) => n.node).filter((n) => !converged.includes(n) && !away.includes(n));
  const bobFailed = (result.applied?.fleet ?? []).filter((r): r is Extract<StepResult, { status: 'failed' }> => r.status === 'failed');
  const complete = notConverged.length === 0 && bobFailed.length === 0 && !result.interrupted;
  // A dry run answers as `fleet plan` does; a declined run changed nothing and leaves the changes pending.
  const exitCode = result.outcome === 'planned' ? planExitCode(result.plan) : result.outcome === 'declined' ? 2 : complete ? 0 : 2;
  return { exitCode, converged, away, notConverged, bobFailed, complete };
}
