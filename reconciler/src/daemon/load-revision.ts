// What the daemon may run at a revision: the fleet loaded and validated with
// the CI rules, its drift schedule accepted by the scheduler, and no symbolic
// link or submodule under fleet/ or generated/. Answers the revision
// tracker's "validation" question.
import { join, relative, resolve } from 'node:path';
import { loadFleet } from '../load/load-fleet.ts';
import type { Desired } from '../model/desired.ts';
import type { Problem } from '../model/problem.ts';
import { linksInRevision, type GitContext, type RevisionCheckout } from './git.ts';
import { validateCron } from './triggers.ts';

/**
 * The fleet at a revision, or why the daemon cannot run it: validation
 * (cron included), and no symbolic link or submodule in fleet/ or generated/.
 * Never throws for anything the revision contains.
 */
export async function loadRevisionAt(git: GitContext, checkout: RevisionCheckout, today: string): Promise<{ desired: Desired | null; problems: Problem[] }> {
  const refuse = (file: string, rule: string, message: string): { desired: null; problems: Problem[] } => ({ desired: null, problems: [{ file, line: 1, col: 1, severity: 'error', rule, message }] });
  const links = await linksInRevision(git, checkout.revision, ['fleet', 'generated']);
  if (links.length > 0) {
    return { desired: null, problems: links.map((l) => ({ file: l, line: 1, col: 1, severity: 'error' as const, rule: 'symlink', message: 'A symbolic link (or submodule) in fleet/ or generated/ is refused: it would let the repository choose what Bob reads or writes. Commit the file itself.' })) };
  }
  let result;
  try {
    result = await loadFleet(join(checkout.dir, 'fleet'), { today });
  } catch (err) {
    return refuse('fleet', 'unreadable', err instanceof Error ? err.message : String(err));
  }
  // Paths relative to the repository, as a pull request shows them.
  const errors = result.problems
    .filter((p) => p.severity === 'error')
    .map((p) => ({ ...p, file: relative(checkout.dir, resolve(checkout.dir, p.file)) }));
  if (errors.length === 0 && result.desired) {
    // Belt and braces: a revision whose schedule the scheduler would refuse is never promoted.
    try {
      validateCron(result.desired.settings.reconcile.drift_cron);
    } catch (err) {
      return refuse('fleet/fleet.yaml', 'drift-cron', (err as Error).message);
    }
  }
  return { desired: errors.length === 0 ? result.desired : null, problems: errors };
}

