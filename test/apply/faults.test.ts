// Faults during apply, on the simulated fleet: a node goes down mid-apply, a
// pull breaks half way (the next apply resumes it), sudo wants a password
// (manual steps, the rest done), the disk is full (refused before pulling),
// a host key changed (nothing run there). The other nodes always go on.
import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ollama } from 'ollama';
import type { OllamaLike, PullStream } from '../../reconciler/src/apply/context.ts';
import { guardedFetch, type ConnectionGuard } from '../../reconciler/src/net/guard.ts';
import { applyOnce, desiredModels, isStateChanging, listModels, logSizes, newCommands, spawnApply, startTestFleet, type TestFleet } from './sim-helpers.ts';

/** The real client, recording each pull's first progress (a resumed pull starts above 0). */
function recordingOllama(log: { node: string; model: string; firstCompleted: number | undefined }[]): (host: string, guard: ConnectionGuard) => OllamaLike {
  return (host, guard) => {
    const real = new Ollama({ host, fetch: guardedFetch(guard) });
    return {
      version: () => real.version(),
      list: () => real.list(),
      delete: (r) => real.delete(r),
      async pull(request) {
        const stream = await real.pull({ model: request.model, stream: true });
        const entry: { node: string; model: string; firstCompleted: number | undefined } = { node: host, model: request.model, firstCompleted: undefined };
        log.push(entry);
        const wrapped: PullStream = {
          abort: () => stream.abort(),
          async *[Symbol.asyncIterator]() {
            for await (const p of stream) {
              if (entry.firstCompleted === undefined && typeof p.completed === 'number' && p.total > 0) entry.firstCompleted = p.completed;
              yield p;
            }
          },
        };
        return wrapped;
      },
    };
  };
}

let f: TestFleet;
const pulls: { node: string; model: string; firstCompleted: number | undefined }[] = [];
const urlOf = (node: string): string => f.sim.targets.nodes[node]?.ollama_url ?? '';

beforeAll(async () => {
  f = await startTestFleet('three-fresh-nodes', { prefix: 'apply-faults-' });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await rm(f?.root ?? '/nonexistent', { recursive: true, force: true });
});

describe('faults during a first apply', () => {
  let first: Awaited<ReturnType<typeof applyOnce>>;

  beforeAll(async () => {
    // Breaks every attempt a quarter further on (the simulated pull moves in quarters): 3 attempts reach 75%.
    await f.sim.control.setFault('crescendo', 'pull-fail', { afterFraction: 0.2 });
    await f.sim.control.setFault('stagehand', 'sudo-password');
    // virtuoso loses power while Homebrew installs Docker.
    let stop = false;
    const watch = (async () => {
      while (!stop) {
        if (f.sim.commandLog('virtuoso').some((c) => c.includes('install --cask docker'))) {
          await f.sim.control.setFault('virtuoso', 'down');
          return;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      first = await applyOnce(f, { createOllama: recordingOllama(pulls) });
    } finally {
      stop = true;
      await watch;
    }
  }, 300_000);

  it('exits 2: converged partly', () => {
    expect(first.exitCode).toBe(2);
    expect(first.output).toMatch(/Partly converged: 1 of 4 nodes/);
  });

  it('the healthy node converged regardless', async () => {
    expect(first.after?.nodes.find((n) => n.node === 'bob')).toMatchObject({ status: 'in-sync', steps: [] });
    expect(await listModels(f, 'bob')).toEqual([...(desiredModels(f.desired).bob ?? [])].sort());
  });

  it('the node that went down stopped cleanly after its retries', () => {
    const v = first.applied?.nodes.find((n) => n.node === 'virtuoso');
    expect(v?.status).toBe('failed');
    const failed = v?.steps.filter((s) => s.status === 'failed') ?? [];
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attempts).toBe(3);
    expect(v?.steps.filter((s) => s.status === 'ok').length).toBeGreaterThan(0);
    expect(v?.steps.at(-1)?.status).toBe('skipped');
  });

  it('a pull that broke half way failed after its retries, with its partial data kept', () => {
    const c = first.applied?.nodes.find((n) => n.node === 'crescendo');
    expect(c?.status).toBe('failed');
    const pull = c?.steps.find((s) => s.kind === 'pull-model');
    expect(pull).toMatchObject({ status: 'failed', attempts: 3 });
    // Each retry resumed from the partial data of the one before.
    const tries = pulls.filter((p) => p.node === urlOf('crescendo') && p.model === 'nomic-embed-text:latest');
    expect(tries).toHaveLength(3);
    expect(tries[1]?.firstCompleted).toBeGreaterThan(0);
    // The bigger models it pulls wait for the smaller one (smallest first, one after another).
    const statuses = c?.steps.filter((x) => x.kind === 'pull-model').map((x) => x.status) ?? [];
    expect(statuses[0]).toBe('failed');
    expect(statuses.length).toBeGreaterThan(1);
    expect(statuses.slice(1).every((x) => x === 'skipped')).toBe(true);
  });

  it('sudo with a password became manual steps with the exact commands, and the rest was done', async () => {
    const s = first.plan.nodes.find((n) => n.node === 'stagehand');
    const manual = s?.steps.filter((x) => x.kind === 'manual').map((x) => x.kind === 'manual' && x.reason);
    expect(manual).toContain('sudo-password');
    expect(first.output).toContain('sudo scutil --set HostName stagehand');
    expect(f.sim.commandLog('stagehand').some((c) => c.startsWith('sudo -n scutil --set'))).toBe(false);
    const st = f.sim.node('stagehand');
    expect((await st.exec('cat ~/.symphony/heartbeat.sh')).code).toBe(0);
    expect((await st.exec('crontab -l')).stdout).toContain('heartbeat.sh');
  });

  describe('the next apply, faults cleared', () => {
    let second: Awaited<ReturnType<typeof applyOnce>>;
    beforeAll(async () => {
      for (const [node, kind] of [['crescendo', 'pull-fail'], ['stagehand', 'sudo-password'], ['virtuoso', 'down']] as const) await f.sim.control.clearFault(node, kind);
      pulls.length = 0;
      second = await applyOnce(f, { createOllama: recordingOllama(pulls) });
    }, 300_000);

    it('converges everything', () => {
      expect(second.output).toMatch(/Converged: 4 nodes/);
      expect(second.exitCode).toBe(0);
    });

    it('resumed the broken pull instead of starting over', () => {
      const resumed = pulls.find((p) => p.node === urlOf('crescendo') && p.model === 'nomic-embed-text:latest');
      expect(resumed?.firstCompleted).toBeGreaterThan(0);
    });

    it('every Ollama node lists exactly its desired models', async () => {
      const want = desiredModels(f.desired);
      for (const node of ['bob', 'virtuoso', 'crescendo']) expect(await listModels(f, node)).toEqual([...(want[node] ?? [])].sort());
    });
  });
});

describe('faults on a converged fleet', () => {
  it('refuses a pull that does not fit on disk, before pulling, in the plan or at the last moment', async () => {
    const crescendo = new Ollama({ host: urlOf('crescendo') });
    await crescendo.delete({ model: 'mistral:7b' });
    await f.sim.control.setFault('crescendo', 'disk-full');
    pulls.length = 0;
    const planned = await applyOnce(f, { createOllama: recordingOllama(pulls), nodes: ['crescendo'] });
    await f.sim.control.clearFault('crescendo', 'disk-full');
    expect(planned.exitCode).toBe(2);
    expect(planned.plan.nodes[0]?.steps.some((s) => s.kind === 'manual' && s.reason === 'disk-space')).toBe(true);
    expect(pulls).toEqual([]);

    // Disk filled up between observe and the pull: the executor's own check refuses it.
    const late = await applyOnce(f, {
      createOllama: recordingOllama(pulls),
      nodes: ['crescendo'],
      onPhase: async (phase) => { if (phase === 'planned') await f.sim.control.setFault('crescendo', 'disk-full'); },
    });
    await f.sim.control.clearFault('crescendo', 'disk-full');
    expect(late.exitCode).toBe(2);
    const step = late.applied?.nodes[0]?.steps.find((s) => s.kind === 'pull-model');
    expect(step).toMatchObject({ status: 'failed', failure: 'disk-space', attempts: 1 });
    expect(step?.status === 'failed' && step.message).toMatch(/not pulling mistral:7b on crescendo: it needs 4\.1 GB plus the 40\.0 GB margin, and only 0\.0 GB is free/);
    expect(pulls).toEqual([]);

    const fixed = await applyOnce(f, { nodes: ['crescendo'] });
    expect(fixed.exitCode).toBe(0);
    expect(await listModels(f, 'crescendo')).toContain('mistral:7b');
  }, 300_000);

  it('runs nothing on a node whose host key changed, and goes on with the others', async () => {
    await f.sim.node('virtuoso').exec('rm -f ~/.symphony/heartbeat.sh');
    await f.sim.node('bob').exec('rm -f ~/.symphony/heartbeat.sh');
    await f.sim.control.setFault('virtuoso', 'host-key-rotated');
    const before = logSizes(f);
    const r = await applyOnce(f);
    await f.sim.control.clearFault('virtuoso', 'host-key-rotated');
    expect(r.exitCode).toBe(2);
    expect(newCommands(f, 'virtuoso', before.virtuoso ?? 0)).toEqual([]);
    expect(r.plan.nodes.find((n) => n.node === 'virtuoso')?.status).toBe('refused');
    expect(r.output).toMatch(/virtuoso: NOT converged/);
    expect((await f.sim.node('bob').exec('test -f ~/.symphony/heartbeat.sh')).code).toBe(0);
    expect((await f.sim.node('virtuoso').exec('test -f ~/.symphony/heartbeat.sh')).code).not.toBe(0);
  }, 300_000);
});

describe('refusals: nothing runs on any node', () => {
  it('refuses an invalid fleet (a hostile model name) before connecting anywhere', async () => {
    const bad = join(f.root, 'bad-fleet');
    await cp(f.fleetDir, bad, { recursive: true });
    await writeFile(join(bad, 'nodes/virtuoso.yaml'), 'name: virtuoso\nrole: full_worker\nhardware: mac-mini-m4-24gb\naddresses: [virtuoso.local]\nstatus: active\nmodels: ["llama3.1:8b$(touch /tmp/fleet-apply-PWNED)"]\n');
    const before = logSizes(f);
    await expect(applyOnce(f, { fleetDir: bad })).rejects.toMatchObject({ code: 'invalid-fleet' });
    expect(logSizes(f)).toEqual(before);
  });

  it('refuses to change anything without --yes when stdin is not a terminal (exit 1), and --dry-run only plans', async () => {
    await f.sim.node('bob').exec('rm -f ~/.symphony/heartbeat.sh');
    const before = logSizes(f);
    const refused = spawnApply(f, []);
    expect(await refused.exit).toBe(1);
    expect(refused.output()).toMatch(/refusing to change nodes without confirmation: stdin is not a terminal/);
    const dry = spawnApply(f, ['--dry-run']);
    expect(await dry.exit).toBe(2);
    expect(dry.output()).toContain('write-file');
    for (const node of Object.keys(before)) expect(newCommands(f, node, before[node] ?? 0).filter(isStateChanging)).toEqual([]);
    const done = spawnApply(f, ['--yes', '--node', 'bob']);
    expect(await done.exit).toBe(0);
    expect((await f.sim.node('bob').exec('test -f ~/.symphony/heartbeat.sh')).code).toBe(0);
  }, 120_000);
});
