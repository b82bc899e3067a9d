// The daemon end to end: a real bare repository as origin, a simulated fleet
// on loopback, the real HTTP side. Merges, invalid revisions, heartbeats, the
// webhook, its own commits, shutdown and restart.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetLockPath } from '../../reconciler/src/reconcile/context.ts';
import { runFleet } from '../cli/run-fleet.ts';
import { createLogger } from '../../reconciler/src/daemon/logger.ts';
import { startDaemon, type RunningDaemon } from '../../reconciler/src/daemon/run-daemon.ts';
import { signGithubBody } from '../../reconciler/src/daemon/webhook.ts';
import { signBeat } from '../../reconciler/src/daemon/heartbeat-auth.ts';
import { request } from 'node:http';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { createOrigin, pushCommit } from '../../reconciler/src/sim/origin.ts';

const repo = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'fleet-daemon-e2e-'));
const origin = join(root, 'origin.git');
const person = join(root, 'alice');
const SECRET = 'e2e-secret';
let sim: SimFleet;
let daemon: RunningDaemon | undefined;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(daemon?.status(), null, 1).slice(0, 3000)}`);
}

/** Alice merges a change: her commit on origin's main (rebased and pushed again if the daemon pushed first). */
async function commitAsAlice(message: string, edit: () => void): Promise<string> {
  return (await pushCommit(person, message, edit)).head;
}

const nodeFile = (name: string): string => join(person, 'fleet', 'nodes', `${name}.yaml`);
const originFile = (path: string): Promise<string> => simpleGit(origin).show([`main:${path}`]);

function start(workdir: string): Promise<RunningDaemon> {
  return startDaemon({
    repo: origin,
    branch: 'main',
    workdir,
    targetsFile: sim.targetsPath,
    http: { host: '127.0.0.1', port: 0 },
    log: createLogger({ level: 'silent' }),
    pollIntervalMs: 300,
    driftCron: '0 0 1 1 *',
    bobHome: join(root, 'bob'),
    webhookSecret: SECRET,
    backoffBaseMs: 50,
  });
}

const inSync = (names: string[]): boolean => names.every((n) => daemon?.status().nodes.some((x) => x.node === n && x.status === 'in-sync'));

beforeAll(async () => {
  sim = await startSimFleet({
    stateDir: join(root, 'sim'),
    specs: [
      { name: 'bob', hardware: 'mac-mini-m4-16gb', role: 'hq', preset: 'fresh' },
      { name: 'stagehand', hardware: 'imac-intel-i5-8gb', role: 'browser_node', preset: 'fresh' },
      { name: 'maestro', hardware: 'imac-27-2019-i9-64gb', role: 'llm_worker', preset: 'provisioned' },
      { name: 'tempo', hardware: 'mac-mini-m4-24gb', role: 'llm_worker', preset: 'fresh' },
    ],
    preset: 'fresh',
    ollama: { pullBytesPerSecond: 50e9, progressIntervalMs: 20 },
    controlEndpoint: false,
    cron: false,
  });
  // origin: the repository's fleet (bob, maestro, stagehand); Alice's clone in root/alice.
  const made = await createOrigin(root, join(repo, 'fleet'));
  expect(made).toEqual({ origin, person });
  daemon = await start(join(root, 'fleetd'));
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await sim?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('fleet daemon', () => {
  it('converges the fleet on start and commits generated/ to origin', async () => {
    await waitFor('first convergence', () => inSync(['bob', 'maestro', 'stagehand']));
    await waitFor('the generated commit', async () => (await simpleGit(origin).raw(['log', '--format=%an', 'main'])).includes('Symphony Fleet'));
    const registry = JSON.parse(await originFile('generated/nodes_registry.json')) as { nodes: { node_id: string; status: string }[] };
    expect(registry.nodes.map((n) => n.node_id)).toEqual(['bob', 'maestro', 'stagehand']);
    expect(await originFile('generated/openclaw_workers.json')).toContain('bob_local');
  }, 180_000);

  it('does not reconcile again because of its own commits', async () => {
    await daemon!.idle();
    const before = daemon!.status().reconciles;
    await new Promise((r) => setTimeout(r, 2000)); // several poll intervals
    expect(daemon!.status().reconciles).toBe(before);
  }, 180_000);

  it('converges a node added by a merged commit and pushes its registry entry', async () => {
    const head = await commitAsAlice('fleet: add tempo', () => {
      writeFileSync(nodeFile('tempo'), 'name: tempo\nrole: llm_worker\nhardware: mac-mini-m4-24gb\naddresses: [tempo.local]\nstatus: active\n');
    });
    await waitFor('tempo in sync', () => inSync(['tempo']) && daemon!.status().revision === head);
    await waitFor('tempo in the pushed registry', async () => (await originFile('generated/nodes_registry.json')).includes('"tempo"'));
    const log = await simpleGit(origin).raw(['log', '-1', '--format=%an|%s', 'main']);
    expect(log).toMatch(/^Symphony Fleet\|generated: .*tempo active, models /);
  }, 180_000);

  it('keeps the last good revision when a commit is invalid, touches no node, and reports it', async () => {
    await daemon!.idle();
    const good = daemon!.status().revision;
    const logBefore = sim.commandLog('stagehand').length;
    const bad = await commitAsAlice('fleet: stagehand gets a role that does not exist', () => {
      writeFileSync(nodeFile('stagehand'), readFileSync(nodeFile('stagehand'), 'utf8').replace('role: browser_node', 'role: llm_wrker'));
    });
    await waitFor('the invalid revision to be reported', () => daemon!.status().invalid?.revision === bad);
    expect(daemon!.status().revision).toBe(good);
    expect(daemon!.status().invalid?.problems.map((p) => p.file)).toContain('fleet/nodes/stagehand.yaml');
    const res = await fetch(`${daemon!.url}/api/status`);
    const status = (await res.json()) as { invalid: { revision: string } | null };
    expect(status.invalid?.revision).toBe(bad);
    const metrics = await (await fetch(`${daemon!.url}/metrics`)).text();
    expect(metrics).toContain(`fleet_invalid_revision{revision="${bad}"} 1`);
    // Nothing that changes state ran on stagehand because of the bad revision.
    const since = sim.commandLog('stagehand').slice(logBefore);
    expect(since.filter((c) => /brew' install|scutil --set|crontab -$|launchctl bootstrap/.test(c))).toEqual([]);

    const fixed = await commitAsAlice('fleet: fix the role', () => {
      writeFileSync(nodeFile('stagehand'), readFileSync(nodeFile('stagehand'), 'utf8').replace('role: llm_wrker', 'role: browser_node'));
    });
    await waitFor('the fixing commit', () => daemon!.status().revision === fixed && daemon!.status().invalid === null);
    expect(await (await fetch(`${daemon!.url}/metrics`)).text()).not.toContain(`revision="${bad}"} 1`);
  }, 180_000);

  it('refuses a webhook with a bad signature and reconciles at once on a good one', async () => {
    await daemon!.idle();
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const before = daemon!.status().reconciles;
    const bad = await fetch(`${daemon!.url}/hooks/github`, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': signGithubBody('wrong', body) }, body });
    expect(bad.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(daemon!.status().reconciles).toBe(before);
    const good = await fetch(`${daemon!.url}/hooks/github`, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': signGithubBody(SECRET, body) }, body });
    expect(good.status).toBe(202);
    await waitFor('the webhook reconcile', () => daemon!.status().reconciles > before);
  }, 180_000);

  it('a signed heartbeat that moves an IP regenerates and commits within seconds, naming the change (issue 12); a forged one changes nothing', async () => {
    await daemon!.idle();
    const key = Buffer.from(readFileSync(join(root, 'bob', '.symphony', 'node-secrets', 'stagehand.key'), 'utf8').trim(), 'hex');
    const send = (ip: string, from: string, k: Buffer): Promise<number> => new Promise((resolve, reject) => {
      const body = JSON.stringify({ node_id: 'stagehand', ip, timestamp: new Date().toISOString() });
      const ts = Math.floor(Date.now() / 1000);
      const req = request(`${daemon!.url}/api/heartbeat`, { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'x-symphony-timestamp': String(ts), 'x-symphony-signature': signBeat(k, ts, body) } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end(body);
    });
    expect(await send('127.0.8.8', '127.0.8.8', Buffer.alloc(32, 1))).toBe(401);
    expect(await send('127.0.9.9', '127.0.9.9', key)).toBe(200);
    await waitFor('the new IP in origin', async () => (await originFile('generated/nodes_registry.json')).includes('127.0.9.9'));
    const message = await simpleGit(origin).raw(['log', '--format=%B', 'main']);
    expect(message).toMatch(/stagehand: IP [0-9.]+ -> 127\.0\.9\.9/);
    expect(await originFile('generated/nodes_registry.json')).not.toContain('127.0.8.8');
  }, 180_000);

  it('fleet status reads a running daemon, and observes directly when none answers', async () => {
    await daemon!.idle();
    const live = await runFleet(['status', '--url', daemon!.url]);
    expect(live.stderr).toBe('');
    expect(live.stdout).toMatch(/^revision [0-9a-f]{40}/);
    expect(live.stdout).toMatch(/tempo\s+in-sync/);
    const none = await runFleet(['status', '--url', 'http://127.0.0.1:9', '--fleet', join(person, 'fleet'), '--targets', sim.targetsPath]);
    expect(none.stderr).toContain('no daemon answered');
    expect(none.stdout).toMatch(/tempo/);
    expect(none.stdout).toContain(sim.targetsPath);
  }, 180_000);

  it('stops cleanly mid-run, releases the lock, and converges after a restart', async () => {
    await daemon!.idle();
    const workdir = join(root, 'fleetd');
    await commitAsAlice('fleet: tempo also serves llama3.2:3b', () => {
      writeFileSync(nodeFile('tempo'), readFileSync(nodeFile('tempo'), 'utf8').replace('status: active\n', 'status: active\nmodels: [llama3.2:3b]\n'));
    });
    daemon!.trigger('webhook');
    await waitFor('a running reconcile', () => daemon!.status().last?.result === 'running', 10_000);
    await daemon!.stop();
    expect(existsSync(fleetLockPath(join(root, 'bob')))).toBe(false);
    daemon = await start(workdir);
    await waitFor('convergence after restart', () => inSync(['tempo']) && daemon!.status().nodes.length === 4);
    const tags = await (await fetch(`${sim.targets.nodes.tempo?.ollama_url ?? ''}/api/tags`)).json() as { models: { name: string }[] };
    const originLog = await simpleGit(origin).raw(['log', '--format=%h %an %s', 'main']);
    expect(tags.models.map((m) => m.name), `${JSON.stringify(daemon.status(), null, 1)}\n${originLog}`).toContain('llama3.2:3b');
  }, 180_000);
});
