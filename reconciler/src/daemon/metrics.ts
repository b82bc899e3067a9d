// Prometheus metrics for one daemon. Each daemon owns its Registry (never
// prom-client's global default), so two daemons in one process (tests, bench)
// count separately and GET /metrics shows only its own numbers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ReconcileVerdict = 'ok' | 'changed' | 'failed' | 'invalid-revision' | 'skipped' | 'aborted';
export type StepResult = 'ok' | 'failed' | 'skipped';

export interface FleetMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileDuration: Histogram;
  reconcileErrors: Counter;
  nodes: Gauge<'status'>;
  driftNodes: Gauge;
  steps: Counter<'kind' | 'result'>;
  pullBytes: Counter;
  lastGoodRevision: Gauge<'revision'>;
  invalidRevision: Gauge<'revision'>;
  /** Registry API and webhook answers, by route and outcome (accepted, refused, rate-limited...). */
  apiRequests: Counter<'route' | 'result'>;
}

export interface MetricsOptions {
  /** Prefix of every metric name (default `fleet_`). */
  prefix?: string;
  /** Also export process metrics (RSS, CPU, event loop lag) into this registry (default true). */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): FleetMetrics {
  const prefix = options.prefix ?? 'fleet_';
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const metrics: FleetMetrics = {
    registry,
    reconciles: new Counter({ name: `${prefix}reconciles_total`, help: 'Reconciles run, by result.', labelNames: ['result'], registers }),
    reconcileDuration: new Histogram({
      name: `${prefix}reconcile_duration_seconds`,
      help: 'Wall time of a reconcile, from fetch to push.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200],
      registers,
    }),
    reconcileErrors: new Counter({ name: `${prefix}reconcile_errors_total`, help: 'Reconciles that ended in an error.', registers }),
    nodes: new Gauge({ name: `${prefix}nodes`, help: 'Nodes by status at the last reconcile (converged, drifted, unreachable, ...).', labelNames: ['status'], registers }),
    driftNodes: new Gauge({ name: `${prefix}drift_nodes`, help: 'Nodes whose observed state differed from the desired state at the last reconcile.', registers }),
    steps: new Counter({ name: `${prefix}steps_total`, help: 'Plan steps applied, by kind and result.', labelNames: ['kind', 'result'], registers }),
    pullBytes: new Counter({ name: `${prefix}pull_bytes_total`, help: 'Bytes of model pulls completed on nodes.', registers }),
    lastGoodRevision: new Gauge({ name: `${prefix}last_good_revision`, help: 'The revision being reconciled (1 on its label).', labelNames: ['revision'], registers }),
    apiRequests: new Counter({ name: `${prefix}api_requests_total`, help: 'Registry API and webhook requests, by route and outcome.', labelNames: ['route', 'result'], registers }),
    invalidRevision: new Gauge({ name: `${prefix}invalid_revision`, help: '1 while the branch head fails validation (its revision on the label); the last good revision is reconciled meanwhile.', labelNames: ['revision'], registers }),
  };
  // Present from the first scrape, so an alert on `== 1` has a series to watch.
  setInvalidRevision(metrics, null);
  return metrics;
}

/** Records one finished reconcile. */
export function recordReconcile(metrics: FleetMetrics, result: ReconcileVerdict, durationSeconds: number): void {
  metrics.reconciles.inc({ result });
  metrics.reconcileDuration.observe(durationSeconds);
  if (result === 'failed') metrics.reconcileErrors.inc();
}

/** Replaces the node counts (statuses missing from `counts` disappear). */
export function setNodeCounts(metrics: FleetMetrics, counts: Readonly<Record<string, number>>, drifted: number): void {
  metrics.nodes.reset();
  for (const [status, n] of Object.entries(counts)) metrics.nodes.set({ status }, n);
  metrics.driftNodes.set(drifted);
}

export function setLastGoodRevision(metrics: FleetMetrics, revision: string): void {
  metrics.lastGoodRevision.reset();
  metrics.lastGoodRevision.set({ revision }, 1);
}

/** `revision` null: the branch head is valid again. */
export function setInvalidRevision(metrics: FleetMetrics, revision: string | null): void {
  metrics.invalidRevision.reset();
  if (revision === null) metrics.invalidRevision.set({ revision: '' }, 0);
  else metrics.invalidRevision.set({ revision }, 1);
}

/** The Prometheus text for GET /metrics. */
export async function renderMetrics(metrics: FleetMetrics): Promise<{ contentType: string; body: string }> {
  return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}
