// Which alerts to send, as a pure function of what was known before and
// what was just observed: evaluateAlerts(previous, observation, rules) returns
// the new state and the notifications to send. No clock (the observation
// carries its time), no network; notifier.ts delivers.
//
// Each alert is keyed (kind and node, or kind, node and model); it is sent
// once when its condition has held long enough, and once more when it clears
// (a recovery). A recovered alert does not fire again within the cooldown,
// and at most max_per_hour alerts leave Bob in any hour: the rest are counted
// (their recoveries are not sent) and the count rides along with the next
// message. Recoveries of alerts that were sent always go.
import type { FleetView } from '../dashboard/fleet-view.ts';

export const ALERT_KINDS = ['node-unreachable', 'ollama-down', 'invalid-revision', 'pull-failed', 'low-disk', 'drift-not-healed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRules {
  /** A node (not a roaming laptop) unreachable this long. */
  unreachable_minutes: number;
  /** Ollama down this long on a node that should serve (0: at the first observation). */
  ollama_down_minutes: number;
  /** Free disk under this many GB (10^9 bytes); clears 10% above it. */
  low_disk_gb: number;
  /** A node still drifted after this many reconciles in a row. */
  drift_reconciles: number;
  /** After a recovery, the same alert waits this long before it fires again. */
  cooldown_minutes: number;
  /** Messages per rolling hour, all alerts together. */
  max_per_hour: number;
}

export const DEFAULT_ALERT_RULES: AlertRules = {
  unreachable_minutes: 10,
  ollama_down_minutes: 0,
  low_disk_gb: 20,
  drift_reconciles: 3,
  cooldown_minutes: 30,
  max_per_hour: 20,
};

export interface NodeObservation {
  node: string;
  /** Only active nodes alert; planned and retired ones never do. */
  active: boolean;
  roaming: boolean;
  /** null: this node was not observed (yet): its alerts stay as they are. */
  reachable: boolean | null;
  ollama_expected: boolean;
  ollama_up: boolean | null;
  disk_free_bytes: number | null;
  /** Still not in sync after the reconcile. */
  drifted: boolean;
  models_present: readonly string[];
  /** Pulls that failed in the reconcile this observation follows. */
  failed_pulls: readonly { model: string; message: string }[];
}

export interface AlertObservation {
  /** Milliseconds since the epoch. */
  at: number;
  /** It follows a reconcile (counts toward drift_reconciles); false: a timer re-evaluation. */
  reconcile: boolean;
  invalid: { revision: string; errors: number; first: string } | null;
  nodes: readonly NodeObservation[];
}

interface Condition {
  kind: AlertKind;
  node: string | null;
  model: string | null;
  detail: string;
}

export interface Firing {
  kind: AlertKind;
  node: string | null;
  since: number;
  detail: string;
  /** false: held back by the rate limit, so its recovery is not sent either. */
  notified: boolean;
}

export interface AlertState {
  /** Conditions that hold but have not fired yet: since when. */
  holding: Record<string, { since: number; reconciles: number }>;
  firing: Record<string, Firing>;
  /** When each alert last recovered (for the cooldown). */
  recovered: Record<string, number>;
  /** When each alert (not recovery) was sent, within the last hour. */
  sent: number[];
  /** Messages held back by the rate limit since the last one sent. */
  suppressed: number;
}

export interface Notification {
  key: string;
  kind: AlertKind;
  node: string | null;
  state: 'firing' | 'resolved';
  title: string;
  message: string;
  at: string;
}

export function emptyAlertState(): AlertState {
  return { holding: {}, firing: {}, recovered: {}, sent: [], suppressed: 0 };
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** What holds now, keyed; and the keys this observation can speak about (the rest are left alone). */
function conditionsOf(obs: AlertObservation, rules: AlertRules, previous: AlertState): { holds: Map<string, Condition>; known: (key: string) => boolean } {
  const holds = new Map<string, Condition>();
  const add = (c: Condition): void => void holds.set(keyOf(c), c);
  if (obs.invalid) add({ kind: 'invalid-revision', node: null, model: null, detail: `revision ${obs.invalid.revision.slice(0, 12)} is invalid (${obs.invalid.errors} error${obs.invalid.errors === 1 ? '' : 's'}; first: ${obs.invalid.first}); the last good revision is reconciled meanwhile` });
  const observed = new Set<string>();
  const present = new Set<string>();
  for (const n of obs.nodes) {
    present.add(n.node);
    if (n.reachable === null) continue;
    observed.add(n.node);
    if (!n.active) continue;
    if (!n.reachable && !n.roaming) add({ kind: 'node-unreachable', node: n.node, model: null, detail: `${n.node} does not answer over SSH` });
    if (!n.reachable) continue;
    if (n.ollama_expected && n.ollama_up === false) add({ kind: 'ollama-down', node: n.node, model: null, detail: `Ollama on ${n.node} does not answer Bob` });
    const low = rules.low_disk_gb * 1e9;
    const wasLow = previous.firing[`low-disk:${n.node}`] !== undefined;
    if (n.disk_free_bytes !== null && n.disk_free_bytes < (wasLow ? low * 1.1 : low)) add({ kind: 'low-disk', node: n.node, model: null, detail: `${n.node} has ${gb(n.disk_free_bytes)} free (alert under ${rules.low_disk_gb} GB)` });
    if (n.drifted) add({ kind: 'drift-not-healed', node: n.node, model: null, detail: `${n.node} is still drifted` });
    for (const f of n.failed_pulls) add({ kind: 'pull-failed', node: n.node, model: f.model, detail: `pulling ${f.model} on ${n.node} failed: ${f.message}` });
    // A failed pull stays an alert until the model is there (or no longer failing and the node converged).
    for (const [key, firing] of Object.entries(previous.firing)) {
      if (firing.kind !== 'pull-failed' || firing.node !== n.node || holds.has(key)) continue;
      const model = key.slice(`pull-failed:${n.node}:`.length);
      if (!n.models_present.includes(model) && n.drifted) add({ kind: 'pull-failed', node: n.node, model, detail: firing.detail });
    }
  }
  return {
    holds,
    known: (key) => {
      const node = key.split(':')[1];
      if (key === 'invalid-revision') return true;
      // A node gone from the fleet: its alerts end quietly (below); one not observed: unknown.
      return node !== undefined && (observed.has(node) || !present.has(node));
    },
  };
}

function keyOf(c: Pick<Condition, 'kind' | 'node' | 'model'>): string {
  return [c.kind, c.node, c.model].filter((x) => x !== null).join(':');
}

/** How long a condition must hold, or how many reconciles, before it fires. */
function ready(kind: AlertKind, hold: { since: number; reconciles: number }, at: number, rules: AlertRules): boolean {
  switch (kind) {
    case 'node-unreachable': return at - hold.since >= rules.unreachable_minutes * MINUTE;
    case 'ollama-down': return at - hold.since >= rules.ollama_down_minutes * MINUTE;
    case 'drift-not-healed': return hold.reconciles >= rules.drift_reconciles;
    case 'invalid-revision':
    case 'pull-failed':
    case 'low-disk':
      return true;
  }
}

const TITLES: Readonly<Record<AlertKind, [string, string]>> = {
  'node-unreachable': ['unreachable', 'reachable again'],
  'ollama-down': ['Ollama down', 'Ollama up again'],
  'invalid-revision': ['invalid revision', 'revision valid again'],
  'pull-failed': ['pull failed', 'model pulled'],
  'low-disk': ['low disk', 'disk space back'],
  'drift-not-healed': ['drift not healed', 'in sync again'],
};

export function evaluateAlerts(previous: AlertState, obs: AlertObservation, rules: AlertRules): { state: AlertState; notifications: Notification[] } {
  const { holds, known } = conditionsOf(obs, rules, previous);
  const state: AlertState = {
    holding: {},
    firing: { ...previous.firing },
    recovered: Object.fromEntries(Object.entries(previous.recovered).filter(([, t]) => obs.at - t < rules.cooldown_minutes * MINUTE)),
    sent: previous.sent.filter((t) => obs.at - t < HOUR),
    suppressed: previous.suppressed,
  };
  const out: Notification[] = [];
  const emit = (key: string, c: Pick<Condition, 'kind' | 'node' | 'detail'>, kind: 'firing' | 'resolved', since: number): boolean => {
    // Recoveries always go: each follows an alert that was sent, so they are bounded by the limit too,
    // and a held-back recovery would leave a receiver believing the alert still fires.
    if (kind === 'firing' && state.sent.length >= rules.max_per_hour) {
      state.suppressed += 1;
      return false;
    }
    const [on, off] = TITLES[c.kind];
    const where = c.node === null ? 'fleet' : c.node;
    const extra = state.suppressed > 0 ? ` (${state.suppressed} more alert message${state.suppressed === 1 ? ' was' : 's were'} held back by the rate limit)` : '';
    const took = Math.round((obs.at - since) / MINUTE);
    out.push({
      key,
      kind: c.kind,
      node: c.node,
      state: kind,
      title: `${kind === 'firing' ? 'ALERT' : 'RESOLVED'} ${where}: ${kind === 'firing' ? on : off}`,
      message: kind === 'firing' ? `${c.detail}.${extra}` : `${c.detail.replace(/\.$/, '')}: cleared after ${took} min.${extra}`,
      at: new Date(obs.at).toISOString(),
    });
    if (kind === 'firing') state.sent.push(obs.at);
    state.suppressed = 0;
    return true;
  };

  // Recoveries first, so a flood of new alerts cannot hold back the news that one cleared.
  for (const [key, firing] of Object.entries(previous.firing)) {
    if (holds.has(key)) continue;
    const node = key.split(':')[1];
    if (node !== undefined && !obs.nodes.some((n) => n.node === node)) {
      // Its node left the fleet: the alert ends quietly.
      delete state.firing[key];
      continue;
    }
    // Not observed this time: unknown, not cleared.
    if (!known(key)) continue;
    delete state.firing[key];
    state.recovered[key] = obs.at;
    if (firing.notified) emit(key, firing, 'resolved', firing.since);
  }
  for (const [key, c] of holds) {
    const before = previous.holding[key];
    const hold = { since: before?.since ?? previous.firing[key]?.since ?? obs.at, reconciles: (before?.reconciles ?? 0) + (obs.reconcile ? 1 : 0) };
    const firing = state.firing[key];
    if (firing) {
      state.firing[key] = { ...firing, detail: c.detail };
      continue;
    }
    if (!ready(c.kind, hold, obs.at, rules) || state.recovered[key] !== undefined) {
      state.holding[key] = hold;
      continue;
    }
    const notified = emit(key, c, 'firing', hold.since);
    state.firing[key] = { kind: c.kind, node: c.node, since: hold.since, detail: c.detail, notified };
  }
  // Unobserved nodes keep what they were holding.
  for (const [key, hold] of Object.entries(previous.holding)) {
    if (!holds.has(key) && !known(key)) state.holding[key] = hold;
  }
  return { state, notifications: out };
}

/** The observation alerts judge, from the dashboard's view of the fleet. */
export function observeForAlerts(view: FleetView, at: number, reconcile: boolean, failedPulls: ReadonlyMap<string, readonly { model: string; message: string }[]>): AlertObservation {
  const first = view.invalid?.problems[0];
  return {
    at,
    reconcile,
    invalid: view.invalid ? { revision: view.invalid.revision, errors: view.invalid.problems.length, first: first ? `${first.file}:${first.line}:${first.col} ${first.message}` : 'unknown' } : null,
    nodes: view.cards.map((c) => ({
      node: c.node,
      active: c.state !== 'planned' && c.state !== 'retired',
      roaming: c.presence === 'roaming',
      reachable: c.observed_at === null ? null : c.address !== null,
      ollama_expected: c.ollama.expected,
      ollama_up: c.ollama.up,
      disk_free_bytes: c.disk.available_bytes,
      drifted: c.state === 'drifted' || (c.state === 'converging' && c.differences.length > 0),
      models_present: c.models.present.map((m) => m.name),
      failed_pulls: failedPulls.get(c.node) ?? [],
    })),
  };
}
