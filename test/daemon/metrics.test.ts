// Metrics: one registry per daemon, the names and labels the issue lists.
import { describe, expect, it } from 'vitest';
import { createMetrics, recordReconcile, renderMetrics, setInvalidRevision, setLastGoodRevision, setNodeCounts } from '../../reconciler/src/daemon/metrics.ts';

describe('metrics', () => {
  it('exposes every metric of the issue in Prometheus text', async () => {
    const m = createMetrics({ processMetrics: false });
    recordReconcile(m, 'changed', 2.2);
    recordReconcile(m, 'failed', 0.3);
    setNodeCounts(m, { converged: 2, unreachable: 1 }, 1);
    m.steps.inc({ kind: 'pull-model', result: 'ok' });
    m.pullBytes.inc(4_920_000_000);
    setLastGoodRevision(m, 'abc123');
    setInvalidRevision(m, 'def456');
    const { contentType, body } = await renderMetrics(m);
    expect(contentType).toMatch(/^text\/plain/);
    for (const line of [
      'fleet_reconciles_total{result="changed"} 1',
      'fleet_reconciles_total{result="failed"} 1',
      'fleet_reconcile_errors_total 1',
      'fleet_reconcile_duration_seconds_count 2',
      'fleet_nodes{status="converged"} 2',
      'fleet_nodes{status="unreachable"} 1',
      'fleet_drift_nodes 1',
      'fleet_steps_total{kind="pull-model",result="ok"} 1',
      'fleet_pull_bytes_total 4920000000',
      'fleet_last_good_revision{revision="abc123"} 1',
      'fleet_invalid_revision{revision="def456"} 1',
    ]) expect(body).toContain(line);
  });

  it('replaces node counts and revisions instead of accumulating label values', async () => {
    const m = createMetrics({ processMetrics: false });
    setNodeCounts(m, { converged: 1, drifted: 2 }, 2);
    setNodeCounts(m, { converged: 3 }, 0);
    setLastGoodRevision(m, 'a');
    setLastGoodRevision(m, 'b');
    setInvalidRevision(m, 'x');
    setInvalidRevision(m, null);
    const { body } = await renderMetrics(m);
    expect(body).not.toContain('status="drifted"');
    expect(body).not.toContain('revision="a"');
    expect(body).not.toContain('revision="x"');
    expect(body).toContain('fleet_invalid_revision{revision=""} 0');
  });

  it('has invalid_revision at 0 from the first scrape', async () => {
    expect((await renderMetrics(createMetrics({ processMetrics: false }))).body).toContain('fleet_invalid_revision{revision=""} 0');
  });

  it('two daemons in one process count separately, process metrics included per registry', async () => {
    const a = createMetrics();
    const b = createMetrics();
    recordReconcile(a, 'ok', 1);
    expect((await renderMetrics(a)).body).toContain('fleet_reconciles_total{result="ok"} 1');
    expect((await renderMetrics(b)).body).not.toContain('fleet_reconciles_total{result="ok"}');
    expect((await renderMetrics(b)).body).toContain('fleet_process_resident_memory_bytes');
  });
});
