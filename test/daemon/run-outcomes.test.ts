// After a run: which nodes back off, which are forgiven, and which pulls failed.
import { describe, expect, it } from 'vitest';
import { createBackoffTracker } from '../../reconciler/src/daemon/backoff.ts';
import { createMetrics } from '../../reconciler/src/daemon/metrics.ts';
import { failedPullsOf, recordRunOutcomes } from '../../reconciler/src/daemon/run-outcomes.ts';
import type { NodePlan, Step } from '../../reconciler/src/model/steps.ts';
import type { ReconcileResult } from '../../reconciler/src/reconcile/reconcile.ts';

const pull: Step = { kind: 'pull-model', id: 'a/pull-model/llama3.1:8b', node: 'a', why: '', after: [], model: 'llama3.1:8b', bytes: 4_900_000_000 };
const nodePlan = (node: string, status: NodePlan['status'], steps: Step[]): NodePlan => ({ node, status, summary: status, differences: [], steps, notes: [] });

function result(): ReconcileResult {
  const plan = { nodes: [nodePlan('a', 'drifted', [pull]), nodePlan('b', 'drifted', [])], fleet: [] };
  return {
    outcome: 'applied',
    interrupted: false,
    plan,
    observed: [],
    applied: {
      nodes: [
        { node: 'a', status: 'failed', message: 'pull failed', steps: [{ id: pull.id, node: 'a', kind: 'pull-model', status: 'failed', message: 'registry said 500', attempts: 3, durationMs: 10 }] },
        { node: 'b', status: 'converged', steps: [] },
      ],
      fleet: [],
      aborted: false,
      durationMs: 10,
    },
    after: { nodes: [nodePlan('a', 'drifted', [pull]), nodePlan('b', 'in-sync', [])], fleet: [] },
  };
}

describe('run outcomes', () => {
  it('a node whose steps failed backs off; a converged one is forgiven', () => {
    const backoff = createBackoffTracker({ baseMs: 10_000, maxMs: 60_000 });
    backoff.recordFailure('b', 0, 'earlier');
    recordRunOutcomes(result(), backoff, createMetrics({ processMetrics: false }), 1_000);
    expect(backoff.shouldSkip('a', 1_001)).toBe(true);
    expect(backoff.get('a')?.lastError).toBe('pull failed');
    expect(backoff.get('b')).toBeUndefined();
  });

  it('failed pulls are kept per node with their model and reason', () => {
    expect([...failedPullsOf(result())]).toEqual([['a', [{ model: 'llama3.1:8b', message: 'registry said 500' }]]]);
  });
});
