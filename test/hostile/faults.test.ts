// Hostile corpus, group 3 of 4: faults (issue 11). The real daemon against a
// real bare origin, with every node "unreachable" on a closed loopback port
// (no node is needed to show what the loop does): stale git locks, a second
// daemon, a full disk, origin gone, history rewritten, a poisoned
// last-good.json, revisions the daemon cannot run, credentials in the URL.
// Each case says what the daemon must do, and none may stop it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../reconciler/src/daemon/logger.ts';
import { clearStaleIndexLocks } from '../../reconciler/src/daemon/git-locks.ts';
import { ensureClone } from '../../reconciler/src/daemon/git.ts';
import { startDaemon, type DaemonOptions, type RunningDaemon } from '../../reconciler/src/daemon/run-daemon.ts';
import { createGuard } from '../../reconciler/src/net/guard.ts';
import { createOrigin, pushCommit } from '../../reconciler/src/sim/origin.ts';
import { runFleet } from '../cli/run-fleet.ts';

const repo = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'fleet-hostile-faults-'));
let n = 0;
const running: RunningDaemon[] = [];

/** A fresh origin (the repository's fleet), a person's clone, and a targets file whose nodes refuse connections. */
async function world(): Promise<{ dir: string; origin: string; person: string; targets: string }> {
  const dir = join(root, `w${n++}`);
  mkdirSync(dir, { recursive: true });
  const { origin, person } = await createOrigin(dir, join(repo, 'fleet'));
  const targets = join(dir, 'targets.json');
  const node = { addresses: ['127.0.0.1'], ssh_port: 1, user: 'nobody', key_path: join(dir, 'no-key'), ollama_url: 'http://127.0.0.1:1' };
  writeFileSync(targets, JSON.stringify({ bob: { registry_url: 'http://127.0.0.1:1' }, nodes: { bob: node, maestro: node, stagehand: node } }));
  return { dir, origin, person, targets };
}

async function start(w: { dir: string; origin: string; targets: string }, extra: Partial<DaemonOptions> = {}): Promise<RunningDaemon> {
  const d = await startDaemon({
    repo: w.origin,
    branch: 'main',
    workdir: join(w.dir, 'fleetd'),
    targetsFile: w.targets,
    http: { host: '127.0.0.1', port: 0 },
    log: createLogger({ level: 'silent' }),
    pollIntervalMs: 0,
    driftCron: '0 0 1 1 *',
    webhookSecret: null,
    ...extra,
  });
  running.push(d);
  await d.idle();
  return d;
}

async function stop(d: RunningDaemon): Promise<void> {
  const i = running.indexOf(d);
  if (i !== -1) running.splice(i, 1);
  await d.stop();
}

async function reconcile(d: RunningDaemon): Promise<void> {
  d.trigger('manual');
  await d.idle();
}

beforeAll(() => undefined);
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('hostile faults: git locks', () => {
  it('a stale .git/index.lock (a killed git) is removed when no git process owns it, and the loop goes on', async () => {
    const w = await world();
    const d = await start(w);
    const lock = join(w.dir, 'fleetd', 'repo', '.git', 'index.lock');
    writeFileSync(lock, '');
    await reconcile(d);
    expect(existsSync(lock)).toBe(false);
    expect(d.status().last?.result).not.toBe('failed');
  }, 120_000);

  it('an index.lock a live git process owns is kept', async () => {
    const dir = mkdtempSync(join(root, 'lock-owned-'));
    await simpleGit(dir).init();
    writeFileSync(join(dir, '.git', 'index.lock'), '');
    const r = await clearStaleIndexLocks(dir, dir, { find: () => Promise.resolve([4242]) });
    expect(r).toEqual({ removed: [], kept: [join(dir, '.git', 'index.lock')] });
    expect(existsSync(join(dir, '.git', 'index.lock'))).toBe(true);
  });

  it('an index.lock is kept when it cannot be told who owns it', async () => {
    const dir = mkdtempSync(join(root, 'lock-unknown-'));
    await simpleGit(dir).init();
    writeFileSync(join(dir, '.git', 'index.lock'), '');
    expect((await clearStaleIndexLocks(dir, dir, { find: () => Promise.resolve(null) })).kept).toHaveLength(1);
  });

  it('a worktree\'s index.lock counts too; with no git running (real /proc scan) it is removed', async () => {
    const dir = mkdtempSync(join(root, 'lock-wt-'));
    mkdirSync(join(dir, '.git', 'worktrees', 'a'), { recursive: true });
    writeFileSync(join(dir, '.git', 'worktrees', 'a', 'index.lock'), '');
    expect((await clearStaleIndexLocks(dir, dir)).removed).toEqual([join(dir, '.git', 'worktrees', 'a', 'index.lock')]);
  });
});

describe('hostile faults: one daemon per workdir', () => {
  it('a second daemon on the same workdir refuses to start and names the first (finding: lost heartbeats)', async () => {
    const w = await world();
    await start(w);
    await expect(start(w)).rejects.toThrow(new RegExp(`another fleet daemon already runs on .*pid ${process.pid}`));
  }, 120_000);

  it('a workdir lock left by a dead daemon is taken over', async () => {
    const w = await world();
    mkdirSync(join(w.dir, 'fleetd'), { recursive: true });
    writeFileSync(join(w.dir, 'fleetd', 'fleetd.lock'), JSON.stringify({ pid: 2 ** 22 + 7, hostname: (await import('node:os')).hostname(), command: 'fleet daemon', acquired_at: new Date().toISOString(), token: 'dead' }));
    const d = await start(w);
    expect(d.status().revision).not.toBeNull();
  }, 120_000);
});

describe('hostile faults: disk, origin, history', () => {
  it('disk full: heartbeats are answered, kept in memory, and the failure shows in /api/status', async () => {
    const w = await world();
    const d = await start(w, { writeHeartbeats: () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) });
    const res = await fetch(`${d.url}/api/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: 'maestro', ip: '192.168.1.20' }) });
    // Unsigned, from 127.0.0.1 (not maestro's fleet address): refused, and nothing to write.
    expect(res.status).toBe(403);
    d.heartbeats.update({ node_id: 'maestro', ip: '192.168.1.20', at: new Date(), source_ip: '192.168.1.20', signed: true });
    await d.heartbeats.flush().catch(() => undefined);
    const status = (await (await fetch(`${d.url}/api/status`)).json()) as { heartbeats: { write: { error: string | null; pending: boolean } } };
    expect(status.heartbeats.write).toMatchObject({ error: 'ENOSPC', pending: true });
    expect(d.heartbeats.get('maestro')?.ip).toBe('192.168.1.20');
  }, 120_000);

  it('origin unreachable: the last good revision is still reconciled, origin is reported unreachable, then reachable again', async () => {
    const w = await world();
    const d = await start(w);
    const good = d.status().revision;
    renameSync(w.origin, `${w.origin}.away`);
    await reconcile(d);
    expect(d.status().origin.reachable).toBe(false);
    expect(d.status().origin.error).toMatch(/fetch/);
    expect(d.status().last?.result).not.toBe('failed');
    expect(d.status().revision).toBe(good);
    renameSync(`${w.origin}.away`, w.origin);
    await reconcile(d);
    expect(d.status().origin).toEqual({ reachable: true, since: null, error: null });
  }, 120_000);

  it('force-pushed history is refused loudly; the last good revision is kept', async () => {
    const w = await world();
    const d = await start(w);
    const good = d.status().revision;
    const rewritten = await rewriteHistory(w.person);
    await reconcile(d);
    expect(d.status().rewritten, JSON.stringify(d.status())).toMatchObject({ from: good, to: rewritten, accepted: false });
    expect(d.status().revision).toBe(good);
    const text = await runFleet(['status', '--url', d.url]);
    expect(text.stdout).toMatch(/BRANCH HISTORY REWRITTEN/);
  }, 120_000);

  it('force-pushed history is accepted with --allow-force-push, and still reported', async () => {
    const w = await world();
    const d = await start(w, { allowForcePush: true });
    const rewritten = await rewriteHistory(w.person);
    await reconcile(d);
    expect(d.status().rewritten).toMatchObject({ to: rewritten, accepted: true });
    expect(d.status().revision).toBe(rewritten);
  }, 120_000);
});

/** Replaces origin's main with a new root commit holding the same fleet (a force-push). */
async function rewriteHistory(person: string): Promise<string> {
  const git = simpleGit(person);
  await git.raw(['checkout', '-q', '--orphan', 'rewritten']);
  await git.raw(['-c', 'user.name=Mallory', '-c', 'user.email=m@x', 'commit', '-q', '-m', 'history, rewritten']);
  await git.raw(['push', '-q', '--force', 'origin', 'rewritten:main']);
  return (await git.revparse(['HEAD'])).trim();
}

describe('hostile faults: what a merged revision can do to the daemon', () => {
  const edit = (person: string, file: string, from: string, to: string) => (): void => {
    const path = join(person, file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(from, to));
  };

  it.each([
    ['drift_cron "99 99 99 99 99" (finding: promoted, then the daemon could not start)', 'fleet/fleet.yaml', 'drift_cron: "*/15 * * * *"', 'drift_cron: "99 99 99 99 99"', /drift-cron/],
    ['drift_cron "1-50000000 * * * *" (finding: a minute of blocked event loop)', 'fleet/fleet.yaml', 'drift_cron: "*/15 * * * *"', 'drift_cron: "1-50000000 * * * *"', /drift-cron/],
    ['trust_on_first_use: true', 'fleet/fleet.yaml', '  connect_timeout_s: 5', '  trust_on_first_use: true\n  connect_timeout_s: 5', /schema/],
    ['bob.workers_path into .bashrc', 'fleet/fleet.yaml', '  git_author_name:', '  workers_path: ~/../../tmp/x/.bashrc\n  git_author_name:', /schema/],
  ])('%s: never promoted, the daemon keeps the last good revision and restarts fine', async (_what, file, from, to, rule) => {
    const w = await world();
    const d = await start(w);
    const good = d.status().revision;
    const bad = (await pushCommit(w.person, 'hostile change', edit(w.person, file, from, to))).head;
    await reconcile(d);
    expect(d.status().invalid?.revision).toBe(bad);
    expect(d.status().invalid?.problems.map((p) => p.rule).join(' ')).toMatch(rule);
    expect(d.status().revision).toBe(good);
    await stop(d);
    const again = await start(w);
    expect(again.status().revision).toBe(good);
  }, 120_000);

  it.each([
    ['fleet/ a symbolic link to /etc (finding: Bob\'s file names on /api/status)', 'fleet'],
    ['generated/ a symbolic link (Bob would write through it)', 'generated'],
    ['a node file a symbolic link', 'fleet/nodes/evil.yaml'],
  ])('%s: refused as a revision, no linked file is read or listed', async (_what, link) => {
    const w = await world();
    const d = await start(w);
    const good = d.status().revision;
    await pushCommit(w.person, 'links', () => {
      const at = join(w.person, link);
      rmSync(at, { recursive: true, force: true });
      symlinkSync('/etc', at);
    });
    await reconcile(d);
    const status = JSON.stringify(await (await fetch(`${d.url}/api/status`)).json());
    expect(status).toContain('"rule":"symlink"');
    expect(status).not.toMatch(/passwd|hostname|fstab/);
    expect(d.status().revision).toBe(good);
  }, 120_000);

  it.each([
    ['garbage', '{"slot":'],
    ['a slot outside the workdir', JSON.stringify({ slot: '../../etc', revision: 'a'.repeat(40) })],
    ['a revision that is not a hash', JSON.stringify({ slot: 'a', revision: 'HEAD; rm -rf /' })],
    ['a revision the slot does not hold', JSON.stringify({ slot: 'a', revision: 'b'.repeat(40) })],
  ])('a last-good.json holding %s never stops the start', async (_what, content) => {
    const w = await world();
    const first = await start(w);
    await stop(first);
    writeFileSync(join(w.dir, 'fleetd', 'last-good.json'), content);
    const d = await start(w);
    expect(d.status().revision).toMatch(/^[0-9a-f]{40}$/);
  }, 120_000);

  it('a last good revision that this version refuses (bad cron promoted by an older one) is dropped at start, not fatal', async () => {
    const w = await world();
    const first = await start(w);
    await stop(first);
    // What an older daemon left: the bad revision checked out in the last good slot.
    const slots = join(w.dir, 'fleetd', 'slots');
    const state = JSON.parse(readFileSync(join(w.dir, 'fleetd', 'last-good.json'), 'utf8')) as { slot: string };
    edit(join(slots, state.slot), 'fleet/fleet.yaml', 'drift_cron: "*/15 * * * *"', 'drift_cron: "99 99 99 99 99"')();
    const d = await start(w);
    expect(d.status().revision).toMatch(/^[0-9a-f]{40}$/);
  }, 120_000);

  it('a burst of identical pushes is one reconcile', async () => {
    const w = await world();
    const d = await start(w, { webhookSecret: 's' });
    const { signGithubBody } = await import('../../reconciler/src/daemon/webhook.ts');
    const head = (await simpleGit(w.origin).revparse(['main'])).trim();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
    const before = d.status().reconciles;
    for (let i = 0; i < 5; i++) {
      await fetch(`${d.url}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `burst-${i}`, 'x-hub-signature-256': signGithubBody('s', body) }, body });
    }
    await d.idle();
    expect(d.status().reconciles - before).toBeLessThanOrEqual(1);
  }, 120_000);
});

describe('hostile faults: credentials and local settings', () => {
  it('credentials in the --repo URL never reach an error message (git repeats the URL it was given)', async () => {
    const dir = mkdtempSync(join(root, 'creds-'));
    const err = await ensureClone('https://alice:ghp_s3cret@127.0.0.1:1/fleet.git', join(dir, 'fleetd'), 'main', { guard: createGuard({ loopbackOnly: true }) }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/could not clone https:\/\/\*\*\*@127\.0\.0\.1/);
    expect(String(err)).not.toContain('ghp_s3cret');
  }, 60_000);

  it('an invalid --drift-cron stops `fleet daemon` before it starts, saying why', async () => {
    const r = await runFleet(['daemon', '--repo', join(root, 'nowhere.git'), '--workdir', join(root, 'nowhere'), '--drift-cron', '99 99 99 99 99']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/drift schedule .* cannot run: 99 is outside the minute field's range 0-59/);
  });

  it('an invalid fleetd.yaml stops `fleet daemon` with file:line:col and what to do', async () => {
    const config = join(root, 'fleetd.yaml');
    writeFileSync(config, 'registry_path: relative/path.json\nssh:\n  trust_on_first_use: maybe\n');
    const w = await world();
    const r = await runFleet(['daemon', '--repo', w.origin, '--workdir', join(w.dir, 'fleetd'), '--targets', w.targets, '--port', '0', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleetd\.yaml:1:16 registry_path must match pattern/);
    expect(r.stderr).toMatch(/fleetd\.yaml:3:23 ssh\.trust_on_first_use must be boolean/);
    expect(r.stderr).toMatch(/Fix the file/);
  }, 60_000);
});
