// Which revision of the fleet repository the daemon reconciles, as a small
// state machine (Flux's "last attempted / last applied / last good"): pure,
// no git. The daemon asks judgeHead what it needs to know about a fetched
// head (does it descend from the last good revision? does it link anything in
// generated/? is only generated/ different? is its fleet/ valid?), answers
// with git and the validator, and gets back the new state and what happened.
import type { Problem } from '../model/problem.ts';

export interface RevisionState {
  /** The last head judged (each head is judged once). */
  seen: string | null;
  /** The last revision whose fleet/ passed validation: reconciled until a newer one does. */
  lastGood: string | null;
  /** The revision the status reports: the last good one, or a newer head whose fleet/ is the same. */
  revision: string | null;
  /** A head whose fleet/ (or generated/) is refused, and why; the last good revision goes on. */
  invalid: { revision: string; problems: Problem[] } | null;
  /** A head that does not descend from the last good revision (a force-push). */
  rewritten: { from: string; to: string; at: string; accepted: boolean } | null;
}

export function initialRevisionState(lastGood: string | null): RevisionState {
  return { seen: null, lastGood, revision: lastGood, invalid: null, rewritten: null };
}

/** What the daemon finds out about a head, as it is asked. */
export interface HeadFacts {
  /** The head descends from the last good revision. */
  descends?: boolean;
  /** Links or submodules committed in generated/ at the head. */
  generatedLinks?: string[];
  /** Nothing but generated/ differs from the last good revision. */
  generatedOnly?: boolean;
  /** fleet/ at the head: valid, or its problems. */
  validation?: { valid: true } | { valid: false; problems: Problem[] };
}

export type Question = 'descends' | 'generatedLinks' | 'generatedOnly' | 'validation';

export type Outcome =
  /** Judged before; nothing to do. */
  | 'seen'
  /** The history was rewritten and that is refused (reported once per head). */
  | 'rewrite-refused'
  /** The head is the last good revision already. */
  | 'current'
  /** Only generated/ changed (the daemon's own commits): the head is reported, the last good fleet/ stays. */
  | 'generated-only'
  /** The head is refused: see state.invalid. */
  | 'invalid'
  /** The head passed validation: it is the new last good revision. */
  | 'promoted';

export type Judgement = { ask: Question } | { state: RevisionState; outcome: Outcome; notes: string[] };

const GENERATED_LINK_MESSAGE = 'A symbolic link (or submodule) in generated/ is refused: Bob would write through it. Commit plain files (or nothing) there.';

/**
 * The next question about `head`, or, once every needed answer is in
 * `facts`, the new state and the outcome. `notes` are what a person should
 * read in the log (a rewrite refused or accepted, the head valid again).
 */
export function judgeHead(state: RevisionState, head: string, facts: HeadFacts, options: { allowForcePush: boolean; now: Date }): Judgement {
  const notes: string[] = [];
  if (head === state.seen) return { state, outcome: 'seen', notes };
  let next: RevisionState = state;
  if (state.lastGood !== null) {
    if (facts.descends === undefined) return { ask: 'descends' };
    if (!facts.descends) {
      const accepted = options.allowForcePush;
      // Reported once per head.
      if (state.rewritten?.to !== head) {
        next = { ...next, rewritten: { from: state.lastGood, to: head, at: options.now.toISOString(), accepted } };
        notes.push(accepted
          ? 'BRANCH HISTORY REWRITTEN (force-push): accepted because --allow-force-push is set'
          : 'BRANCH HISTORY REWRITTEN (force-push): refused; the last good revision is kept. Restore the history, or restart the daemon with --allow-force-push');
      }
      if (!accepted) return { state: next, outcome: 'rewrite-refused', notes };
    } else if (state.rewritten !== null && !state.rewritten.accepted) {
      next = { ...next, rewritten: null };
      notes.push('branch history consistent again');
    }
  }
  next = { ...next, seen: head };
  if (head === next.lastGood) return { state: next, outcome: 'current', notes };
  if (facts.generatedLinks === undefined) return { ask: 'generatedLinks' };
  if (facts.generatedLinks.length > 0) {
    const problems: Problem[] = facts.generatedLinks.map((file) => ({ file, line: 1, col: 1, severity: 'error', rule: 'symlink', message: GENERATED_LINK_MESSAGE }));
    return { state: { ...next, invalid: { revision: head, problems } }, outcome: 'invalid', notes };
  }
  if (next.lastGood !== null) {
    if (facts.generatedOnly === undefined) return { ask: 'generatedOnly' };
    if (facts.generatedOnly) {
      if (next.invalid !== null) notes.push('branch head valid again');
      return { state: { ...next, revision: head, invalid: null }, outcome: 'generated-only', notes };
    }
  }
  if (facts.validation === undefined) return { ask: 'validation' };
  if (!facts.validation.valid) return { state: { ...next, invalid: { revision: head, problems: facts.validation.problems } }, outcome: 'invalid', notes };
  return { state: { ...next, lastGood: head, revision: head, invalid: null }, outcome: 'promoted', notes };
}

/** Whether a fetched head is worth a reconcile (the poll's question), without judging it yet. */
export function headNeedsReconcile(state: RevisionState, head: string, ownGeneratedCommit: boolean): boolean {
  if (head === state.seen) return false;
  // A refused rewrite stays refused until the history is restored (reported once, when judged).
  if (state.rewritten !== null && !state.rewritten.accepted && state.rewritten.to === head) return false;
  // While the head is invalid every new commit is judged (a revert must clear the error).
  if (state.invalid !== null) return true;
  // The daemon's own commits (generated/ only) never trigger a reconcile.
  return !ownGeneratedCommit;
}
