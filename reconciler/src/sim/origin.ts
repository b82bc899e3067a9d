// A local bare git repository as the fleet's `origin`, and a person's clone
// that commits and pushes the way merging a pull request does: the demo's
// set-up, and the daemon's benches' and tests'.
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { isPushRace } from '../daemon/git.ts';

/** Whoever commits to fleet/ in the simulation. */
const ALICE = ['-c', 'user.name=Alice', '-c', 'user.email=alice@symphony.local'];

export interface Origin {
  /** The bare repository (what the daemon's --repo points at). */
  origin: string;
  /** The person's clone of it. */
  person: string;
}

/** `root/origin.git` holding `fleetDir` as fleet/ in one commit, and the person's clone in `root/alice`. */
export async function createOrigin(root: string, fleetDir: string, message = "fleet: today's network"): Promise<Origin> {
  const origin = join(root, 'origin.git');
  const seed = join(root, 'seed');
  const person = join(root, 'alice');
  await simpleGit().raw(['init', '-q', '--bare', '--initial-branch=main', origin]);
  await mkdir(seed, { recursive: true });
  await cp(fleetDir, join(seed, 'fleet'), { recursive: true });
  const git = simpleGit(seed);
  await git.raw(['init', '-q', '--initial-branch=main']);
  await git.add('.');
  await git.raw([...ALICE, 'commit', '-q', '-m', message]);
  await git.raw(['push', '-q', origin, 'main']);
  await simpleGit().clone(origin, person);
  return { origin, person };
}

export interface PushedCommit {
  head: string;
  /** When the push that landed began (ms since the epoch). */
  pushStartedAt: number;
  pushMs: number;
}

/**
 * In the person's clone: rebase on origin, edit, commit and push. The daemon
 * pushes generated/ on its own; when it got there first, rebase onto its
 * commit and push again, at most `maxAttempts` pushes in all.
 */
export async function pushCommit(person: string, message: string, edit: () => void | Promise<void>, maxAttempts = 5): Promise<PushedCommit> {
  const git = simpleGit(person);
  const rebase = (): Promise<string> => git.raw([...ALICE, 'pull', '-q', '--rebase', 'origin', 'main']);
  await rebase();
  await edit();
  await git.add('.');
  await git.raw([...ALICE, 'commit', '-q', '-m', message]);
  for (let attempt = 1; ; attempt++) {
    const pushStartedAt = Date.now();
    try {
      await git.raw(['push', '-q', 'origin', 'main']);
      return { head: (await git.revparse(['HEAD'])).trim(), pushStartedAt, pushMs: Date.now() - pushStartedAt };
    } catch (err) {
      if (attempt >= maxAttempts || !isPushRace(err)) throw err;
      await rebase();
    }
  }
}
