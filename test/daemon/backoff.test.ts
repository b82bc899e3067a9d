// Per-node backoff: table tests for the delays, properties for the bounds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilingDelayMs, createBackoffTracker, drawDelayMs } from '../../reconciler/src/daemon/backoff.ts';
import { FleetError } from '../../reconciler/src/errors.ts';

const opts = { baseMs: 10_000, maxMs: 900_000 };

describe('delays', () => {
  it.each([
    [0, 0], [1, 10_000], [2, 20_000], [3, 40_000], [4, 80_000], [7, 640_000], [8, 900_000], [50, 900_000], [5000, 900_000],
  ])('after %i failures the ceiling is %i ms', (failures, ceiling) => {
    expect(ceilingDelayMs(failures, opts)).toBe(ceiling);
  });

  it.each([
    // u = draw in [0,1): jitter 0.5 puts the delay in [ceiling/2, ceiling]
    [1, 0, 5_000], [1, 0.5, 7_500], [1, 0.999999, 10_000], [3, 0, 20_000], [9, 0.5, 675_000],
  ])('failures %i with draw %d -> %i ms', (failures, u, delay) => {
    expect(drawDelayMs(failures, { ...opts, jitter: 0.5 }, u)).toBe(delay);
  });

  it('jitter 0 is plain exponential, jitter 1 spans [0, ceiling]', () => {
    expect(drawDelayMs(3, { ...opts, jitter: 0 }, 0.3)).toBe(40_000);
    expect(drawDelayMs(3, { ...opts, jitter: 1 }, 0)).toBe(0);
    expect(drawDelayMs(3, { ...opts, jitter: 1 }, 0.25)).toBe(10_000);
  });

  it('never exceeds the cap and never falls under (1 - jitter) of the ceiling', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 10_000_000 }),
      fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (failures, baseMs, maxMs, jitter, u) => {
        const o = { baseMs, maxMs, jitter };
        const d = drawDelayMs(failures, o, u);
        const ceiling = ceilingDelayMs(failures, o);
        return Number.isFinite(d) && d <= maxMs && d <= ceiling + 0.5 && d >= Math.floor((1 - jitter) * ceiling) - 0.5;
      },
    ));
  });

  it('the ceiling never shrinks as failures grow', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 10_000_000 }), (n, baseMs, maxMs) =>
      ceilingDelayMs(n + 1, { baseMs, maxMs }) >= ceilingDelayMs(n, { baseMs, maxMs })));
  });
});

describe('tracker', () => {
  it('skips a failing node until its delay is over, then retries; success clears it', () => {
    const b = createBackoffTracker({ ...opts, jitter: 0, random: () => 0.5 });
    const t0 = 1_000_000;
    expect(b.shouldSkip('virtuoso', t0)).toBe(false);
    expect(b.recordFailure('virtuoso', t0, 'ssh timeout')).toEqual({ node: 'virtuoso', failures: 1, delayMs: 10_000, nextAttemptAt: t0 + 10_000, lastError: 'ssh timeout' });
    expect(b.shouldSkip('virtuoso', t0 + 9_999)).toBe(true);
    expect(b.shouldSkip('virtuoso', t0 + 10_000)).toBe(false);
    expect(b.shouldSkip('maestro', t0 + 1)).toBe(false); // others are not held back
    expect(b.recordFailure('virtuoso', t0 + 10_000).delayMs).toBe(20_000);
    expect(b.list().map((s) => [s.node, s.failures])).toEqual([['virtuoso', 2]]);
    b.recordSuccess('virtuoso');
    expect(b.shouldSkip('virtuoso', t0 + 10_001)).toBe(false);
    expect(b.get('virtuoso')).toBeUndefined();
    expect(b.recordFailure('virtuoso', t0 + 20_000).failures).toBe(1);
  });

  it('draws jitter from the injected random source, per node', () => {
    const draws = [0, 0.999];
    const b = createBackoffTracker({ ...opts, random: () => draws.shift() ?? 0 });
    expect(b.recordFailure('a', 0).delayMs).toBe(5_000);
    expect(b.recordFailure('b', 0).delayMs).toBe(9_995);
  });

  it('applies a new cap (SIGHUP) to the next delay', () => {
    const b = createBackoffTracker({ ...opts, jitter: 0 });
    for (let i = 0; i < 10; i++) b.recordFailure('x', 0);
    expect(b.get('x')?.delayMs).toBe(900_000);
    b.reconfigure({ maxMs: 60_000 });
    expect(b.recordFailure('x', 0).delayMs).toBe(60_000);
  });

  it('the state returned is a copy', () => {
    const b = createBackoffTracker({ ...opts, jitter: 0 });
    const s = b.recordFailure('x', 0);
    s.nextAttemptAt = 0;
    expect(b.shouldSkip('x', 1)).toBe(true);
  });

  it.each([{ baseMs: 0, maxMs: 1 }, { baseMs: 1, maxMs: -1 }, { baseMs: 1, maxMs: 1, factor: 0.5 }, { baseMs: Number.NaN, maxMs: 1 }])('rejects bad settings %o', (o) => {
    expect(() => createBackoffTracker(o)).toThrow(FleetError);
  });
});
