// What a person sees: plain lines every 10% or 5 s when piped, bars redrawn in
// place on a TTY, one line per finished step either way.
import { describe, expect, it } from 'vitest';
import { createProgress, formatStepLine, renderBar, createRateMeter, formatTransferLine } from '../../reconciler/src/apply/progress.ts';
import type { Step } from '../../reconciler/src/model/steps.ts';

const pull: Step = { kind: 'pull-model', id: 'v/pull-model/llama3.1:8b', node: 'v', why: '', after: [], model: 'llama3.1:8b', bytes: 1000 };

function recorder(): { out: string[]; write: (t: string) => void } {
  const out: string[] = [];
  return { out, write: (t) => void out.push(t) };
}

describe('plain output (not a TTY)', () => {
  it('prints a pull line at each 10% step and at least every 5 s, never per event', () => {
    const r = recorder();
    let now = 0;
    const p = createProgress({ write: r.write, tty: false, now: () => now });
    p.stepStarted(pull);
    for (let done = 0; done <= 1000; done += 20) {
      now += 10;
      p.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 'pulling abc', completed: done, total: 1000 });
    }
    const lines = r.out.join('').split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe('pulling v llama3.1:8b (1 kB)');
    expect(lines.slice(1).map((l) => /: (\d+)%/.exec(l)?.[1])).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);

    const slow = recorder();
    now = 0;
    const q = createProgress({ write: slow.write, tty: false, now: () => now });
    q.stepStarted(pull);
    for (let i = 0; i < 12; i++) {
      now += 1000;
      q.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 'pulling abc', completed: 10 + i, total: 1000 });
    }
    expect(slow.out.filter((l) => l.includes('%')).length).toBe(2);
  });

  it('has no escape sequences', () => {
    const r = recorder();
    const p = createProgress({ write: r.write, tty: false });
    p.stepStarted(pull);
    p.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 's', completed: 500, total: 1000 });
    p.stepFinished(pull, { status: 'ok', changed: true, id: pull.id, node: 'v', kind: 'pull-model', attempts: 1, durationMs: 5 });
    p.close();
    expect(r.out.join('')).not.toContain('\x1b');
  });
});

describe('TTY output', () => {
  it('draws one bar per node and model and redraws them in place under the step lines', () => {
    const r = recorder();
    let now = 0;
    const p = createProgress({ write: r.write, tty: true, now: () => now, redrawMs: 0, columns: 80 });
    const other: Step = { ...pull, id: 'w/pull', node: 'w' };
    p.stepStarted(pull);
    p.stepStarted(other);
    now += 1;
    p.pullProgress({ node: 'v', model: 'llama3.1:8b', status: 's', completed: 500, total: 1000 });
    const text = r.out.join('');
    expect(text).toContain('\x1b[2F\x1b[0J');
    expect(text).toContain('v llama3.1:8b [');
    expect(text).toContain('w llama3.1:8b [');
    p.stepFinished(pull, { status: 'ok', changed: true, id: pull.id, node: 'v', kind: 'pull-model', attempts: 1, durationMs: 5 });
    const tail = r.out.slice(-3).join('');
    expect(tail).toContain('ok      v  v/pull-model/llama3.1:8b');
    expect(tail).toContain('w llama3.1:8b [');
    expect(tail).not.toContain('v llama3.1:8b [');
  });

  it('renders a bar', () => {
    expect(renderBar({ node: 'v', model: 'm', status: 's', completed: 250, total: 1000 }, 60)).toMatch(/^v m \[#+-+\] {2}25% 250 B\/1 kB$/);
  });
});

it('formats step lines for each outcome', () => {
  const base = { id: pull.id, node: 'v', kind: 'pull-model' as const, attempts: 1, durationMs: 1 };
  expect(formatStepLine(pull, { ...base, status: 'failed', message: 'boom' })).toBe('FAILED  v  v/pull-model/llama3.1:8b  boom');
  expect(formatStepLine(pull, { ...base, status: 'manual', reason: 'disk-space', instructions: ['free 5 GB'], blocksDependents: true })).toContain('MANUAL  v');
  expect(formatStepLine(pull, { ...base, status: 'ok', changed: false })).toContain('(already done)');
});

describe('pull and copy progress: source, bytes, rate, ETA', () => {
  it('a rate over the recent window and the time left at it', () => {
    let t = 0;
    const meter = createRateMeter(() => t);
    expect(meter.sample(0, 100e6)).toEqual({});
    t = 1000;
    expect(meter.sample(10e6, 100e6)).toEqual({ bytesPerSecond: 10e6, etaSeconds: 9 });
    t = 7000;
    // The window forgets the first point: the rate is the recent one.
    expect(meter.sample(40e6, 100e6)).toEqual({ bytesPerSecond: 5e6, etaSeconds: 12 });
  });

  it('the CLI bar, its plain line and the daemon status line show the same fields', () => {
    const p = { node: 'virtuoso', model: 'llama3.1:8b', status: 'copying 667b0c1932bc', completed: 2.6e9, total: 4.9e9, source: 'lan:harmony', bytesPerSecond: 118e6, etaSeconds: 19 };
    expect(renderBar(p, 140)).toMatch(/^virtuoso llama3\.1:8b \(LAN from harmony\) \[#+-+\] {2}53% 2\.6 GB\/4\.9 GB 118 MB\/s, 19s left$/);
    expect(formatTransferLine(p)).toBe('virtuoso llama3.1:8b (LAN from harmony): 53% 2.6 GB/4.9 GB 118 MB/s, 19s left');
    const lines: string[] = [];
    const r = createProgress({ write: (x) => void lines.push(x), tty: false, now: () => 0 });
    r.pullProgress({ ...p, source: 'internet', etaSeconds: 125 });
    expect(lines.join('')).toContain('pulling virtuoso llama3.1:8b (internet): 53% (2.6 GB of 4.9 GB) 118 MB/s, 2m05s left');
  });
});
