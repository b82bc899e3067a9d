// What a finished reconcile means for the daemon's next ones: nodes that
// failed back off, nodes that converged are forgiven, the step and pull
// counters move, and failed pulls are kept for the alerts.
import type { ReconcileResult } from '../reconcile/reconcile.ts';
import type { BackoffTracker } from './backoff.ts';
import type { FleetMetrics } from './metrics.ts';

/** Backoff per node (a failed node waits before its next attempt) and the step and pull counters. */
export function recordRunOutcomes(result: ReconcileResult, backoff: BackoffTracker, metrics: FleetMetrics, now: number): void {
  const after = result.after ?? result.plan;
  for (const np of after.nodes) {
    const applied = result.applied?.nodes.find((n) => n.node === np.node);
    if (applied && (applied.status === 'failed' || applied.status === 'partial') && np.steps.some((s) => s.kind !== 'manual')) {
      backoff.recordFailure(np.node, now, applied.message ?? np.summary);
    } else if (np.status === 'in-sync' || np.status === 'retired') {
      backoff.recordSuccess(np.node);
    }
  }
  for (const r of result.applied?.nodes ?? []) {
    for (const s of r.steps) metrics.steps.inc({ kind: s.kind, result: s.status === 'ok' ? 'ok' : s.status === 'failed' ? 'failed' : 'skipped' });
  }
  for (const r of result.applied?.nodes ?? []) {
    for (const s of r.steps) {
      if (s.kind === 'pull-model' && s.status === 'ok') {
        const step = result.plan.nodes.flatMap((n) => n.steps).find((x) => x.id === s.id);
        if (step?.kind === 'pull-model') metrics.pullBytes.inc(step.bytes);
      }
    }
  }
}

/** Pulls that failed in an apply, per node, with why. */
export function failedPullsOf(result: ReconcileResult): Map<string, { model: string; message: string }[]> {
  const out = new Map<string, { model: string; message: string }[]>();
  for (const r of result.applied?.nodes ?? []) {
    for (const s of r.steps) {
      if (s.kind !== 'pull-model' || s.status !== 'failed') continue;
      const step = result.plan.nodes.find((n) => n.node === r.node)?.steps.find((x) => x.id === s.id);
      if (step?.kind !== 'pull-model') continue;
      out.set(r.node, [...(out.get(r.node) ?? []), { model: step.model, message: s.message }]);
    }
  }
  return out;
}
