// Alert state is pure: evaluateAlerts(previous, observation, rules). Each
// alert is sent once, with one recovery, never for a roaming laptop that is
// away, held for a cooldown after it clears, and rate-limited as a whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_RULES, emptyAlertState, evaluateAlerts, type AlertObservation, type AlertState, type NodeObservation, type Notification } from '../../reconciler/src/daemon/alerts.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-11-24T10:00:00Z');

function node(name: string, over: Partial<NodeObservation> = {}): NodeObservation {
  return { node: name, active: true, roaming: false, reachable: true, ollama_expected: true, ollama_up: true, disk_free_bytes: 500e9, drifted: false, models_present: ['llama3.1:8b'], failed_pulls: [], ...over };
}

function obs(minutes: number, nodes: NodeObservation[], over: Partial<AlertObservation> = {}): AlertObservation {
  return { at: T0 + minutes * MIN, reconcile: true, invalid: null, nodes, ...over };
}

/** Runs observations in order; every notification, with the minute it was sent. */
function run(observations: AlertObservation[], rules = DEFAULT_ALERT_RULES, start: AlertState = emptyAlertState()): { sent: (Notification & { minute: number })[]; state: AlertState } {
  let state = start;
  const sent: (Notification & { minute: number })[] = [];
  for (const o of observations) {
    const r = evaluateAlerts(state, o, rules);
    state = r.state;
    sent.push(...r.notifications.map((n) => ({ ...n, minute: (o.at - T0) / MIN })));
  }
  return { sent, state };
}

const brief = (ns: { key: string; state: string; minute: number }[]): string[] => ns.map((n) => `${n.minute} ${n.state} ${n.key}`);

describe('evaluateAlerts', () => {
  it('sends "unreachable" once the node has been unreachable for N minutes, once, and one recovery', () => {
    const down = node('maestro', { reachable: false });
    const { sent } = run([obs(0, [down]), obs(5, [down]), obs(9, [down]), obs(10, [down]), obs(15, [down]), obs(16, [node('maestro')]), obs(17, [node('maestro')])]);
    expect(brief(sent)).toEqual(['10 firing node-unreachable:maestro', '16 resolved node-unreachable:maestro']);
    expect(sent[0]?.title).toBe('ALERT maestro: unreachable');
    expect(sent[1]?.message).toBe('maestro does not answer over SSH: cleared after 16 min.');
  });

  it('never alerts for a roaming laptop that is away, nor for planned or retired nodes', () => {
    const { sent } = run([0, 30, 60].map((m) => obs(m, [node('laptop', { reachable: false, roaming: true }), node('new', { reachable: false, active: false })])));
    expect(sent).toEqual([]);
  });

  it('keeps an alert firing while the node is not observed, and reports no recovery it has not seen', () => {
    const down = node('maestro', { reachable: false });
    const unknown = node('maestro', { reachable: null });
    const { sent, state } = run([obs(0, [down]), obs(10, [down]), obs(20, [unknown]), obs(30, [unknown])]);
    expect(brief(sent)).toEqual(['10 firing node-unreachable:maestro']);
    expect(Object.keys(state.firing)).toEqual(['node-unreachable:maestro']);
    // A node that left the fleet ends its alerts quietly.
    expect(run([obs(40, [])], DEFAULT_ALERT_RULES, state).sent).toEqual([]);
  });

  it('alerts on Ollama down only where Ollama should serve, on a failed pull until the model is there, on low disk with a margin', () => {
    const { sent } = run([
      obs(0, [node('maestro', { ollama_up: false }), node('stagehand', { ollama_expected: false, ollama_up: false })]),
      obs(1, [node('maestro', { failed_pulls: [{ model: 'mistral:7b', message: 'disk full' }], drifted: true, disk_free_bytes: 15e9 }), node('stagehand', { ollama_expected: false })]),
      obs(2, [node('maestro', { drifted: true, disk_free_bytes: 21e9 }), node('stagehand', { ollama_expected: false })]),
      obs(3, [node('maestro', { models_present: ['llama3.1:8b', 'mistral:7b'], disk_free_bytes: 23e9 }), node('stagehand', { ollama_expected: false })]),
    ]);
    expect(brief(sent)).toEqual([
      '0 firing ollama-down:maestro',
      '1 resolved ollama-down:maestro', '1 firing low-disk:maestro', '1 firing pull-failed:maestro:mistral:7b',
      '3 resolved low-disk:maestro', '3 resolved pull-failed:maestro:mistral:7b',
    ]);
    expect(sent.find((n) => n.key === 'pull-failed:maestro:mistral:7b')?.message).toBe('pulling mistral:7b on maestro failed: disk full.');
  });

  it('alerts on drift not healed after K reconciles (timer re-evaluations do not count) and on an invalid revision', () => {
    const drifted = node('maestro', { drifted: true });
    const invalid = { revision: 'b'.repeat(40), errors: 2, first: 'fleet/nodes/x.yaml:2:7 unknown role' };
    const { sent } = run([
      obs(0, [drifted]), obs(1, [drifted], { reconcile: false }), obs(2, [drifted], { reconcile: false }), obs(3, [drifted]),
      obs(4, [drifted], { invalid }), obs(5, [drifted], { invalid }), obs(6, [node('maestro')]),
    ]);
    expect(brief(sent)).toEqual(['4 firing invalid-revision', '4 firing drift-not-healed:maestro', '6 resolved invalid-revision', '6 resolved drift-not-healed:maestro']);
    expect(sent[0]?.message).toContain('revision bbbbbbbbbbbb is invalid (2 errors; first: fleet/nodes/x.yaml:2:7 unknown role)');
  });

  it('does not fire again within the cooldown after a recovery, then fires if it still holds', () => {
    const down = node('maestro', { ollama_up: false });
    const up = node('maestro');
    const { sent } = run([obs(0, [down]), obs(1, [up]), obs(2, [down]), obs(20, [down]), obs(31, [down])]);
    expect(brief(sent)).toEqual(['0 firing ollama-down:maestro', '1 resolved ollama-down:maestro', '31 firing ollama-down:maestro']);
  });

  it('sends at most max_per_hour alerts; the rest are counted and reported with the next message', () => {
    const many = Array.from({ length: 25 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, { ollama_up: false }));
    const first = run([obs(0, many)]);
    expect(first.sent).toHaveLength(20);
    expect(first.state.suppressed).toBe(5);
    // Recoveries go for the 20 that were sent, not for the 5 no one heard of.
    const later = run([obs(30, many.map((n) => ({ ...n, ollama_up: true })))], DEFAULT_ALERT_RULES, first.state);
    expect(later.sent.map((n) => n.state)).toEqual(Array(20).fill('resolved'));
    expect(later.sent[0]?.message).toContain('(5 more alert messages were held back by the rate limit)');
  });

  it('never sends an alert twice without a recovery between, nor more alerts than the limit in any hour (property)', () => {
    const step = fc.record({
      gap: fc.integer({ min: 0, max: 20 }),
      reconcile: fc.boolean(),
      invalid: fc.boolean(),
      nodes: fc.array(fc.record({ reachable: fc.constantFrom(true, false, null), ollama_up: fc.boolean(), low: fc.boolean(), drifted: fc.boolean(), fail: fc.boolean(), roaming: fc.boolean() }), { minLength: 3, maxLength: 3 }),
    });
    fc.assert(fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (steps, maxPerHour) => {
      const rules = { ...DEFAULT_ALERT_RULES, max_per_hour: maxPerHour, cooldown_minutes: 5, unreachable_minutes: 3, drift_reconciles: 2 };
      let minute = 0;
      const observations = steps.map((s) => {
        minute += s.gap;
        return obs(minute, s.nodes.map((n, i) => node(`n${i}`, {
          reachable: n.reachable, ollama_up: n.ollama_up, disk_free_bytes: n.low ? 1e9 : 500e9, drifted: n.drifted, roaming: n.roaming,
          failed_pulls: n.fail ? [{ model: 'm:1', message: 'x' }] : [], models_present: n.fail ? [] : ['m:1'],
        })), { reconcile: s.reconcile, invalid: s.invalid ? { revision: 'r', errors: 1, first: 'x' } : null });
      });
      const { sent } = run(observations, rules);
      const last = new Map<string, string>();
      for (const n of sent) {
        expect(last.get(n.key) ?? 'resolved').not.toBe(n.state);
        last.set(n.key, n.state);
        expect(sent.filter((m) => m.state === 'firing' && m.minute <= n.minute && m.minute > n.minute - 60).length).toBeLessThanOrEqual(maxPerHour);
      }
    }), { numRuns: 300 });
  });
});
