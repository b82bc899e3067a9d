// What the dashboard shows, as plain data: a pure function of the daemon's
// status, the fleet, the last observation, the heartbeats, the live progress
// and the generated workers. No clock (now is passed in), no I/O.
import type { RunningStep } from '../apply/progress.ts';
import type { DaemonStatus } from '../daemon/run-daemon.ts';
import { buildCapacityReport } from '../fit/capacity-report.ts';
import { resolveNode, type Desired } from '../load/desired.ts';
import type { Worker } from '../schema/generated.ts';
import type { HeartbeatRecord, ObservedNode } from '../schema/observed.ts';
import type { Difference, NodeStatus } from '../plan/steps.ts';
import type { FleetEvent } from './events.ts';

/** GB in the fit estimate are GiB (how Mac RAM is sold). */
const GIB = 2 ** 30;

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
  origin: DaemonStatus['origin'];
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
  alerts: DaemonStatus['alerts']['firing'];
}

export interface FleetViewInput {
  now: Date;
  status: DaemonStatus;
  desired: Desired | null;
  observed: readonly ObservedNode[];
  heartbeats: readonly HeartbeatRecord[];
  workers: readonly Worker[];
  history: readonly ReconcileSummary[];
  events: readonly FleetEvent[];
  canReconcile: boolean;
  /** A heartbeat older than this is stale (the registry's 3 minutes). */
  heartbeatStaleSeconds?: number;
  /** Free disk under this is low (bytes). */
  lowDiskBytes?: number;
}

const BAD: ReadonlySet<CardState> = new Set(['unreachable', 'refused', 'error', 'unknown-hardware']);

function severityOf(state: CardState, ollamaDown: boolean): Severity {
  if (BAD.has(state) || ollamaDown) return 'bad';
  switch (state) {
    case 'in-sync': return 'ok';
    case 'converging': return 'busy';
    case 'drifted': case 'unknown': return 'warn';
    case 'away': case 'planned': case 'retired': return 'idle';
    case 'unreachable': case 'refused': case 'error': case 'unknown-hardware': return 'bad';
  }
}

function ageSeconds(now: Date, iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.round((now.getTime() - t) / 1000));
}

export function buildFleetView(input: FleetViewInput): FleetView {
  const { status, desired, now } = input;
  const staleAfter = input.heartbeatStaleSeconds ?? 180;
  const lowDisk = input.lowDiskBytes ?? 10e9;
  const running = status.running;
  const pending: PendingStep[] = status.pending;
  const capacity = desired ? new Map(buildCapacityReport(desired).rows.map((r) => [r.node, r])) : new Map();
  const docs = desired?.nodes ?? [];
  const names = [...new Set([...docs.map((d) => d.name), ...status.nodes.map((n) => n.node)])].sort();

  const cards = names.map((name): NodeCard => {
    const doc = docs.find((d) => d.name === name);
    const node = desired && doc ? resolveNode(desired, doc) : undefined;
    const line = status.nodes.find((n) => n.node === name);
    const obs = input.observed.find((o) => o.node === name);
    const facts = obs?.reach.status === 'ok' ? obs.facts : undefined;
    const mine = running.filter((r) => r.node === name);
    const expected = node?.role.services.ollama ?? false;
    const ext = facts?.ollama.external;
    const up = facts ? (ext?.up ?? facts.ollama.local.up) : null;
    const ollamaDown = expected && node?.status === 'active' && up === false;
    let state: CardState = line?.status ?? (node?.status === 'planned' ? 'planned' : node?.status === 'retired' ? 'retired' : 'unknown');
    if (mine.length > 0) state = 'converging';
    const present = facts?.ollama.models.map((m) => ({ name: m.name, size: m.size })) ?? [];
    const loaded = facts?.ollama.loaded.map((m) => ({ name: m.name, size: m.size, size_vram: m.size_vram })) ?? [];
    const wanted = node?.models ?? [];
    const have = new Set(present.map((m) => m.name));
    const cap = capacity.get(name);
    const beat = input.heartbeats.find((h) => h.node_id === name);
    const age = ageSeconds(now, beat?.last_seen);
    const available = facts?.disk.available_bytes ?? null;
    const summary = line?.summary ?? (obs ? (obs.reach.message ?? obs.reach.status) : 'not observed yet');
    return {
      node: name,
      display_name: node?.display_name ?? name,
      role: doc?.role ?? '?',
      hardware: node?.hardware?.model ?? doc?.hardware ?? '?',
      presence: node?.presence ?? 'always_on',
      state,
      severity: severityOf(state, ollamaDown),
      summary: ollamaDown && state !== 'converging' ? `Ollama is down: ${ext?.error ?? facts?.ollama.local.error ?? 'no answer'}` : summary,
      address: obs?.reach.address ?? null,
      observed_at: obs?.observed_at ?? null,
      ollama: { expected, up, version: ext?.version ?? facts?.ollama.local.version ?? null, error: up === false ? (ext?.error ?? facts?.ollama.local.error ?? null) : null },
      models: { wanted, present, loaded, missing: facts ? wanted.filter((m) => !have.has(m)) : [] },
      memory: {
        ram_bytes: facts?.hardware.ram_bytes ?? (node?.hardware ? node.hardware.ram_gb * GIB : null),
        usable_bytes: typeof cap?.usable_gb === 'number' ? cap.usable_gb * GIB : null,
        worst_case_bytes: typeof cap?.worst_case_gb === 'number' ? cap.worst_case_gb * GIB : null,
        loaded_bytes: loaded.reduce((n, m) => n + m.size_vram, 0),
      },
      disk: { total_bytes: facts?.disk.total_bytes ?? null, available_bytes: available, low: available !== null && available < lowDisk },
      heartbeat: { last_seen: beat?.last_seen ?? null, age_seconds: age, stale: age !== null && age > staleAfter },
      running: mine,
      differences: line?.differences ?? [],
      pending: pending.filter((p) => p.node === name),
      workers: input.workers.filter((w) => w.node_id === name).map((w) => ({
        worker_id: w.worker_id, type: w.type, endpoint: w.endpoint, priority: w.priority, max_concurrent: w.max_concurrent, models_available: w.models_available, enabled: w.enabled, task_types: w.task_types,
      })),
    };
  });
  const counts: Partial<Record<Severity, number>> = {};
  for (const c of cards) counts[c.severity] = (counts[c.severity] ?? 0) + 1;
  return {
    now: now.toISOString(),
    branch: status.branch,
    revision: status.revision,
    head: status.head,
    invalid: status.invalid ? { revision: status.invalid.revision, problems: status.invalid.problems.map((p) => ({ file: p.file, line: p.line, col: p.col, rule: p.rule, message: p.message })) } : null,
    origin: status.origin,
    reconciles: [...input.history],
    running: status.last?.result === 'running',
    pending,
    pending_total: status.pending_total,
    cards,
    counts,
    events: [...input.events],
    can_reconcile: input.canReconcile,
    alerts: status.alerts.firing,
  };
}
