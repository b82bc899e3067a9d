// The daemon's git side: its own clone of the fleet repository, two revision
// checkouts (the last good one and a candidate), and the commit + push of
// generated/ with rebase-and-retry on a push race.
//
// Layout under the workdir:
//   repo/            the daemon's clone; its working tree is used only to commit generated/
//   slots/a, slots/b worktrees: one holds the last good revision, the other the candidate
//   last-good.json   which slot is good, and at which revision
//
// Everything goes through a GitContext passed in, never module state.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import writeFileAtomic from 'write-file-atomic';
import { FleetError } from '../errors.ts';
import type { ConnectionGuard } from '../net/guard.ts';

export const GENERATED_DIR = 'generated';

export interface GitContext {
  workdir: string;
  /** The daemon's clone. */
  dir: string;
  branch: string;
  remote: string;
  git: SimpleGit;
}

export interface GitAuthor {
  name: string;
  email: string;
}

export interface OpenOptions {
  /** Checks the host of a network URL (loopback-only in tests and demos). */
  guard?: ConnectionGuard;
  /** Kills a git command that prints nothing for this long (default 120 s). */
  blockTimeoutMs?: number;
  /** Aborts running git commands (daemon shutdown). */
  signal?: AbortSignal;
}

function makeGit(dir: string, options: OpenOptions): SimpleGit {
  return simpleGit({
    baseDir: dir,
    maxConcurrentProcesses: 1,
    timeout: { block: options.blockTimeoutMs ?? 120_000 },
    ...(options.signal ? { abort: options.signal } : {}),
  });
}

/** true for `https://…`, `ssh://…`, `git@host:path`; false for local paths and file:// URLs. */
export function isNetworkSource(source: string): boolean {
  if (/^file:\/\//i.test(source)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return true;
  // scp-like syntax: [user@]host:path, where host has no slash before the colon
  return /^[^/:\s]+:/.test(source) && !/^[a-z]:[\\/]/i.test(source);
}

function sourceHost(source: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(source) ? new URL(source).hostname : (source.split(':')[0] ?? '');
  return url.includes('@') ? url.slice(url.lastIndexOf('@') + 1) : url;
}

/**
 * Text with the credentials of any URL in it blanked: `https://user:token@host/x`
 * becomes `https://***@host/x`. For status, logs and error messages: git's own
 * errors repeat the URL they were given.
 */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]+@/gi, '$1***@');
}

/** The source as git should see it: local paths made absolute. */
export function normalizeSource(source: string): string {
  return isNetworkSource(source) || /^file:\/\//i.test(source) ? source : resolve(source);
}

/**
 * A local --repo the daemon could never push to: a repository with a working
 * tree that has `branch` checked out, where git refuses pushes to that branch
 * (receive.denyCurrentBranch, on by default). Found at start, with the fix,
 * not after the first reconcile's provisioning as raw git output. null: fine.
 */
export async function unpushableSource(source: string, branch: string): Promise<string | null> {
  if (isNetworkSource(source) || /^file:\/\//i.test(source)) return null;
  const dir = resolve(source);
  if (!existsSync(dir)) return null;
  const git = simpleGit({ baseDir: dir });
  try {
    if ((await git.raw(['rev-parse', '--is-bare-repository'])).trim() !== 'false') return null;
    const head = (await git.raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim();
    if (head !== branch) return null;
    const policy = (await git.raw(['config', '--get', 'receive.denyCurrentBranch']).catch(() => '')).trim();
    if (['ignore', 'warn', 'updateInstead', 'false'].includes(policy)) return null;
  } catch {
    // Not a repository at all: the clone says so.
    return null;
  }
  return `--repo ${dir} is a repository with a working tree that has ${branch} checked out, and git refuses pushes to a checked-out branch (receive.denyCurrentBranch): the daemon could never push generated/ there. Give it a bare repository: git clone --bare ${dir} ${dir}.git, then --repo ${dir}.git (and push your fleet changes to it); or follow another --branch.`;
}

/**
 * Opens the daemon's clone under `workdir`, cloning `source` first when there
 * is none. The clone appears atomically (cloned aside, then renamed), so an
 * interrupted clone is never mistaken for a good one.
 */
export async function ensureClone(source: string, workdir: string, branch: string, options: OpenOptions = {}): Promise<GitContext> {
  const url = normalizeSource(source);
  if (isNetworkSource(url) && options.guard) await options.guard.resolve(sourceHost(url));
  const root = resolve(workdir);
  const dir = join(root, 'repo');
  await mkdir(root, { recursive: true });
  if (!existsSync(join(dir, '.git'))) {
    const aside = join(root, `repo.cloning-${randomBytes(4).toString('hex')}`);
    try {
      await makeGit(root, options).clone(url, aside, ['--branch', branch, '--origin', 'origin']);
    } catch (err) {
      await rm(aside, { recursive: true, force: true });
      throw new FleetError('invalid-input', redactUrls(`could not clone ${url} (branch ${branch}): ${gitMessage(err)}. Check the --repo URL or path and that the branch exists.`), { cause: err });
    }
    await rename(aside, dir);
  }
  const git = makeGit(dir, options);
  const current = (await git.remote(['get-url', 'origin']))?.trim() ?? '';
  if (current !== url) {
    throw new FleetError('invalid-input', redactUrls(`${dir} is a clone of ${current}, not ${url}; pass another --workdir or remove ${dir}`));
  }
  return { workdir: root, dir, branch, remote: 'origin', git };
}

function remoteRef(ctx: GitContext): string {
  return `refs/remotes/${ctx.remote}/${ctx.branch}`;
}

async function revParse(git: SimpleGit, rev: string): Promise<string | null> {
  try {
    return (await git.raw(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
  } catch {
    return null;
  }
}

export interface FetchResult {
  /** The branch head on the remote after the fetch. */
  head: string;
  /** The remote-tracking head before it (null on a fresh clone without one). */
  previous: string | null;
  changed: boolean;
}

/** Fetches the tracked branch and reports the remote head. */
export async function fetchRemoteHead(ctx: GitContext): Promise<FetchResult> {
  const previous = await revParse(ctx.git, remoteRef(ctx));
  try {
    await ctx.git.raw(['fetch', '--prune', '--no-tags', ctx.remote, `+refs/heads/${ctx.branch}:${remoteRef(ctx)}`]);
  } catch (err) {
    throw new FleetError('unreachable', redactUrls(`git fetch of ${ctx.branch} from ${ctx.remote} failed: ${gitMessage(err)}`), { cause: err });
  }
  const head = await revParse(ctx.git, remoteRef(ctx));
  if (head === null) throw new FleetError('not-found', `branch ${ctx.branch} is missing on ${ctx.remote}`);
  return { head, previous, changed: head !== previous };
}

/** Paths that differ between two commits; every path of `to` when `from` is null or unknown here. */
export async function changedPaths(ctx: GitContext, from: string | null, to: string): Promise<string[]> {
  const target = await revParse(ctx.git, to);
  if (target === null) throw new FleetError('not-found', `revision ${to} is not in ${ctx.dir}; fetch first`);
  const base = from === null ? null : await revParse(ctx.git, from);
  const out = base === null
    ? await ctx.git.raw(['ls-tree', '-r', '-z', '--name-only', target])
    : await ctx.git.raw(['diff', '--name-only', '-z', '--no-renames', base, target]);
  return out.split('\0').filter((p) => p.length > 0).sort();
}

export function isGeneratedPath(path: string): boolean {
  return path === GENERATED_DIR || path.startsWith(`${GENERATED_DIR}/`);
}

/**
 * True when nothing outside generated/ changed between `from` and `to`
 * (also for an empty range): such a range needs no reconcile, which is what
 * keeps the daemon's own commits from triggering it again.
 */
export async function isGeneratedOnly(ctx: GitContext, from: string | null, to: string): Promise<boolean> {
  return (await changedPaths(ctx, from, to)).every(isGeneratedPath);
}

/** True when `ancestor` is `descendant` or one of its ancestors (false for a rewritten history). */
export async function isAncestor(ctx: GitContext, ancestor: string, descendant: string): Promise<boolean> {
  // Not `merge-base --is-ancestor`: it answers by exit status alone, and simple-git
  // resolves a non-zero exit that prints nothing. The merge base must be `ancestor` itself.
  const a = await revParse(ctx.git, ancestor);
  if (a === null || (await revParse(ctx.git, descendant)) === null) return false;
  try {
    return (await ctx.git.raw(['merge-base', a, descendant])).trim() === a;
  } catch {
    return false;
  }
}

/**
 * Entries of `revision` under `prefixes` that are not plain files or
 * directories: symbolic links (mode 120000) and submodules (160000). A
 * revision with any under fleet/ or generated/ is refused: a link there
 * would let the repository choose what Bob reads or where it writes.
 */
export async function linksInRevision(ctx: GitContext, revision: string, prefixes: readonly string[]): Promise<string[]> {
  const out = await ctx.git.raw(['ls-tree', '-r', '-z', '--full-tree', revision, '--', ...prefixes]);
  return out.split('\0').filter((e) => /^(120000|160000) /.test(e)).map((e) => e.slice(e.indexOf('\t') + 1)).sort();
}

/** The text of `path` at `revision`, or null when the file is not there. */
export async function readFileAtRevision(ctx: GitContext, revision: string, path: string): Promise<string | null> {
  try {
    return await ctx.git.show([`${revision}:${path}`]);
  } catch {
    return null;
  }
}

// ---- revision slots -------------------------------------------------------

export interface RevisionCheckout {
  /** A directory holding the whole tree of `revision` (read fleet/ from here). */
  dir: string;
  revision: string;
}

type Slot = 'a' | 'b';
interface LastGoodState { slot: Slot; revision: string }

function slotDir(ctx: GitContext, slot: Slot): string {
  return join(ctx.workdir, 'slots', slot);
}

function lastGoodFile(ctx: GitContext): string {
  return join(ctx.workdir, 'last-good.json');
}

async function readLastGoodState(ctx: GitContext): Promise<LastGoodState | null> {
  try {
    const v = JSON.parse(await readFile(lastGoodFile(ctx), 'utf8')) as Partial<LastGoodState>;
    if ((v.slot === 'a' || v.slot === 'b') && typeof v.revision === 'string' && /^[0-9a-f]{40,64}$/.test(v.revision)) return { slot: v.slot, revision: v.revision };
  } catch {
    // missing or damaged: there is no last good revision yet
  }
  return null;
}

/** The last revision that passed validation, checked out, or null before the first one. */
export async function readLastGood(ctx: GitContext): Promise<RevisionCheckout | null> {
  const state = await readLastGoodState(ctx);
  if (state === null) return null;
  const dir = slotDir(ctx, state.slot);
  const head = existsSync(join(dir, '.git')) ? await revParse(makeGit(dir, {}), 'HEAD') : null;
  // A slot someone tampered with is not trusted: the caller starts over.
  return head === state.revision ? { dir, revision: state.revision } : null;
}

/**
 * Checks `revision` out into the slot that is not the last good one. The last
 * good checkout is never touched, so an invalid revision cannot replace it.
 */
export async function checkoutCandidate(ctx: GitContext, revision: string): Promise<RevisionCheckout> {
  const sha = await revParse(ctx.git, revision);
  if (sha === null) throw new FleetError('not-found', `revision ${revision} is not in ${ctx.dir}; fetch first`);
  const good = await readLastGoodState(ctx);
  const slot: Slot = good?.slot === 'a' ? 'b' : 'a';
  const dir = slotDir(ctx, slot);
  if (existsSync(join(dir, '.git'))) {
    try {
      const wt = makeGit(dir, {});
      await wt.raw(['checkout', '--detach', '--force', sha]);
      await wt.raw(['clean', '-ffdx']);
      return { dir, revision: sha };
    } catch {
      // a damaged worktree: recreate it below
    }
  }
  await rm(dir, { recursive: true, force: true });
  await ctx.git.raw(['worktree', 'prune']);
  await mkdir(join(ctx.workdir, 'slots'), { recursive: true });
  await ctx.git.raw(['worktree', 'add', '--detach', '--force', dir, sha]);
  return { dir, revision: sha };
}

/** Makes a validated candidate the last good revision (one atomic file write). */
export async function promoteCandidate(ctx: GitContext, candidate: RevisionCheckout): Promise<RevisionCheckout> {
  const slot: Slot | null = candidate.dir === slotDir(ctx, 'a') ? 'a' : candidate.dir === slotDir(ctx, 'b') ? 'b' : null;
  if (slot === null) throw new FleetError('internal', `${candidate.dir} is not a revision slot of ${ctx.workdir}`);
  await writeFileAtomic(lastGoodFile(ctx), `${JSON.stringify({ slot, revision: candidate.revision })}\n`);
  return candidate;
}

// ---- commit and push of generated/ -----------------------------------------

export interface CommitOptions {
  /** Push attempts in all, counting the first (default 5). */
  maxAttempts?: number;
  /** Also delete files under generated/ that are not in `files`. */
  removeOthers?: boolean;
  /** Called before each retry, for a log line. */
  onRetry?: (info: { attempt: number; reason: string }) => void;
}

export interface CommitResult {
  committed: boolean;
  pushed: boolean;
  /** The commit pushed, or the remote head when there was nothing to commit. */
  revision: string;
  attempts: number;
  /** Paths (from the repo root) the commit changed. */
  changed: string[];
}

function generatedPath(ctx: GitContext, name: string): string {
  const rel = normalize(name);
  if (name.length === 0 || isAbsolute(name) || rel.startsWith('..') || rel.split(sep).includes('..') || rel.startsWith(`${GENERATED_DIR}${sep}`)) {
    throw new FleetError('internal', `generated file name ${JSON.stringify(name)} must be a plain path inside ${GENERATED_DIR}/ (given relative to it)`);
  }
  return join(ctx.dir, GENERATED_DIR, rel);
}

async function listGenerated(ctx: GitContext): Promise<string[]> {
  const out = await ctx.git.raw(['ls-files', '-z', '--', GENERATED_DIR]);
  return out.split('\0').filter((p) => p.length > 0);
}

// Puts the working tree at the remote head with `files` written into generated/; stages them.
async function stageOnRemoteHead(ctx: GitContext, files: Readonly<Record<string, string>>, removeOthers: boolean): Promise<string[]> {
  await ctx.git.raw(['checkout', '--force', '-B', ctx.branch, remoteRef(ctx)]);
  await ctx.git.raw(['clean', '-ffdx', '--', GENERATED_DIR]);
  // Never write through a link the repository put there.
  for (const path of [join(ctx.dir, GENERATED_DIR), ...Object.keys(files).map((name) => generatedPath(ctx, name))]) {
    const info = await lstat(path).catch(() => null);
    if (info?.isSymbolicLink()) throw new FleetError('invalid-input', `${path} is a symbolic link in the repository: refusing to write generated files through it`);
  }
  const wanted = new Set<string>();
  for (const [name, content] of Object.entries(files)) {
    const path = generatedPath(ctx, name);
    wanted.add(path);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  }
  if (removeOthers) {
    for (const tracked of await listGenerated(ctx)) {
      if (!wanted.has(join(ctx.dir, tracked))) await rm(join(ctx.dir, tracked), { force: true });
    }
  }
  await ctx.git.raw(['add', '--all', '--', GENERATED_DIR]);
  const staged = await ctx.git.raw(['diff', '--cached', '--name-only', '-z', '--no-renames', '--', GENERATED_DIR]);
  return staged.split('\0').filter((p) => p.length > 0).sort();
}

async function commitStaged(ctx: GitContext, message: string, author: GitAuthor): Promise<string> {
  const identity = `${author.name} <${author.email}>`;
  await ctx.git.raw([
    ...identityConfig(author),
    'commit', '--no-verify', '--quiet', '--author', identity, '-m', message, '--', GENERATED_DIR,
  ]);
  return (await revParse(ctx.git, 'HEAD')) ?? '';
}

function identityConfig(author: GitAuthor): string[] {
  return ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, '-c', 'commit.gpgsign=false'];
}

export function isPushRace(err: unknown): boolean {
  return /non-fast-forward|fetch first|\[rejected\]|\[remote rejected\].*(lock|stale)|cannot lock ref|stale info/i.test(gitMessage(err));
}

/**
 * Commits `files` (names relative to generated/) on top of the remote head
 * and pushes. Commits nothing when generated/ already matches. On a push
 * race it fetches, rebases onto the new head and retries, up to maxAttempts;
 * when the rebase conflicts it recreates the commit on the new head instead.
 */
export async function commitGenerated(
  ctx: GitContext,
  files: Readonly<Record<string, string>>,
  message: string,
  author: GitAuthor,
  options: CommitOptions = {},
): Promise<CommitResult> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const removeOthers = options.removeOthers ?? false;
  if ((await revParse(ctx.git, remoteRef(ctx))) === null) await fetchRemoteHead(ctx);
  let changed = await stageOnRemoteHead(ctx, files, removeOthers);
  if (changed.length === 0) {
    return { committed: false, pushed: false, revision: (await revParse(ctx.git, remoteRef(ctx))) ?? '', attempts: 0, changed };
  }
  let revision = await commitStaged(ctx, message, author);
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.git.raw(['push', '--quiet', ctx.remote, `HEAD:refs/heads/${ctx.branch}`]);
      // Keep the remote-tracking ref in step, so the next fetch sees our commit as known.
      await ctx.git.raw(['update-ref', remoteRef(ctx), revision]);
      return { committed: true, pushed: true, revision, attempts: attempt, changed };
    } catch (err) {
      if (!isPushRace(err)) throw new FleetError('unreachable', redactUrls(`git push to ${ctx.remote} ${ctx.branch} failed: ${gitMessage(err)}`), { cause: err });
      if (attempt >= maxAttempts) {
        throw new FleetError('unreachable', `git push to ${ctx.remote} ${ctx.branch} lost the race ${attempt} times (others keep pushing); the next reconcile retries`, { cause: err });
      }
      options.onRetry?.({ attempt, reason: firstLine(gitMessage(err)) });
    }
    await fetchRemoteHead(ctx);
    try {
      // The rebased commit keeps its author; the committer comes from the same settings.
      await ctx.git.raw([...identityConfig(author), 'rebase', '--quiet', remoteRef(ctx)]);
      revision = (await revParse(ctx.git, 'HEAD')) ?? '';
      changed = (await changedPaths(ctx, remoteRef(ctx), revision));
      if (changed.length === 0) {
        return { committed: false, pushed: false, revision: (await revParse(ctx.git, remoteRef(ctx))) ?? '', attempts: attempt, changed };
      }
    } catch {
      await ctx.git.raw(['rebase', '--abort']).catch(() => undefined);
      changed = await stageOnRemoteHead(ctx, files, removeOthers);
      if (changed.length === 0) {
        return { committed: false, pushed: false, revision: (await revParse(ctx.git, remoteRef(ctx))) ?? '', attempts: attempt, changed };
      }
      revision = await commitStaged(ctx, message, author);
    }
  }
}

function gitMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim();
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => /rejected|error|fatal/i.test(l))?.trim() ?? text.split('\n')[0] ?? '';
}
