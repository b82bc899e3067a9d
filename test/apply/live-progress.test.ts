// Live progress as data: running steps, each transfer's bytes, rate and ETA
// (the daemon's status, dashboard and metrics read it), and the daemon's log
// of pulls at a sane rate.
import { describe, expect, it } from 'vitest';
import { createLiveProgress, createProgressLog, fanOutProgress, formatBytesPerSecond, formatEta } from '../../reconciler/src/apply/progress.ts';
import type { Step } from '../../reconciler/src/model/steps.ts';

const pull: Step = { kind: 'pull-model', id: 'v/pull-model/llama3.1:8b', node: 'v', why: '', after: [], model: 'llama3.1:8b', bytes: 4_000_000_000 };
const dirs: Step = { kind: 'make-dirs', id: 'v/make-dirs', node: 'v', why: '', after: [], paths: ['~/.symphony'] };

describe('createLiveProgress', () => {
  it('lists running steps with a transfer for pulls, and forgets them when they finish', () => {
    let now = 1_000_000;
    const live = createLiveProgress({ now: () => now });
    let changes = 0;
    live.onChange(() => changes++);
    live.stepStarted(dirs);
    live.stepStarted(pull);
    expect(live.running().map((r) => [r.id, r.transfer?.completed ?? null])).toEqual([['v/make-dirs', null], ['v/pull-model/llama3.1:8b', null]]);
    live.stepFinished(dirs, { status: 'ok', changed: true, id: dirs.id, node: 'v', kind: 'make-dirs', attempts: 1, durationMs: 1 });
    // 100 MB/s for 3 s.
    for (let i = 1; i <= 30; i++) {
      now += 100;
      live.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 'pulling abc', completed: i * 10_000_000, total: 4_000_000_000 });
    }
    const [running] = live.running();
    expect(running?.transfer).toMatchObject({ node: 'v', model: 'llama3.1:8b', completed: 300_000_000, total: 4_000_000_000 });
    expect(running?.transfer?.bytesPerSecond).toBeCloseTo(100e6, -6);
    // (4000 - 300) MB at 100 MB/s.
    expect(running?.transfer?.etaSeconds).toBe(37);
    expect(live.transfers()).toEqual([running?.transfer]);
    live.stepFinished(pull, { status: 'ok', changed: true, id: pull.id, node: 'v', kind: 'pull-model', attempts: 1, durationMs: 1 });
    expect(live.running()).toEqual([]);
    expect(changes).toBe(34);
  });

  it('knows no rate from one sample, keeps a producer\'s own rate and source, and ignores progress of a step it did not see start', () => {
    const live = createLiveProgress({ now: () => 5 });
    live.pullProgress({ node: 'x', model: 'm', status: 's', completed: 1, total: 2 });
    expect(live.running()).toEqual([]);
    live.stepStarted(pull);
    live.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 's', completed: 10, total: 4_000_000_000 });
    expect(live.running()[0]?.transfer?.bytesPerSecond).toBeUndefined();
    live.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 'copying', completed: 20, total: 4_000_000_000, source: 'lan:maestro', bytesPerSecond: 90e6, etaSeconds: 44 });
    expect(live.running()[0]?.transfer).toMatchObject({ source: 'lan:maestro', bytesPerSecond: 90e6, etaSeconds: 44 });
  });

  it('fans one sink out to several', () => {
    const a = createLiveProgress();
    const b = createLiveProgress();
    const t = fanOutProgress(a, undefined, b);
    t.stepStarted(pull);
    expect([a.running().length, b.running().length]).toEqual([1, 1]);
  });
});

describe('createProgressLog', () => {
  it('logs a pull when it starts, at each 25% and at most every 30 s otherwise, never per event', () => {
    const lines: [Record<string, unknown>, string][] = [];
    let now = 0;
    const sink = createProgressLog({ info: (f, m) => void lines.push([{ ...f }, m]) }, { now: () => now });
    sink.stepStarted(pull);
    for (let done = 0; done <= 4_000_000_000; done += 40_000_000) {
      now += 100;
      sink.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 'pulling', completed: done, total: 4_000_000_000 });
    }
    expect(lines.map(([, m]) => m)).toEqual(['pull started', 'pull progress', 'pull progress', 'pull progress', 'pull progress']);
    expect(lines.slice(1).map(([f]) => f.percent)).toEqual([25, 50, 75, 100]);
    expect(lines[1]?.[0]).toMatchObject({ node: 'v', model: 'llama3.1:8b', total_bytes: 4_000_000_000 });
    expect(lines[2]?.[0].bytes_per_second).toBeCloseTo(400e6, -7);

    const slow: string[] = [];
    now = 0;
    const s = createProgressLog({ info: (_f, m) => void slow.push(m) }, { now: () => now });
    s.stepStarted(pull);
    for (let i = 0; i < 100; i++) {
      now += 1000;
      s.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 'pulling', completed: i * 1000, total: 4_000_000_000 });
    }
    expect(slow.filter((m) => m === 'pull progress').length).toBe(3);
  });
});

describe('formatting', () => {
  it('prints rates and ETAs for people', () => {
    expect([formatBytesPerSecond(undefined), formatBytesPerSecond(12_345_678), formatBytesPerSecond(250e6)]).toEqual(['- MB/s', '12.3 MB/s', '250 MB/s']);
    expect([formatEta(undefined), formatEta(42), formatEta(65), formatEta(3 * 3600 + 5 * 60)]).toEqual(['ETA -', 'ETA 42s', 'ETA 1m05s', 'ETA 3h05m']);
  });
});
