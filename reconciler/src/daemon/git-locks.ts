// A git killed mid-command leaves `.git/index.lock` behind, and every later
// git command in that clone fails ("index.lock: File exists"), across restarts.
// Before its git work the daemon removes such a lock, but only when no git
// process is working in its workdir: a person's `git status` there owns it.
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Log } from '../ports.ts';

/** Pids of git processes whose working directory is `dir` or under it; null when that cannot be told. */
export type FindGitProcesses = (dir: string) => Promise<number[] | null>;

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}${sep}`);

async function fromProc(dir: string): Promise<number[] | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return null;
  }
  const found: number[] = [];
  for (const pid of pids) {
    try {
      const comm = (await readFile(join('/proc', pid, 'comm'), 'utf8')).trim();
      if (comm !== 'git' && !comm.startsWith('git-')) continue;
      if (inside(await readlink(join('/proc', pid, 'cwd')), dir)) found.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** macOS has no /proc: lsof lists the working directory of every process whose name starts with git. */
function fromLsof(dir: string): Promise<number[] | null> {
  return new Promise((done) => {
    execFile('lsof', ['-a', '-c', 'git', '-d', 'cwd', '-Fpn'], { timeout: 5000 }, (err, stdout) => {
      // lsof exits 1 when nothing matches.
      if (err && (err as { code?: unknown }).code !== 1) return done(null);
      const found: number[] = [];
      let pid = 0;
      for (const line of stdout.split('\n')) {
        if (line.startsWith('p')) pid = Number(line.slice(1));
        else if (line.startsWith('n') && inside(line.slice(1), dir) && pid > 0) found.push(pid);
      }
      done(found);
    });
  });
}

export const findGitProcesses: FindGitProcesses = async (dir) => (await fromProc(dir)) ?? fromLsof(dir);

/** index.lock of the clone and of each of its worktrees. */
async function indexLocks(repoDir: string): Promise<string[]> {
  const gitDir = join(repoDir, '.git');
  const candidates = [join(gitDir, 'index.lock')];
  try {
    for (const wt of await readdir(join(gitDir, 'worktrees'))) candidates.push(join(gitDir, 'worktrees', wt, 'index.lock'));
  } catch {
    // no worktrees yet
  }
  const present: string[] = [];
  for (const c of candidates) {
    if (await stat(c).then(() => true, () => false)) present.push(c);
  }
  return present;
}

export interface StaleLocksResult {
  removed: string[];
  /** Locks left in place: a git process works in the workdir (or that could not be told). */
  kept: string[];
}

/** Removes stale index locks under the daemon's clone; `workdir` bounds where a live git counts as their owner. */
export async function clearStaleIndexLocks(repoDir: string, workdir: string, options: { find?: FindGitProcesses; log?: Pick<Log, 'warn'> } = {}): Promise<StaleLocksResult> {
  const locks = await indexLocks(repoDir);
  if (locks.length === 0) return { removed: [], kept: [] };
  const owners = await (options.find ?? findGitProcesses)(resolve(workdir));
  if (owners === null || owners.length > 0) {
    options.log?.warn({ locks, git_pids: owners }, 'git index lock kept: a git process may still own it');
    return { removed: [], kept: locks };
  }
  for (const lock of locks) await rm(lock, { force: true });
  options.log?.warn({ locks }, 'stale git index lock removed (no git process owns it; a killed git left it)');
  return { removed: locks, kept: [] };
}
