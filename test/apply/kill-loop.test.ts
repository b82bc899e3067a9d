// Kill `fleet apply` (SIGKILL, a separate process) at random points, again and
// again: the next apply always converges, and no managed file on a node or on
// Bob is ever half written (each is absent, the old one, or the whole new one).
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Ollama } from 'ollama';
import { parse as parsePlist } from 'plist';
import { MANAGED_FILES } from '../../reconciler/src/schema/observed.ts';
import { validateGenerated } from '../../reconciler/src/generate/validate-generated.ts';
import { applyOnce, desiredModels, listModels, spawnApply, startTestFleet, type TestFleet } from './sim-helpers.ts';
import { HEARTBEAT_CRON_LINE, HEARTBEAT_MARKER, MANAGED_PATHS } from '../../reconciler/src/model/mac-layout.ts';

const ROUNDS = Number(process.env.APPLY_KILL_ROUNDS ?? 20);
// An apply sometimes finishes before its random kill point: run rounds until ROUNDS kills landed, within a bound.
const MAX_ROUNDS = ROUNDS * 2;
const NODES = ['bob', 'virtuoso'];
let f: TestFleet;

beforeAll(async () => {
  f = await startTestFleet('bob-and-one-worker', { prefix: 'apply-kill-', rename: { maestro: 'virtuoso', stagehand: 'virtuoso' } });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await rm(f?.root ?? '/nonexistent', { recursive: true, force: true });
});

type Snapshot = Record<string, Record<string, string | null>>;

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function managedFiles(): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const node of NODES) {
    const home = f.sim.node(node).paths.home;
    out[node] = {};
    for (const id of MANAGED_FILES) out[node][id] = await readText(join(home, MANAGED_PATHS[id]));
  }
  return out;
}

/** Files that must parse whenever they exist (checked after every kill, before any reference is known). */
function checkParses(s: Snapshot): void {
  for (const [node, files] of Object.entries(s)) {
    const plist = files.launchd_plist;
    if (plist != null) expect(() => parsePlist(plist), `${node} plist`).not.toThrow();
    const reg = files.self_registration;
    if (reg != null) expect(JSON.parse(reg), `${node} self_registration`).toMatchObject({ node_id: node });
    const env = files.ollama_env;
    if (env != null) expect(env, `${node} ollama.env`).toMatch(/^(OLLAMA_[A-Z_]+=\S+\n)+$/);
    const hb = files.heartbeat_script;
    if (hb != null) expect(hb.endsWith('\n') && hb.startsWith('#!/bin/bash'), `${node} heartbeat.sh`).toBe(true);
  }
}

async function checkBobFiles(): Promise<void> {
  for (const path of [join(f.generatedDir, 'nodes_registry.json'), join(f.bobHome, '.symphony/registry/nodes_registry.json'), join(f.generatedDir, 'openclaw_workers.json'), join(f.bobHome, '.symphony/openclaw_workers.json')]) {
    const text = await readText(path);
    if (text !== null) expect(() => JSON.parse(text) as unknown, path).not.toThrow();
  }
  const reg = await readText(join(f.generatedDir, 'nodes_registry.json'));
  const workers = await readText(join(f.generatedDir, 'openclaw_workers.json'));
  if (reg !== null && workers !== null) expect(validateGenerated({ nodes_registry: JSON.parse(reg), openclaw_workers: JSON.parse(workers) })).toEqual([]);
}

async function checkCrontab(node: string): Promise<void> {
  const lines = (await f.sim.node(node).exec('crontab -l')).stdout.split('\n').filter((l) => l !== '');
  const ours = lines.filter((l) => l.includes('heartbeat.sh'));
  expect(ours.length, `${node} heartbeat lines`).toBeLessThanOrEqual(1);
  if (ours.length === 1) expect(lines.slice(-2), `${node} crontab tail`).toEqual([HEARTBEAT_MARKER, HEARTBEAT_CRON_LINE]);
}

async function tempLeftovers(): Promise<string[]> {
  const found: string[] = [];
  for (const node of NODES) {
    const home = f.sim.node(node).paths.home;
    for (const dir of ['.ollama', '.symphony', '.symphony/registry', 'Library/LaunchAgents']) {
      const entries = await readdir(join(home, dir)).catch(() => [] as string[]);
      found.push(...entries.filter((e) => e.includes('.tmp.')).map((e) => `${node}:${dir}/${e}`));
    }
  }
  return found;
}

/** Undo some of a converged node, at random, so the next apply has work to be killed in. */
async function damage(round: number): Promise<void> {
  const v = f.sim.node('virtuoso');
  const pick = round % 4;
  if (pick === 0 || pick === 3) await v.exec('rm -f ~/.ollama/ollama.env ~/Library/LaunchAgents/com.symphony.ollama.plist ~/.symphony/registry/self_registration.json');
  if (pick === 1 || pick === 3) await new Ollama({ host: f.sim.targets.nodes.virtuoso?.ollama_url ?? '' }).delete({ model: 'llama3.2:3b' });
  if (pick === 2 || pick === 3) await v.exec('printf "%s\\n" "MAILTO=\\"\\"" | crontab -; rm -f ~/.symphony/heartbeat.sh');
  await f.sim.node('bob').exec('rm -f ~/.symphony/harpa_setup_instructions.txt');
}

const STEP_LINE = /^(ok|FAILED|MANUAL|skipped|retry|pulling) /gm;

/**
 * How long an apply ran when a kill came too late: the next kills are drawn
 * within it, so they land mid-run however fast this machine applies.
 */
const span = { start: 2500, plan: 3000, lines: 14 };

/** Kills the apply after a random number of step lines, a random time after its plan, or a random time after its start. */
async function killSomewhere(round: number): Promise<string> {
  const run = spawnApply(f);
  const mode = round % 5 === 4 ? 'start' : round % 2 === 1 ? 'lines' : 'plan';
  const lines = 1 + Math.floor(Math.random() * span.lines);
  const delay = Math.floor(Math.random() * (mode === 'start' ? span.start : span.plan));
  const started = Date.now();
  let planAt: number | undefined;
  let how = '';
  while (run.child.exitCode === null && run.child.signalCode === null) {
    const out = run.output();
    if (planAt === undefined && out.includes('fleet plan:')) planAt = Date.now();
    const seen = out.match(STEP_LINE)?.length ?? 0;
    const due = mode === 'lines' ? seen >= lines : mode === 'plan' ? planAt !== undefined && Date.now() - planAt >= delay : Date.now() - started >= delay;
    if (due) {
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
      how = `after ${seen} step lines, ${Date.now() - started} ms (${mode})`;
      run.child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const code = await run.exit;
  if (how === '') {
    const seen = run.output().match(STEP_LINE)?.length ?? 0;
    span.start = Math.max(150, Math.min(span.start, Date.now() - started));
    if (planAt !== undefined) span.plan = Math.max(100, Math.min(span.plan, Date.now() - planAt));
    if (seen > 0) span.lines = Math.min(span.lines, seen);
  }
  return how === '' ? `finished first (exit ${String(code)})` : how;
}

it(`converges after being killed at ${ROUNDS} random points, never leaving a half-written file`, async () => {
  let reference: Snapshot | undefined;
  const pending: Snapshot[] = [];
  const log: string[] = [];
  const kills = (): number => log.filter((l) => l.includes('killed after')).length;
  for (let round = 0; kills() < ROUNDS && round < MAX_ROUNDS; round++) {
    if (round > 0) await damage(round);
    log.push(`round ${round}: killed ${await killSomewhere(round)}`);
    const afterKill = await managedFiles();
    checkParses(afterKill);
    await checkBobFiles();
    for (const node of NODES) await checkCrontab(node);
    if (reference) {
      for (const node of NODES) {
        for (const id of MANAGED_FILES) {
          const seen = afterKill[node]?.[id];
          if (seen != null) expect(seen, `${node} ${id} after round ${round}`).toBe(reference[node]?.[id]);
        }
      }
    } else {
      pending.push(afterKill);
    }

    const next = await applyOnce(f);
    expect(next.exitCode, `${log.join('\n')}\n${next.output}`).toBe(0);
    expect(await tempLeftovers()).toEqual([]);
    if (!reference) {
      reference = await managedFiles();
      // What earlier kills left must be exactly the files as converged (or absent).
      for (const s of pending) {
        for (const node of NODES) for (const id of MANAGED_FILES) if (s[node]?.[id] != null) expect(s[node]?.[id]).toBe(reference[node]?.[id]);
      }
    }
  }
  const want = desiredModels(f.desired);
  for (const node of NODES) expect(await listModels(f, node)).toEqual([...(want[node] ?? [])].sort());
  // The kills must have landed in the middle of things, not only before or after.
  expect(kills(), log.join('\n')).toBeGreaterThanOrEqual(ROUNDS);
  console.log(log.join('\n'));
}, 30 * 60_000);

it('on SIGTERM finishes the running step, skips the rest, exits 2, and the next apply converges', async () => {
  await damage(3);
  const run = spawnApply(f);
  while ((run.output().match(STEP_LINE)?.length ?? 0) < 2 && run.child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  run.child.kill('SIGTERM');
  const code = await run.exit;
  expect(run.output()).toMatch(/SIGTERM: finishing the running step/);
  expect(run.output()).toMatch(/fleet apply: interrupted/);
  expect(code).toBe(2);
  // The lock was released on the way out: the next apply takes it without a stale-lock takeover.
  const next = await applyOnce(f);
  expect(next.exitCode).toBe(0);
  expect(await tempLeftovers()).toEqual([]);
}, 10 * 60_000);
