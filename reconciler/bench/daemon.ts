// npm run bench:daemon: how fast the daemon reacts to a merge, and how much
// memory it needs. The daemon runs as a child process (`fleet daemon`) so its
// RSS is its own; the simulated Macs run in this process, on 127.0.x.y only.
//  1. A small fleet, polling every hour: push a commit adding a factory-fresh
//     node and send the signed push webhook -> time to the reconcile's start,
//     and to the new node converged.
//  2. BENCH_DAEMON_NODES (default 100) provisioned browser nodes, polling every
//     second: RSS after the first reconcile; push a commit adding one more node
//     without a webhook -> time to the reconcile's start and to converged.
// Targets: a reconcile starts within 2 s of a push; RSS under 120 MB after
// the first reconcile and after the poll run. `fleet daemon` re-executes
// itself at start with its V8 flags (src/daemon/relaunch.ts), under the same
// pid: the figures, peak (VmHWM) included, are that final process image's.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedNodeNames } from '../src/sim/fleet-source.ts';
import { startSimFleet, type SimFleet } from '../src/sim/fleet.ts';
import {
  createOrigin,
  isSettled,
  nodesInSync,
  pushCommit,
  readNodeFlags,
  readRssMb,
  REPO_ROOT,
  sleep,
  startDaemonChild,
  waitUntil,
  type DaemonChild,
} from './daemon-child.ts';

process.env.FLEET_LOOPBACK_ONLY = '1';
const NODES = Number(process.env.BENCH_DAEMON_NODES ?? 100);
const PHASE_TIMEOUT_MS = Number(process.env.BENCH_DAEMON_TIMEOUT_S ?? 120) * 1000;
const START_TARGET_MS = 2000;
const RSS_TARGET_MB = 120;
const SECRET = 'bench-secret';

const nodeYaml = (name: string, role: string, hardware: string): string =>
  `name: ${name}\nrole: ${role}\nhardware: ${hardware}\naddresses: [${name}.local]\nstatus: active\n`;

interface Timing { startMs: number; convergeMs: number; pushMs: number; reasons: string }

/** Pushes a commit adding `name`, optionally sends the webhook, and times the start of the reconcile and convergence. */
async function timeNewNode(daemon: DaemonChild, person: string, name: string, yaml: string, webhook: boolean): Promise<Timing> {
  await waitUntil('the daemon to be idle', PHASE_TIMEOUT_MS, async () => isSettled(await daemon.status()), 200);
  await sleep(1500); // past a poll tick: nothing else pending
  const before = await daemon.status();
  const { head, pushStartedAt, pushMs } = await pushCommit(person, `fleet: add ${name}`, () => {
    writeFileSync(join(person, 'fleet', 'nodes', `${name}.yaml`), yaml);
  });
  if (webhook) {
    const code = await daemon.sendWebhook(head);
    if (code !== 202) throw new Error(`webhook answered ${code}`);
  }
  let startedAt = 0;
  let reasons = '';
  await waitUntil('the reconcile to start', PHASE_TIMEOUT_MS, async () => {
    const s = await daemon.status();
    const t = s.last ? Date.parse(s.last.started_at) : 0;
    if (s.last && t >= pushStartedAt && (s.reconciles > before.reconciles || s.last.result === 'running')) {
      startedAt = t;
      reasons = s.last.reasons.join(',');
      return true;
    }
    return false;
  }, 20);
  await waitUntil(`${name} to converge`, PHASE_TIMEOUT_MS, async () => {
    const s = await daemon.status();
    return s.revision === head && nodesInSync(s, [name]);
  }, 50);
  return { startMs: startedAt - pushStartedAt, convergeMs: Date.now() - pushStartedAt, pushMs, reasons };
}

async function phaseWebhook(root: string): Promise<Timing> {
  let sim: SimFleet | undefined;
  let daemon: DaemonChild | undefined;
  try {
    sim = await startSimFleet({
      stateDir: join(root, 'sim'),
      specs: [
        { name: 'bob', hardware: 'mac-mini-m4-16gb', role: 'hq', preset: 'provisioned' },
        { name: 'maestro', hardware: 'imac-27-2019-i9-64gb', role: 'llm_worker', preset: 'provisioned' },
        { name: 'stagehand', hardware: 'imac-intel-i5-8gb', role: 'browser_node', preset: 'provisioned' },
        { name: 'tempo', hardware: 'mac-mini-m4-24gb', role: 'full_worker', preset: 'fresh' },
      ],
      ollama: { pullBytesPerSecond: 50e9, progressIntervalMs: 20 },
      controlEndpoint: false,
      cron: false,
    });
    const { origin, person } = await createOrigin(root, join(REPO_ROOT, 'fleet'));
    // Polling once an hour: only the webhook can start the reconcile quickly.
    daemon = await startDaemonChild({ origin, targetsFile: sim.targetsPath, workdir: join(root, 'fleetd'), pollIntervalS: 3600, webhookSecret: SECRET });
    const d = daemon;
    await waitUntil('the first convergence', PHASE_TIMEOUT_MS, async () => nodesInSync(await d.status(), ['bob', 'maestro', 'stagehand']), 200);
    return await timeNewNode(d, person, 'tempo', nodeYaml('tempo', 'full_worker', 'mac-mini-m4-24gb'), true);
  } finally {
    await daemon?.stop();
    await sim?.stop();
  }
}

interface PollResult extends Timing { firstReconcileMs: number; rssAtStart: number; rssAfterFirst: { rss: number; peak: number }; rssAfterPush: { rss: number; peak: number }; inSync: number; nodeFlags: string[] }

async function phasePoll(root: string): Promise<PollResult> {
  const simFleet = join(root, 'sim-fleet');
  cpSync(join(REPO_ROOT, 'fleet'), simFleet, { recursive: true });
  writeFileSync(join(simFleet, 'known_hosts'), '');
  const names = generatedNodeNames(NODES + 1);
  const extra = names[NODES] ?? 'extra';
  for (const name of names) writeFileSync(join(simFleet, 'nodes', `${name}.yaml`), nodeYaml(name, 'browser_node', 'imac-intel-i5-8gb'));
  let sim: SimFleet | undefined;
  let daemon: DaemonChild | undefined;
  try {
    sim = await startSimFleet({ stateDir: join(root, 'sim'), fromDir: simFleet, preset: 'provisioned', controlEndpoint: false, cron: false, ollama: { pullBytesPerSecond: 50e9, progressIntervalMs: 20 } });
    // origin lacks the last node: the push adds it.
    rmSync(join(simFleet, 'nodes', `${extra}.yaml`));
    const { origin, person } = await createOrigin(root, simFleet);
    const t0 = Date.now();
    daemon = await startDaemonChild({ origin, targetsFile: sim.targetsPath, workdir: join(root, 'fleetd'), pollIntervalS: 1, webhookSecret: SECRET });
    const d = daemon;
    const rssAtStart = readRssMb(d.pid).rss;
    const nodeFlags = readNodeFlags(d.pid);
    await waitUntil('the first reconcile', PHASE_TIMEOUT_MS * 3, async () => isSettled(await d.status()), 500);
    const firstReconcileMs = Date.now() - t0;
    const rssAfterFirst = readRssMb(d.pid);
    const timing = await timeNewNode(d, person, extra, nodeYaml(extra, 'browser_node', 'imac-intel-i5-8gb'), false);
    const rssAfterPush = readRssMb(d.pid);
    const inSync = (await d.status()).nodes.filter((n) => n.status === 'in-sync').length;
    return { ...timing, firstReconcileMs, rssAtStart, rssAfterFirst, rssAfterPush, inSync, nodeFlags };
  } finally {
    await daemon?.stop();
    await sim?.stop();
  }
}

const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const fmtMb = (mb: number): string => `${mb.toFixed(1)} MB`;
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');

const root = mkdtempSync(join(tmpdir(), 'daemon-bench-'));
try {
  const concurrency = /concurrency: (\d+)/.exec(readFileSync(join(REPO_ROOT, 'fleet', 'fleet.yaml'), 'utf8'))?.[1] ?? '?';
  const hook = await phaseWebhook(join(root, 'webhook'));
  const poll = await phasePoll(join(root, 'poll'));
  const rows: [string, string, string][] = [
    ['push -> reconcile start, webhook (poll 1 h)', fmtS(hook.startMs), `<= 2 s ${verdict(hook.startMs <= START_TARGET_MS)}`],
    ['push -> reconcile start, poll only (1 s)', fmtS(poll.startMs), `<= 2 s ${verdict(poll.startMs <= START_TARGET_MS)}`],
    ['push -> converged, new factory-fresh full_worker', fmtS(hook.convergeMs), ''],
    [`push -> converged, new provisioned node, ${NODES + 4} nodes`, fmtS(poll.convergeMs), ''],
    [`daemon start -> first reconcile done, ${NODES + 3} nodes`, fmtS(poll.firstReconcileMs), `concurrency ${concurrency}`],
    ['daemon RSS when /api/health first answers', fmtMb(poll.rssAtStart), ''],
    [`daemon RSS after first reconcile (${NODES + 3} nodes)`, fmtMb(poll.rssAfterFirst.rss), `< ${RSS_TARGET_MB} MB ${verdict(poll.rssAfterFirst.rss < RSS_TARGET_MB)}`],
    ['daemon RSS after the poll run', fmtMb(poll.rssAfterPush.rss), `< ${RSS_TARGET_MB} MB ${verdict(poll.rssAfterPush.rss < RSS_TARGET_MB)}`],
    ['daemon peak RSS (VmHWM), start to end of the poll run', fmtMb(poll.rssAfterPush.peak), `(${poll.rssAfterPush.peak < RSS_TARGET_MB ? 'under' : 'over'} ${RSS_TARGET_MB} MB)`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`daemon bench: ${NODES} simulated browser nodes + bob, maestro, stagehand; daemon as a child process`);
  for (const [what, value, target] of rows) console.log(`${what.padEnd(w)}  ${value.padStart(18)}  ${target}`);
  console.log(`(git push itself: ${hook.pushMs} ms and ${poll.pushMs} ms; trigger reasons: ${hook.reasons} / ${poll.reasons}; ${poll.inSync} nodes in sync at the end)`);
  console.log(`(the daemon ran with Node flags: ${poll.nodeFlags.join(' ') || 'none'})`);
  const ok = hook.startMs <= START_TARGET_MS && poll.startMs <= START_TARGET_MS && poll.rssAfterFirst.rss < RSS_TARGET_MB && poll.rssAfterPush.rss < RSS_TARGET_MB;
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
