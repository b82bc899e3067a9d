// The daemon's git adapter against real repositories: a bare `origin` in a
// temp dir, a person's clone pushing commits, and the daemon's clone.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  changedPaths, checkoutCandidate, commitGenerated, ensureClone, fetchRemoteHead, isGeneratedOnly, isNetworkSource,
  promoteCandidate, readFileAtRevision, readLastGood,
} from '../../reconciler/src/daemon/git.ts';
import type { GitContext } from '../../reconciler/src/daemon/git.ts';
import { FleetError } from '../../reconciler/src/errors.ts';
import { createGuard } from '../../reconciler/src/net/guard.ts';

const AUTHOR = { name: 'Symphony Fleet', email: 'fleet@symphony.local' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Person', '-c', 'user.email=person@example.test', '-c', 'commit.gpgsign=false', ...args], {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A person's clone: write files, commit, push; returns the new head. */
async function personCommit(clone: string, files: Record<string, string>, message: string): Promise<string> {
  await writeFiles(clone, files);
  git(clone, 'add', '--all');
  git(clone, 'commit', '-q', '-m', message);
  git(clone, 'push', '-q', 'origin', 'HEAD:main');
  return git(clone, 'rev-parse', 'HEAD');
}

let tmp: string;
let origin: string;
let person: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-git-'));
  origin = join(tmp, 'origin.git');
  person = join(tmp, 'person');
  git(tmp, 'init', '-q', '--bare', '--initial-branch=main', origin);
  git(tmp, 'clone', '-q', origin, person);
  git(person, 'checkout', '-q', '-b', 'main');
  await personCommit(person, { 'fleet/fleet.yaml': 'network: {}\n', 'fleet/nodes/maestro.yaml': 'name: maestro\n', 'generated/nodes_registry.json': '{}\n' }, 'initial fleet');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function daemonClone(): Promise<GitContext> {
  return ensureClone(origin, join(tmp, 'work'), 'main');
}

describe('ensureClone', () => {
  it('clones once, then reopens the same clone', async () => {
    const ctx = await daemonClone();
    expect(existsSync(join(ctx.dir, 'fleet/nodes/maestro.yaml'))).toBe(true);
    const again = await daemonClone();
    expect(again.dir).toBe(ctx.dir);
  });

  it('refuses a workdir that holds a clone of another repository', async () => {
    await daemonClone();
    const other = join(tmp, 'other.git');
    git(tmp, 'init', '-q', '--bare', '--initial-branch=main', other);
    await expect(ensureClone(other, join(tmp, 'work'), 'main')).rejects.toThrow(/is a clone of .*origin\.git, not .*other\.git/);
  });

  it('reports a missing branch as an error a person can act on and leaves no half clone', async () => {
    const err = await ensureClone(origin, join(tmp, 'work2'), 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as Error).message).toMatch(/could not clone .* \(branch nope\)/);
    expect(existsSync(join(tmp, 'work2', 'repo'))).toBe(false);
  });

  it('passes network URLs through the loopback guard before cloning', async () => {
    const guard = createGuard({ loopbackOnly: true });
    await expect(ensureClone('https://github.com/example/fleet.git', join(tmp, 'w3'), 'main', { guard })).rejects.toThrow(/FLEET_LOOPBACK_ONLY/);
    await expect(ensureClone('git@github.com:example/fleet.git', join(tmp, 'w3'), 'main', { guard })).rejects.toThrow(/FLEET_LOOPBACK_ONLY/);
  });

  it.each([
    ['https://github.com/a/b.git', true], ['ssh://git@host/a.git', true], ['git@github.com:a/b.git', true],
    ['/srv/fleet.git', false], ['./fleet', false], ['file:///srv/fleet.git', false], ['fleet', false],
  ])('isNetworkSource(%s) = %s', (source, expected) => {
    expect(isNetworkSource(source)).toBe(expected);
  });
});

describe('fetch and change detection', () => {
  it('reports the new remote head and what changed', async () => {
    const ctx = await daemonClone();
    const first = await fetchRemoteHead(ctx);
    expect(first.changed).toBe(false);
    const head = await personCommit(person, { 'fleet/nodes/virtuoso.yaml': 'name: virtuoso\n' }, 'add virtuoso');
    const next = await fetchRemoteHead(ctx);
    expect(next).toEqual({ head, previous: first.head, changed: true });
    expect(await changedPaths(ctx, first.head, head)).toEqual(['fleet/nodes/virtuoso.yaml']);
    expect(await isGeneratedOnly(ctx, first.head, head)).toBe(false);
    expect(await readFileAtRevision(ctx, head, 'fleet/nodes/virtuoso.yaml')).toBe('name: virtuoso\n');
    expect(await readFileAtRevision(ctx, first.head, 'fleet/nodes/virtuoso.yaml')).toBeNull();
  });

  it('a range touching only generated/ needs no reconcile; one more file outside it does', async () => {
    const ctx = await daemonClone();
    const a = (await fetchRemoteHead(ctx)).head;
    const b = await personCommit(person, { 'generated/nodes_registry.json': '{"nodes":[]}\n', 'generated/openclaw_workers.json': '{}\n' }, 'generated only');
    await fetchRemoteHead(ctx);
    expect(await isGeneratedOnly(ctx, a, b)).toBe(true);
    expect(await isGeneratedOnly(ctx, b, b)).toBe(true);
    const c = await personCommit(person, { 'generated/x.json': '1\n', 'README.md': 'hi\n' }, 'mixed');
    await fetchRemoteHead(ctx);
    expect(await isGeneratedOnly(ctx, b, c)).toBe(false);
    expect(await isGeneratedOnly(ctx, a, c)).toBe(false);
    // a file named like the folder but outside it is not generated
    const d = await personCommit(person, { 'generated-notes.txt': 'x\n' }, 'lookalike');
    await fetchRemoteHead(ctx);
    expect(await isGeneratedOnly(ctx, c, d)).toBe(false);
  });

  it('treats an unknown base (first run, force push) as everything changed', async () => {
    const ctx = await daemonClone();
    const { head } = await fetchRemoteHead(ctx);
    expect(await changedPaths(ctx, null, head)).toEqual(['fleet/fleet.yaml', 'fleet/nodes/maestro.yaml', 'generated/nodes_registry.json']);
    expect(await changedPaths(ctx, '0123456789abcdef0123456789abcdef01234567', head)).toHaveLength(3);
    expect(await isGeneratedOnly(ctx, null, head)).toBe(false);
  });
});

describe('revision slots', () => {
  it('an invalid candidate never replaces the last good checkout', async () => {
    const ctx = await daemonClone();
    expect(await readLastGood(ctx)).toBeNull();
    const good = await checkoutCandidate(ctx, (await fetchRemoteHead(ctx)).head);
    await promoteCandidate(ctx, good);
    expect(await readLastGood(ctx)).toEqual(good);

    const badHead = await personCommit(person, { 'fleet/nodes/maestro.yaml': 'name: [broken\n' }, 'break maestro');
    await fetchRemoteHead(ctx);
    const candidate = await checkoutCandidate(ctx, badHead);
    expect(candidate.dir).not.toBe(good.dir);
    expect(await readFile(join(candidate.dir, 'fleet/nodes/maestro.yaml'), 'utf8')).toBe('name: [broken\n');
    // not promoted: the good slot still holds the good files
    expect(await readLastGood(ctx)).toEqual(good);
    expect(await readFile(join(good.dir, 'fleet/nodes/maestro.yaml'), 'utf8')).toBe('name: maestro\n');

    const fixed = await personCommit(person, { 'fleet/nodes/maestro.yaml': 'name: maestro\nstatus: active\n' }, 'fix maestro');
    await fetchRemoteHead(ctx);
    const next = await checkoutCandidate(ctx, fixed);
    expect(next.dir).toBe(candidate.dir); // the candidate slot is reused
    await writeFile(join(next.dir, 'stray.txt'), 'left over');
    await promoteCandidate(ctx, next);
    expect((await readLastGood(ctx))?.revision).toBe(fixed);
    // the next candidate goes to the other slot and is cleaned
    const again = await checkoutCandidate(ctx, fixed);
    expect(again.dir).toBe(good.dir);
    expect(await readFile(join(again.dir, 'fleet/nodes/maestro.yaml'), 'utf8')).toBe('name: maestro\nstatus: active\n');
  });

  it('recreates a slot that was deleted by hand and distrusts a tampered last-good slot', async () => {
    const ctx = await daemonClone();
    const { head } = await fetchRemoteHead(ctx);
    const first = await checkoutCandidate(ctx, head);
    await rm(first.dir, { recursive: true, force: true });
    const second = await checkoutCandidate(ctx, head);
    expect(existsSync(join(second.dir, 'fleet/fleet.yaml'))).toBe(true);
    await promoteCandidate(ctx, second);
    git(second.dir, 'checkout', '-q', '--detach', 'HEAD~0');
    await writeFile(join(second.dir, 'fleet/fleet.yaml'), 'edited\n');
    git(second.dir, 'commit', '-q', '-am', 'hand edit');
    expect(await readLastGood(ctx)).toBeNull();
  });
});

describe('commitGenerated', () => {
  it('commits only generated/, with the settings identity, and pushes', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    const result = await commitGenerated(ctx, { 'nodes_registry.json': '{"nodes":["maestro"]}\n', 'openclaw_workers.json': '{"workers":[]}\n' }, 'generated: maestro active', AUTHOR);
    expect(result).toMatchObject({ committed: true, pushed: true, attempts: 1, changed: ['generated/nodes_registry.json', 'generated/openclaw_workers.json'] });
    const bare = (fmt: string): string => git(origin, 'log', '-1', `--format=${fmt}`, 'main');
    expect(bare('%H')).toBe(result.revision);
    expect(bare('%an <%ae>|%cn <%ce>|%s')).toBe('Symphony Fleet <fleet@symphony.local>|Symphony Fleet <fleet@symphony.local>|generated: maestro active');
    expect(git(origin, 'show', '--name-only', '--format=', 'main').split('\n')).toEqual(['generated/nodes_registry.json', 'generated/openclaw_workers.json']);
    // the daemon's own commit is known: the next fetch sees no change, and the range is generated-only
    const after = await fetchRemoteHead(ctx);
    expect(after.changed).toBe(false);
  });

  it('commits nothing when generated/ already matches', async () => {
    const ctx = await daemonClone();
    const { head } = await fetchRemoteHead(ctx);
    const result = await commitGenerated(ctx, { 'nodes_registry.json': '{}\n' }, 'generated: nothing', AUTHOR);
    expect(result).toEqual({ committed: false, pushed: false, revision: head, attempts: 0, changed: [] });
    expect(git(origin, 'rev-parse', 'main')).toBe(head);
  });

  it('ignores stray edits in the clone outside generated/ and never commits them', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    await writeFile(join(ctx.dir, 'fleet/fleet.yaml'), 'tampered\n');
    const result = await commitGenerated(ctx, { 'nodes_registry.json': '{"v":2}\n' }, 'generated: v2', AUTHOR);
    expect(result.changed).toEqual(['generated/nodes_registry.json']);
    expect(git(origin, 'show', 'main:fleet/fleet.yaml')).toBe('network: {}');
  });

  it('removes generated files no longer produced when asked', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    const result = await commitGenerated(ctx, { 'openclaw_workers.json': '{}\n' }, 'generated: only workers', AUTHOR, { removeOthers: true });
    expect(result.changed).toEqual(['generated/nodes_registry.json', 'generated/openclaw_workers.json']);
    expect(git(origin, 'ls-tree', '-r', '--name-only', 'main', 'generated')).toBe('generated/openclaw_workers.json');
  });

  it('rejects file names that escape generated/', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    await expect(commitGenerated(ctx, { '../fleet/fleet.yaml': 'x' }, 'm', AUTHOR)).rejects.toThrow(/inside generated\//);
    await expect(commitGenerated(ctx, { '/etc/passwd': 'x' }, 'm', AUTHOR)).rejects.toThrow(/inside generated\//);
  });

  it('on a push race, rebases onto the new remote head and retries', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    // A person merges after the daemon fetched: the daemon's push is not a fast-forward.
    const theirs = await personCommit(person, { 'fleet/nodes/virtuoso.yaml': 'name: virtuoso\n' }, 'add virtuoso');
    const retries: number[] = [];
    const result = await commitGenerated(ctx, { 'nodes_registry.json': '{"nodes":["maestro"]}\n' }, 'generated: after race', AUTHOR, { onRetry: ({ attempt }) => retries.push(attempt) });
    expect(result).toMatchObject({ committed: true, pushed: true, attempts: 2 });
    expect(retries).toEqual([1]);
    expect(git(origin, 'rev-parse', 'main~1')).toBe(theirs);
    expect(git(origin, 'rev-parse', 'main')).toBe(result.revision);
    expect(git(origin, 'show', 'main:fleet/nodes/virtuoso.yaml')).toBe('name: virtuoso');
    expect(git(origin, 'show', 'main:generated/nodes_registry.json')).toBe('{"nodes":["maestro"]}');
  });

  it('recreates the commit when the racing push changed the same generated file', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    await personCommit(person, { 'generated/nodes_registry.json': '{"by":"hand"}\n' }, 'hand edit of generated');
    const result = await commitGenerated(ctx, { 'nodes_registry.json': '{"by":"daemon"}\n' }, 'generated: conflict', AUTHOR);
    expect(result).toMatchObject({ committed: true, pushed: true, attempts: 2 });
    expect(git(origin, 'show', 'main:generated/nodes_registry.json')).toBe('{"by":"daemon"}');
    expect(git(ctx.dir, 'status', '--porcelain')).toBe('');
  });

  it('commits nothing after a race when the remote already has the same content', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    const theirs = await personCommit(person, { 'generated/nodes_registry.json': '{"same":1}\n' }, 'someone generated the same');
    const result = await commitGenerated(ctx, { 'nodes_registry.json': '{"same":1}\n' }, 'generated: same', AUTHOR);
    expect(result).toMatchObject({ committed: false, pushed: false, revision: theirs });
    expect(git(origin, 'rev-parse', 'main')).toBe(theirs);
  });

  it('fails at once, without retrying, when the push is refused for another reason', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    await writeFile(join(origin, 'hooks', 'pre-receive'), '#!/bin/sh\necho "protected branch" >&2\nexit 1\n', { mode: 0o755 });
    const retries: number[] = [];
    const err = await commitGenerated(ctx, { 'nodes_registry.json': '{"n":1}\n' }, 'generated: n', AUTHOR, { onRetry: ({ attempt }) => retries.push(attempt) }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/git push to origin main failed: .*protected branch/s);
    expect(retries).toEqual([]);
  });

  it('gives up after the bounded number of attempts when others keep winning', async () => {
    const ctx = await daemonClone();
    await fetchRemoteHead(ctx);
    // A pre-receive hook that always rejects the daemon's pushes looks like a push race that never ends.
    await writeFile(join(origin, 'hooks', 'pre-receive'), '#!/bin/sh\necho "! [rejected] main (fetch first)" >&2\nexit 1\n', { mode: 0o755 });
    const retries: number[] = [];
    const err = await commitGenerated(ctx, { 'nodes_registry.json': '{"n":1}\n' }, 'generated: n', AUTHOR, { maxAttempts: 3, onRetry: ({ attempt }) => retries.push(attempt) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect(String(err)).toMatch(/push to origin main lost the race 3 times/);
    expect(retries).toEqual([1, 2]);
  });
});
