// The transfer coordinator: who may serve a copy, and when a copy gives up
// waiting. Plain data; no network.
import { describe, expect, it } from 'vitest';
import { TransferCoordinator } from '../../reconciler/src/apply/transfers.ts';
import type { Plan } from '../../reconciler/src/model/steps.ts';

const clock = { now: () => 0, sleep: () => Promise.resolve() };
const copy = (node: string, source: string, peers: string[]) => ({ kind: 'copy-model' as const, id: `${node}/copy-model/m:1`, node, model: 'm:1', bytes: 1, source, peers, fallback: 'internet' as const, why: '', after: [] });
const plan = (steps: ReturnType<typeof copy>[]): Plan => ({ nodes: steps.map((s) => ({ node: s.node, status: 'drifted' as const, summary: '', differences: [], steps: [s] })), fleet: [] });

describe('TransferCoordinator', () => {
  it('two targets whose source failed do not wait for each other: one falls back, the other then copies from it', async () => {
    const c = TransferCoordinator.fromPlan(plan([copy('x', 's', ['y']), copy('y', 's', ['x'])]), [], { maxInternetPulls: 1, copiesPerSource: 2 }, clock);
    c.settle('s', 'm:1', 'd'.repeat(64));
    const wait = (me: string, other: string): Promise<string> => c.acquireSource('m:1', ['s', other], new Set(['s']), undefined, me).then((got) => {
      if (got !== undefined) return `${me} from ${got.node}`;
      // It falls back to an internet pull, and then has the model.
      c.settle(me, 'm:1', 'f'.repeat(64));
      return `${me} pulled`;
    });
    const outcomes = (await Promise.all([wait('x', 'y'), wait('y', 'x')])).sort();
    expect(outcomes).toEqual(['x from y', 'y pulled']);
  });

  it('a target waits for a peer that is still getting the model, and takes it from there', async () => {
    const c = TransferCoordinator.fromPlan(plan([copy('x', 's', ['y']), copy('y', 's', [])]), [], { maxInternetPulls: 1, copiesPerSource: 2 }, clock);
    const waiting = c.acquireSource('m:1', ['s', 'y'], new Set(['s']), undefined, 'x');
    c.settle('y', 'm:1', 'e'.repeat(64));
    const got = await waiting;
    expect(got?.node).toBe('y');
    expect(got?.digest).toBe('e'.repeat(64));
  });

  it('between equal links a source serves one copy at a time; a 10 GbE source serves ten 1 GbE targets, up to the limit', () => {
    const c = new TransferCoordinator({ maxInternetPulls: 1, copiesPerSource: 4, linkGbps: { studio: 10, mini: 1, other: 1 } }, clock);
    expect(c.slotsFor('mini', 'other')).toBe(1);
    expect(c.slotsFor('studio', 'mini')).toBe(4);
    expect(c.slotsFor('mini', 'studio')).toBe(1);
  });

  it('the rate cap: a pull that ran the bucket dry pauses until it is half full again', () => {
    let t = 0;
    const c = new TransferCoordinator({ maxInternetPulls: 1, copiesPerSource: 1, capBytesPerSecond: 1e6 }, { now: () => t, sleep: () => Promise.resolve() });
    expect(c.tookInternet(2e6)).toBe(0);
    expect(c.tookInternet(1e6)).toBe(2000);
    t = 2000;
    expect(c.tookInternet(0.5e6)).toBe(0);
  });
});
