// The executor with scripted sessions and an in-memory Ollama: ordering,
// retries with backoff, stop-on-failure, manual steps, aborts, pulls.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan, backoffMs, isConverged, misorderedSteps } from '../../reconciler/src/apply/executor.ts';
import type { ApplyOptions } from '../../reconciler/src/apply/context.ts';
import type { NodePlan, Plan, Step } from '../../reconciler/src/model/steps.ts';
import { fakeOllama, fakePool, instantClock, makeContext, observedNode, recordingLogger, recordingProgress, type Handler } from './fakes.ts';
import { HEARTBEAT_CRON_LINE, HEARTBEAT_MARKER } from '../../reconciler/src/model/mac-layout.ts';

type Dist<T> = T extends unknown ? Omit<T, 'id' | 'node' | 'why' | 'after'> : never;
function step(node: string, body: Dist<Step>, id: string, after: string[] = []): Step {
  return { ...body, id: `${node}/${id}`, node, why: 'test', after: after.map((a) => `${node}/${a}`) };
}

const options: ApplyOptions = { concurrency: 4, stepTimeoutMs: 5000, pullTimeoutMs: 60_000, retries: 2, diskMarginBytes: 0, backoffBaseMs: 1000 };

function nodePlan(node: string, steps: Step[], status: NodePlan['status'] = 'drifted'): NodePlan {
  return { node, status, summary: status, differences: [], steps };
}

const ok: Handler = () => ({});

describe('plan order', () => {
  // The plan decides the order (plan/order-steps.ts); the executor must not sort again.
  it('runs a node\'s steps in the order the plan gives, by neither kind nor model size', async () => {
    const progress = recordingProgress();
    const ollama = fakeOllama();
    const df = 'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/disk3s5 482797652 1 100000000 44% /System/Volumes/Data\n';
    const pool = fakePool({ n: () => ({ stdout: df }) });
    const ctx = makeContext({ pool, progress, createOllama: () => ollama.client });
    const steps = [
      step('n', { kind: 'make-dirs', paths: ['~/.symphony'] }, 'dirs'),
      step('n', { kind: 'install-package', package: 'formula', name: 'ollama' }, 'pkg'),
      step('n', { kind: 'install-homebrew', prefix: '/opt/homebrew' }, 'brew'),
      step('n', { kind: 'pull-model', model: 'llama3.1:8b', bytes: 4.9e9 }, 'pull/big', ['pkg']),
      step('n', { kind: 'pull-model', model: 'nomic-embed-text', bytes: 274e6 }, 'pull/small', ['pkg']),
    ];
    const result = await applyPlan({ nodes: [nodePlan('n', steps)], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.status).toBe('converged');
    expect(progress.started).toEqual(['n/dirs', 'n/pkg', 'n/brew', 'n/pull/big', 'n/pull/small']);
  });

  it('reports a step that waits for a later one as a planner bug instead of looping, and skips what waits for it', async () => {
    const steps = [step('n', { kind: 'make-dirs', paths: ['a'] }, 'a', ['b']), step('n', { kind: 'make-dirs', paths: ['b'] }, 'b', ['a'])];
    expect(misorderedSteps(steps).map((s) => s.id)).toEqual(['n/a']);
    const pool = fakePool({ n: ok });
    const result = await applyPlan({ nodes: [nodePlan('n', steps)], fleet: [] }, makeContext({ pool }), options);
    expect(result.nodes[0]?.steps.map((s) => [s.id, s.status])).toEqual([['n/a', 'failed'], ['n/b', 'skipped']]);
    expect(result.nodes[0]?.steps[0]?.status === 'failed' && result.nodes[0].steps[0].message).toMatch(/planner bug/);
    expect(pool.logs.n ?? []).toEqual([]);
  });

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, 1000, 10_000))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

describe('applyPlan', () => {
  it('runs every node, in order, and converges', async () => {
    const pool = fakePool({ a: ok, b: ok });
    const ctx = makeContext({ pool });
    const plan: Plan = {
      nodes: [
        nodePlan('a', [step('a', { kind: 'make-dirs', paths: ['~/.symphony'] }, 'dirs'), step('a', { kind: 'install-package', package: 'formula', name: 'ollama' }, 'pkg')]),
        nodePlan('b', [step('b', { kind: 'install-package', package: 'cask', name: 'google-chrome' }, 'pkg')]),
      ],
      fleet: [],
    };
    const result = await applyPlan(plan, ctx, options);
    expect(isConverged(result)).toBe(true);
    expect(pool.logs.a?.map((l) => l.command)).toEqual([
      'mkdir -p "$HOME"/.symphony',
      `NONINTERACTIVE=1 HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1 "\${FLEET_ROOT-}"'/opt/homebrew/bin/brew' install ollama`,
    ]);
    expect(pool.logs.b?.[0]?.command).toMatch(/'\/opt\/homebrew\/bin\/brew' install --cask google-chrome$/);
  });

  it('uses the Intel prefix when observe saw one', async () => {
    const pool = fakePool({ i: ok });
    const ctx = makeContext({ pool, observed: new Map([['i', observedNode('i', { brew: { prefix: '/usr/local', formulae: {}, casks: {} } })]]) });
    await applyPlan({ nodes: [nodePlan('i', [step('i', { kind: 'install-package', package: 'cask', name: 'google-chrome' }, 'pkg')])], fleet: [] }, ctx, options);
    expect(pool.logs.i?.[0]?.command).toContain(`'/usr/local/bin/brew' install --cask google-chrome`);
  });

  it('retries a dropped connection with exponential backoff on a fresh session', async () => {
    let calls = 0;
    const pool = fakePool({ a: () => (++calls <= 2 ? new Error('Not connected') : {}) });
    const clock = instantClock();
    const ctx = makeContext({ pool, clock });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'make-dirs', paths: ['~/x'] }, 'dirs')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.status).toBe('converged');
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'ok', attempts: 3 });
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(pool.connects.a).toBe(3);
  });

  it('retries a timed-out command, then gives up after the configured retries', async () => {
    const pool = fakePool({ a: () => ({ code: null, timedOut: true, durationMs: 5000 }) });
    const ctx = makeContext({ pool });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'make-dirs', paths: ['~/x'] }, 'dirs')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'failed', attempts: 3, failure: 'timeout' });
    expect(result.nodes[0]?.status).not.toBe('converged');
  });

  it('does not retry a permanent failure, skips its dependents, runs the rest, and leaves other nodes alone', async () => {
    const pool = fakePool({
      a: (cmd) => (cmd.includes('install ollama') ? { code: 1, stderr: 'Error: No available formula with the name "ollama".' } : {}),
      b: ok,
    });
    const ctx = makeContext({ pool });
    const plan: Plan = {
      nodes: [
        nodePlan('a', [
          step('a', { kind: 'install-package', package: 'formula', name: 'ollama' }, 'pkg'),
          step('a', { kind: 'load-agent', label: 'com.symphony.ollama', plist_path: '~/Library/LaunchAgents/com.symphony.ollama.plist', reload: false }, 'agent', ['pkg']),
          step('a', { kind: 'pull-model', model: 'llama3.2:3b', bytes: 2e9 }, 'pull', ['agent']),
          step('a', { kind: 'make-dirs', paths: ['~/.symphony/logs'] }, 'dirs'),
        ]),
        nodePlan('b', [step('b', { kind: 'make-dirs', paths: ['~/.symphony/logs'] }, 'dirs')]),
      ],
      fleet: [],
    };
    const result = await applyPlan(plan, ctx, options);
    const a = result.nodes.find((n) => n.node === 'a');
    expect(a?.status).toBe('failed');
    expect(a?.steps.map((s) => [s.id, s.status])).toEqual([['a/pkg', 'failed'], ['a/agent', 'skipped'], ['a/pull', 'skipped'], ['a/dirs', 'ok']]);
    expect(a?.steps[0]).toMatchObject({ attempts: 1 });
    expect(a?.steps[0]?.status === 'failed' && a.steps[0].message).toMatch(/No available formula/);
    expect(result.nodes.find((n) => n.node === 'b')?.status).toBe('converged');
    expect(pool.logs.a?.some((l) => l.command.includes('launchctl'))).toBe(false);
  });

  it('turns "a password is required" into a manual step with the exact commands, and does the rest', async () => {
    const pool = fakePool({ a: (cmd) => (cmd.startsWith('sudo -n') ? { code: 1, stderr: 'sudo: a password is required\n' } : {}) });
    const ctx = makeContext({ pool });
    const result = await applyPlan({
      nodes: [nodePlan('a', [
        step('a', { kind: 'set-hostname', computer_name: 'Virtuoso', host_name: 'virtuoso', local_host_name: 'virtuoso' }, 'hostname'),
        step('a', { kind: 'make-dirs', paths: ['~/.symphony'] }, 'dirs', ['hostname']),
      ])],
      fleet: [],
    }, ctx, options);
    const [host, dirs] = result.nodes[0]?.steps ?? [];
    expect(host).toMatchObject({ status: 'manual', reason: 'sudo-password', attempts: 1 });
    expect(host?.status === 'manual' && host.instructions).toContain('sudo scutil --set ComputerName Virtuoso');
    expect(dirs).toMatchObject({ status: 'ok' });
    expect(result.nodes[0]?.status).toBe('partial');
  });

  it('reports a planned manual step without running anything for it; what waits for it is skipped, the rest runs', async () => {
    const pool = fakePool({ a: ok });
    const result = await applyPlan({ nodes: [nodePlan('a', [
      step('a', { kind: 'manual', reason: 'sudo-password', instructions: ['On a, run: sudo scutil --set HostName a'] }, 'manual/sudo'),
      step('a', { kind: 'install-homebrew', prefix: '/opt/homebrew' }, 'brew', ['manual/sudo']),
      step('a', { kind: 'make-dirs', paths: ['~/.symphony'] }, 'dirs'),
    ])], fleet: [] }, makeContext({ pool }), options);
    expect(result.nodes[0]?.steps.map((s) => s.status)).toEqual(['manual', 'skipped', 'ok']);
    expect(pool.logs.a?.map((l) => l.command)).toEqual(['mkdir -p "$HOME"/.symphony']);
    expect(result.nodes[0]?.status).toBe('partial');
  });

  it('loads the agent idempotently: "already loaded" (exit 5) is fine, bootout only on reload', async () => {
    const pool = fakePool({ a: (cmd) => (cmd.startsWith('launchctl bootstrap') ? { code: 5, stderr: 'Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n' } : {}) });
    const ctx = makeContext({ pool, observed: new Map([['a', observedNode('a')]]) });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'load-agent', label: 'com.symphony.ollama', plist_path: '/Users/bob/Library/LaunchAgents/com.symphony.ollama.plist', reload: false }, 'agent')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.status).toBe('converged');
    expect(pool.logs.a?.map((l) => l.command)).toEqual([
      'plutil -lint /Users/bob/Library/LaunchAgents/com.symphony.ollama.plist',
      'launchctl bootstrap gui/501 /Users/bob/Library/LaunchAgents/com.symphony.ollama.plist',
      'launchctl kickstart gui/501/com.symphony.ollama',
    ]);
  });

  it('reloads a changed plist: bootout, then bootstrap until the old one is gone', async () => {
    let bootstraps = 0;
    const pool = fakePool({ a: (cmd) => {
      if (cmd === 'id -u') return { stdout: '502\n' };
      if (cmd.startsWith('launchctl bootstrap')) return ++bootstraps < 3 ? { code: 5, stderr: 'Bootstrap failed: 5: Input/output error' } : {};
      return {};
    } });
    const ctx = makeContext({ pool, observed: new Map([['a', observedNode('a', { uid: null })]]) });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'load-agent', label: 'com.symphony.ollama', plist_path: '/h/a.plist', reload: true }, 'agent')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.status).toBe('converged');
    const cmds = pool.logs.a?.map((l) => l.command) ?? [];
    expect(cmds.slice(0, 3)).toEqual(['id -u', 'plutil -lint /h/a.plist', 'launchctl bootout gui/502/com.symphony.ollama']);
    expect(cmds.filter((c) => c.startsWith('launchctl bootstrap'))).toHaveLength(3);
  });

  it('makes exit 125 (no gui domain) a manual launchd-domain step and skips the pulls that need Ollama', async () => {
    const pool = fakePool({ a: (cmd) => (cmd.startsWith('launchctl bootstrap') ? { code: 125, stderr: 'Bootstrap failed: 125: Domain does not support specified action' } : {}) });
    const ollama = fakeOllama();
    const ctx = makeContext({ pool, createOllama: () => ollama.client, observed: new Map([['a', observedNode('a')]]) });
    const result = await applyPlan({ nodes: [nodePlan('a', [
      step('a', { kind: 'load-agent', label: 'com.symphony.ollama', plist_path: '/h/a.plist', reload: false }, 'agent'),
      step('a', { kind: 'pull-model', model: 'llama3.2:3b', bytes: 1000 }, 'pull', ['agent']),
    ])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.steps.map((s) => s.status)).toEqual(['manual', 'skipped']);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ reason: 'launchd-domain', attempts: 1 });
    expect(ollama.pullAttempts).toEqual({});
  });

  it('runs nothing on a node whose login is refused (host key changed)', async () => {
    const pool = fakePool({}, { a: { status: 'host-key-changed', message: 'expected SHA256:a, got SHA256:b' } });
    const ctx = makeContext({ pool });
    const result = await applyPlan({ nodes: [nodePlan('a', [
      step('a', { kind: 'make-dirs', paths: ['~/x'] }, 'dirs'),
      step('a', { kind: 'install-package', package: 'formula', name: 'ollama' }, 'pkg'),
    ])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.status).toBe('unreachable');
    expect(result.nodes[0]?.message).toMatch(/host-key-changed/);
    expect(result.nodes[0]?.steps.map((s) => s.status)).toEqual(['failed', 'skipped']);
    expect(pool.connects.a).toBe(1);
    expect(pool.logs.a).toBeUndefined();
  });

  it('stops a node that goes down mid-apply after the retries, keeps the others going', async () => {
    let down = false;
    const pool = fakePool({ a: (cmd) => {
      if (cmd.includes('install')) down = true;
      return down ? new Error('Not connected') : {};
    }, b: ok });
    const realSession = pool.session.bind(pool);
    pool.session = (node) => (node === 'a' && down ? Promise.resolve({ ok: false as const, reach: { status: 'unreachable', message: 'connect ECONNREFUSED' } }) : realSession(node));
    const ctx = makeContext({ pool });
    const steps = ['one', 'two', 'three'].map((n) => step('a', { kind: 'make-dirs', paths: [`~/${n}`] }, n));
    const result = await applyPlan({ nodes: [
      nodePlan('a', [steps[0]!, step('a', { kind: 'install-package', package: 'formula', name: 'ollama' }, 'pkg'), steps[1]!, steps[2]!]),
      nodePlan('b', [step('b', { kind: 'make-dirs', paths: ['~/y'] }, 'dirs')]),
    ], fleet: [] }, ctx, options);
    const a = result.nodes[0];
    expect(a?.steps.map((s) => s.status)).toEqual(['ok', 'failed', 'skipped', 'skipped']);
    expect(a?.steps[1]).toMatchObject({ attempts: 3 });
    expect(a?.status).toBe('failed');
    expect(result.nodes[1]?.status).toBe('converged');
  });

  it('on abort, lets the current step finish and skips the rest', async () => {
    const controller = new AbortController();
    const pool = fakePool({ a: (cmd) => {
      if (cmd.includes('first')) controller.abort();
      return {};
    } });
    const ctx = makeContext({ pool });
    const result = await applyPlan({ nodes: [nodePlan('a', [
      step('a', { kind: 'make-dirs', paths: ['~/first'] }, 'one'),
      step('a', { kind: 'make-dirs', paths: ['~/second'] }, 'two'),
    ])], fleet: [] }, ctx, { ...options, signal: controller.signal });
    expect(result.aborted).toBe(true);
    expect(result.nodes[0]?.steps.map((s) => s.status)).toEqual(['ok', 'skipped']);
    expect(result.nodes[0]?.status).toBe('aborted');
    expect(pool.logs.a).toHaveLength(1);
  });

  it('respects the concurrency limit', async () => {
    let active = 0;
    let peak = 0;
    const slow: Handler = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return {};
    };
    const names = ['a', 'b', 'c', 'd', 'e'];
    const pool = fakePool(Object.fromEntries(names.map((n) => [n, slow])));
    const result = await applyPlan({ nodes: names.map((n) => nodePlan(n, [step(n, { kind: 'make-dirs', paths: ['~/x'] }, 'd')])), fleet: [] }, makeContext({ pool }), { ...options, concurrency: 2 });
    expect(isConverged(result)).toBe(true);
    expect(peak).toBe(2);
  });
});

describe('crontab', () => {
  const set = (line: string | null): Step => step('a', { kind: 'set-crontab', line, marker: HEARTBEAT_MARKER }, 'cron');

  it('treats "no crontab" as empty and installs our line', async () => {
    const pool = fakePool({ a: (cmd) => (cmd === 'crontab -l' ? { code: 1, stderr: 'crontab: no crontab for bob\n' } : {}) });
    const result = await applyPlan({ nodes: [nodePlan('a', [set(HEARTBEAT_CRON_LINE)])], fleet: [] }, makeContext({ pool }), options);
    expect(result.nodes[0]?.status).toBe('converged');
    expect(pool.logs.a?.[1]?.command).toBe(`printf '%s\\n' '${HEARTBEAT_MARKER}' '* * * * * bash ~/.symphony/heartbeat.sh' | crontab -`);
  });

  it('replaces duplicated heartbeat lines and keeps other people\'s lines', async () => {
    const table = ['MAILTO=""', '0 3 * * * /usr/local/bin/backup', '* * * * * bash /Users/bob/.symphony/heartbeat.sh', '* * * * * bash ~/.symphony/heartbeat.sh', ''].join('\n');
    const pool = fakePool({ a: (cmd) => (cmd === 'crontab -l' ? { stdout: table } : {}) });
    await applyPlan({ nodes: [nodePlan('a', [set(HEARTBEAT_CRON_LINE)])], fleet: [] }, makeContext({ pool }), options);
    expect(pool.logs.a?.[1]?.command).toBe(`printf '%s\\n' 'MAILTO=""' '0 3 * * * /usr/local/bin/backup' '${HEARTBEAT_MARKER}' '* * * * * bash ~/.symphony/heartbeat.sh' | crontab -`);
  });

  it('writes nothing when the table is already right', async () => {
    const pool = fakePool({ a: (cmd) => (cmd === 'crontab -l' ? { stdout: `0 3 * * * x\n${HEARTBEAT_MARKER}\n${HEARTBEAT_CRON_LINE}\n` } : {}) });
    const result = await applyPlan({ nodes: [nodePlan('a', [set(HEARTBEAT_CRON_LINE)])], fleet: [] }, makeContext({ pool }), options);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'ok', changed: false });
    expect(pool.logs.a?.map((l) => l.command)).toEqual(['crontab -l']);
  });
});

describe('pulls', () => {
  const df = (availableKb: number): string => `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/disk3s5 482797652 1 ${availableKb} 44% /System/Volumes/Data\n`;

  it('streams progress, verifies /api/tags and pulls the smallest first, as the plan orders them', async () => {
    const ollama = fakeOllama();
    const progress = recordingProgress();
    const pool = fakePool({ a: () => ({ stdout: df(100e6) }) });
    const ctx = makeContext({ pool, progress, createOllama: () => ollama.client });
    // The planner puts the smallest pull first and chains the next after it (plan/resources/models.ts).
    const result = await applyPlan({ nodes: [nodePlan('a', [
      step('a', { kind: 'pull-model', model: 'nomic-embed-text', bytes: 274e6 }, 'pull/nomic'),
      step('a', { kind: 'pull-model', model: 'llama3.1:8b', bytes: 4.9e9 }, 'pull/8b', ['pull/nomic']),
    ])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.status).toBe('converged');
    expect(progress.started).toEqual(['a/pull/nomic', 'a/pull/8b']);
    expect(ollama.models.map((m) => m.name)).toEqual(['nomic-embed-text:latest', 'llama3.1:8b']);
    expect(progress.pulls.filter((p) => p.model === 'llama3.1:8b').map((p) => p.completed)).toEqual([0, 0, 250, 500, 750, 1000, 1000, 1000]);
    const pulled8b = result.nodes[0]?.steps.find((r) => r.id === 'a/pull/8b');
    expect(pulled8b?.status === 'ok' && pulled8b.detail).toMatch(/^internet pull: llama3\.1:8b [0-9a-z]{12}/);
  });

  it('refuses a pull that will not fit on disk before starting it', async () => {
    const ollama = fakeOllama();
    const pool = fakePool({ a: () => ({ stdout: df(1_000_000) }) });
    const ctx = makeContext({ pool, createOllama: () => ollama.client });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'pull-model', model: 'llama3.1:70b', bytes: 42.5e9 }, 'pull')])], fleet: [] }, ctx, { ...options, diskMarginBytes: 10e9 });
    const r = result.nodes[0]?.steps[0];
    expect(r).toMatchObject({ status: 'failed', failure: 'disk-space', attempts: 1 });
    expect(r?.status === 'failed' && r.message).toMatch(/needs 42\.5 GB plus the 10\.0 GB margin, and only 1\.0 GB is free/);
    expect(ollama.pullAttempts).toEqual({});
  });

  it('falls back to the observed free space when df is unreadable', async () => {
    const ollama = fakeOllama();
    const pool = fakePool({ a: () => ({ code: 1, stderr: 'df: nope' }) });
    const observed = new Map([['a', observedNode('a', { disk: { total_bytes: 10e9, available_bytes: 3e9 } })]]);
    const ctx = makeContext({ pool, observed, createOllama: () => ollama.client });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'pull-model', model: 'llama3.1:8b', bytes: 4.9e9 }, 'pull')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'failed', failure: 'disk-space' });
  });

  it('resumes a pull that broke half way (retry pulls again, Ollama continues from the partial data)', async () => {
    const ollama = fakeOllama({ failPull: (_m, attempt) => (attempt === 1 ? 'max retries exceeded: unexpected EOF' : null) });
    const pool = fakePool({ a: () => ({ stdout: df(100e6) }) });
    const clock = instantClock();
    const ctx = makeContext({ pool, clock, createOllama: () => ollama.client });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'pull-model', model: 'llama3.2:3b', bytes: 2e9 }, 'pull')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'ok', attempts: 2 });
    expect(ollama.resumedFrom['llama3.2:3b']).toEqual([0, 500]);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('does not retry an unknown model', async () => {
    const ollama = fakeOllama({ unknown: ['nope:1b'] });
    const pool = fakePool({ a: () => ({ stdout: df(100e6) }) });
    const ctx = makeContext({ pool, createOllama: () => ollama.client });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'pull-model', model: 'nope:1b', bytes: 1 }, 'pull')])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(result.nodes[0]?.steps[0]?.status === 'failed' && result.nodes[0].steps[0].message).toMatch(/file does not exist/);
  });

  it('aborts a running pull cleanly on SIGTERM', async () => {
    const controller = new AbortController();
    const ollama = fakeOllama();
    const progress = recordingProgress();
    progress.pullProgress = (p) => {
      if (p.completed >= 500) controller.abort();
    };
    const pool = fakePool({ a: () => ({ stdout: df(100e6) }) });
    const ctx = makeContext({ pool, progress, createOllama: () => ollama.client });
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'pull-model', model: 'llama3.2:3b', bytes: 2e9 }, 'pull')])], fleet: [] }, ctx, { ...options, signal: controller.signal });
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'skipped', attempts: 1 });
    expect(result.nodes[0]?.status).toBe('aborted');
    expect(ollama.models).toEqual([]);
  });

  it('removes a model, and a model already gone is fine', async () => {
    const ollama = fakeOllama({ models: [{ name: 'mistral:7b', digest: 'f'.repeat(64), size: 4e9 }] });
    const ctx = makeContext({ pool: fakePool({}), createOllama: () => ollama.client });
    const result = await applyPlan({ nodes: [nodePlan('a', [
      step('a', { kind: 'remove-model', model: 'mistral:7b', bytes: 4e9 }, 'rm1'),
      step('a', { kind: 'remove-model', model: 'mistral:7b', bytes: 4e9 }, 'rm2'),
    ])], fleet: [] }, ctx, options);
    expect(result.nodes[0]?.steps.map((s) => s.status === 'ok' && s.changed)).toEqual([true, false]);
    expect(ollama.models).toEqual([]);
  });
});

describe('register', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function registry(status: number): Promise<{ url: string; bodies: unknown[] }> {
    const bodies: unknown[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/nodes/register`, bodies };
  }

  const payload = { node_id: 'virtuoso', display_name: 'Virtuoso', role: 'full_worker', ip: '127.0.0.1', hostname: 'virtuoso.local', services: { ollama: true, ollama_port: 11434, docker: true, harpa: true }, registered_at: '2026-11-25T00:00:00Z' };

  it('POSTs the payload; 201 is accepted', async () => {
    const reg = await registry(201);
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'register', url: reg.url, payload }, 'register')])], fleet: [] }, makeContext({ pool: fakePool({}) }), options);
    expect(result.nodes[0]?.steps[0]).toMatchObject({ status: 'ok', changed: true });
    expect(reg.bodies).toEqual([payload]);
  });

  it('a 500 is a warning, not a failure', async () => {
    const reg = await registry(500);
    const logger = recordingLogger();
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'register', url: reg.url, payload }, 'register')])], fleet: [] }, makeContext({ pool: fakePool({}), log: logger }), options);
    expect(result.nodes[0]?.status).toBe('converged');
    expect(result.nodes[0]?.steps[0]?.status === 'ok' && result.nodes[0].steps[0].warning).toMatch(/HTTP 500/);
    expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
  });

  it('never leaves loopback when the guard says so: no connection, and the step failed (the node is not registered)', async () => {
    const result = await applyPlan({ nodes: [nodePlan('a', [step('a', { kind: 'register', url: 'http://192.168.1.10:8765/api/nodes/register', payload }, 'register')])], fleet: [] }, makeContext({ pool: fakePool({}) }), options);
    const outcome = result.nodes[0]?.steps[0];
    expect(outcome?.status).toBe('failed');
    expect(outcome?.status === 'failed' && outcome.message).toMatch(/refused before sending: .*FLEET_LOOPBACK_ONLY/);
    expect(result.nodes[0]?.status).not.toBe('converged');
  });
});
