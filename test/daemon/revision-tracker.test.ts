// The daemon's revision state machine, without git: the questions it asks
// about a head, and the states it moves through (last good, invalid,
// rewritten, generated-only), as Flux reports them.
import { describe, expect, it } from 'vitest';
import { headNeedsReconcile, initialRevisionState, judgeHead, type HeadFacts, type Judgement, type Question, type RevisionState } from '../../reconciler/src/daemon/revision-tracker.ts';
import type { Problem } from '../../reconciler/src/model/problem.ts';

const NOW = new Date('2026-12-06T00:00:00Z');
const problem: Problem = { file: 'fleet/nodes/x.yaml', line: 3, col: 7, severity: 'error', rule: 'unknown-role', message: 'no such role' };

/** Answers every question from `answers`, and records which were asked. */
function judge(state: RevisionState, head: string, answers: Required<HeadFacts>, allowForcePush = false): { judged: Exclude<Judgement, { ask: Question }>; asked: Question[] } {
  const facts: HeadFacts = {};
  const asked: Question[] = [];
  for (;;) {
    const j = judgeHead(state, head, facts, { allowForcePush, now: NOW });
    if (!('ask' in j)) return { judged: j, asked };
    asked.push(j.ask);
    if (j.ask === 'descends') facts.descends = answers.descends;
    if (j.ask === 'generatedLinks') facts.generatedLinks = answers.generatedLinks;
    if (j.ask === 'generatedOnly') facts.generatedOnly = answers.generatedOnly;
    if (j.ask === 'validation') facts.validation = answers.validation;
  }
}

const valid: Required<HeadFacts> = { descends: true, generatedLinks: [], generatedOnly: false, validation: { valid: true } };

describe('the revision tracker', () => {
  it('promotes the first valid head, asking only what it needs (nothing to descend from yet)', () => {
    const { judged, asked } = judge(initialRevisionState(null), 'a1', valid);
    expect(asked).toEqual(['generatedLinks', 'validation']);
    expect(judged.outcome).toBe('promoted');
    expect(judged.state).toMatchObject({ seen: 'a1', lastGood: 'a1', revision: 'a1', invalid: null });
  });

  it('keeps the last good revision when a head is invalid, and clears the error when a valid one follows', () => {
    const bad = judge(initialRevisionState('a1'), 'b2', { ...valid, validation: { valid: false, problems: [problem] } });
    expect(bad.judged.outcome).toBe('invalid');
    expect(bad.judged.state).toMatchObject({ lastGood: 'a1', revision: 'a1', seen: 'b2', invalid: { revision: 'b2', problems: [problem] } });
    const fixed = judge(bad.judged.state, 'c3', valid);
    expect(fixed.judged.outcome).toBe('promoted');
    expect(fixed.judged.state).toMatchObject({ lastGood: 'c3', revision: 'c3', invalid: null });
  });

  it('reports a head whose only change is generated/ without validating it again', () => {
    const { judged, asked } = judge(initialRevisionState('a1'), 'g2', { ...valid, generatedOnly: true });
    expect(asked).toEqual(['descends', 'generatedLinks', 'generatedOnly']);
    expect(judged.outcome).toBe('generated-only');
    expect(judged.state).toMatchObject({ lastGood: 'a1', revision: 'g2', invalid: null });
  });

  it('refuses a link in generated/, even in a generated-only change', () => {
    const { judged } = judge(initialRevisionState('a1'), 'l2', { ...valid, generatedLinks: ['generated/nodes_registry.json'], generatedOnly: true });
    expect(judged.outcome).toBe('invalid');
    expect(judged.state.invalid?.problems[0]).toMatchObject({ file: 'generated/nodes_registry.json', rule: 'symlink' });
    expect(judged.state.lastGood).toBe('a1');
  });

  it('refuses a rewritten history (reported once), and accepts it with --allow-force-push', () => {
    const first = judge(initialRevisionState('a1'), 'r2', { ...valid, descends: false });
    expect(first.judged.outcome).toBe('rewrite-refused');
    expect(first.judged.notes).toEqual([expect.stringMatching(/^BRANCH HISTORY REWRITTEN \(force-push\): refused/)]);
    expect(first.judged.state).toMatchObject({ lastGood: 'a1', seen: null, rewritten: { from: 'a1', to: 'r2', accepted: false } });
    const again = judge(first.judged.state, 'r2', { ...valid, descends: false });
    expect(again.judged).toMatchObject({ outcome: 'rewrite-refused', notes: [] });
    expect(headNeedsReconcile(first.judged.state, 'r2', false)).toBe(false);

    const accepted = judge(initialRevisionState('a1'), 'r2', { ...valid, descends: false }, true);
    expect(accepted.judged.outcome).toBe('promoted');
    expect(accepted.judged.state).toMatchObject({ lastGood: 'r2', rewritten: { accepted: true } });
  });

  it('forgets a refused rewrite once the history is restored', () => {
    const refused = judge(initialRevisionState('a1'), 'r2', { ...valid, descends: false }).judged.state;
    const restored = judge(refused, 'a2', valid);
    expect(restored.judged.notes).toEqual(['branch history consistent again']);
    expect(restored.judged.state).toMatchObject({ rewritten: null, lastGood: 'a2' });
  });

  it('judges each head once, and the current one is no news', () => {
    const s = judge(initialRevisionState(null), 'a1', valid).judged.state;
    expect(judgeHead(s, 'a1', {}, { allowForcePush: false, now: NOW })).toMatchObject({ outcome: 'seen' });
    expect(judge({ ...initialRevisionState('a1') }, 'a1', valid).judged.outcome).toBe('current');
  });

  it('wants a reconcile for a new head, never for its own generated commit, always while invalid', () => {
    const good = initialRevisionState('a1');
    expect(headNeedsReconcile(good, 'b2', false)).toBe(true);
    expect(headNeedsReconcile(good, 'g2', true)).toBe(false);
    expect(headNeedsReconcile({ ...good, invalid: { revision: 'x', problems: [problem] } }, 'g2', true)).toBe(true);
    expect(headNeedsReconcile({ ...good, seen: 'b2' }, 'b2', false)).toBe(false);
  });
});
