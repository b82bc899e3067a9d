// npm run soak -- --minutes M (default 2): the daemon (a child process) on a
// simulated fleet of four Macs while faults come and go on random nodes and
// random commits land on origin (valid ones, and now and then an invalid one
// followed by its fix). Every 10 s: reconciles, results, RSS, health. Exits 1
// if the daemon died or stopped answering /api/health, else 0.
// SOAK_SEED=n replays a run's random choices.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from '../src/sim/faults.ts';
import { startSimFleet, type SimFleet } from '../src/sim/fleet.ts';
import { createOrigin, nodesInSync, pushCommit, readRssMb, REPO_ROOT, sleep, startDaemonChild, type DaemonChild } from './daemon-child.ts';

process.env.FLEET_LOOPBACK_ONLY = '1';
const { values: flags } = parseArgs({ options: { minutes: { type: 'string', default: '2' } } });
const minutes = Number(flags.minutes);
if (!(minutes > 0 && minutes <= 24 * 60)) {
  console.error(`soak: --minutes ${JSON.stringify(flags.minutes)} must be a number of minutes between 0 and 1440`);
  process.exit(2);
}
const SAMPLE_MS = 10_000;
const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
// clock-skew moves the node's clock: schedules and timestamps stop meaning anything.
const KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'clock-skew');
const NODES = ['bob', 'maestro', 'stagehand', 'tempo'] as const;

/** mulberry32: small, seedable, good enough to pick actions. */
function createRandom(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = createRandom(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Counts of fleet_reconciles_total by result. */
function reconcilesByResult(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^fleet_reconciles_total\{result="([^"]+)"\} (\d+)/gm)) out[m[1] ?? '?'] = Number(m[2]);
  return out;
}

const root = mkdtempSync(join(tmpdir(), 'fleet-soak-'));
let sim: SimFleet | undefined;
let daemon: DaemonChild | undefined;
// A holder: set from inside the sampling closure.
const outcome: { crashed: string | null } = { crashed: null };
try {
  const fleetDir = join(root, 'fleet');
  cpSync(join(REPO_ROOT, 'fleet'), fleetDir, { recursive: true });
  writeFileSync(join(fleetDir, 'nodes', 'tempo.yaml'), 'name: tempo\nrole: full_worker\nhardware: mac-mini-m4-24gb\naddresses: [tempo.local]\nstatus: active\nnotes: soak worker\n');
  // A short backoff cap so nodes come back within the soak once their fault clears.
  writeFileSync(join(fleetDir, 'fleet.yaml'), readFileSync(join(fleetDir, 'fleet.yaml'), 'utf8').replace(/backoff_max_s: \d+/, 'backoff_max_s: 20'));
  sim = await startSimFleet({
    stateDir: join(root, 'sim'),
    fromDir: fleetDir,
    preset: 'provisioned',
    controlEndpoint: false,
    cron: false,
    ollama: { pullBytesPerSecond: 20e9, progressIntervalMs: 50 },
  });
  const { origin, person } = await createOrigin(root, fleetDir);
  const secret = 'soak-secret';
  daemon = await startDaemonChild({ origin, targetsFile: sim.targetsPath, workdir: join(root, 'fleetd'), pollIntervalS: 2, webhookSecret: secret, driftCron: '*/20 * * * * *' });
  const d = daemon;
  const s = sim;
  console.log(`soak: ${minutes} min, seed ${seed}, daemon pid ${d.pid} at ${d.url}, nodes ${NODES.join(' ')}, faults ${KINDS.join(' ')}`);

  const nodeFile = (n: string): string => join(person, 'fleet', 'nodes', `${n}.yaml`);
  const edit = (n: string, change: (text: string) => string) => (): void => writeFileSync(nodeFile(n), change(readFileSync(nodeFile(n), 'utf8')));
  const active = new Map<string, FaultKind>();
  const actions = { faultsSet: 0, faultsCleared: 0, commits: 0, invalidCommits: 0 };

  async function act(): Promise<void> {
    const r = random();
    if (r < 0.4) {
      const node = pick(NODES);
      const current = active.get(node);
      if (current) {
        await s.control.clearFault(node, current);
        active.delete(node);
        actions.faultsCleared += 1;
      } else {
        const kind = pick(KINDS);
        await s.control.setFault(node, kind, kind === 'slow' ? { ms: 200 } : kind === 'pull-fail' ? { afterFraction: 0.4 } : {});
        active.set(node, kind);
        actions.faultsSet += 1;
      }
    } else if (r < 0.85) {
      if (random() < 0.5) {
        // tempo (24 GB Apple Silicon) can also serve mistral:7b.
        await pushCommit(person, 'fleet: toggle mistral:7b on tempo', edit('tempo', (t) => (t.includes('models:') ? t.replace(/models: \[mistral:7b\]\n/, '') : `${t}models: [mistral:7b]\n`)));
      } else {
        const node = pick(NODES);
        await pushCommit(person, `fleet: notes of ${node}`, edit(node, (t) => `${t.replace(/^notes:.*\n?/m, '')}notes: soak note ${Math.floor(random() * 1e6)}\n`));
      }
      actions.commits += 1;
      if (random() < 0.3) await d.sendWebhook('soak');
    } else {
      await pushCommit(person, 'fleet: stagehand gets a role that does not exist', edit('stagehand', (t) => t.replace('role: browser_node', 'role: llm_wrker')));
      actions.invalidCommits += 1;
      await sleep(2000 + random() * 3000);
      await pushCommit(person, 'fleet: fix the role', edit('stagehand', (t) => t.replace('role: llm_wrker', 'role: browser_node')));
      actions.commits += 1;
    }
  }

  const endAt = Date.now() + minutes * 60_000;
  let nextSample = Date.now() + SAMPLE_MS;
  let previous: Record<string, number> = {};
  let healthMisses = 0;
  const rssSamples: number[] = [];
  const sample = async (): Promise<void> => {
    const exit = d.exited();
    if (exit) {
      outcome.crashed = `the daemon exited (${JSON.stringify(exit)}): ${d.stderrTail()}`;
      return;
    }
    const healthy = await d.health(5000);
    healthMisses = healthy ? 0 : healthMisses + 1;
    if (healthMisses >= 3) {
      outcome.crashed = 'the daemon stopped answering /api/health (3 samples in a row)';
      return;
    }
    const { rss } = readRssMb(d.pid);
    rssSamples.push(rss);
    const counts = healthy ? reconcilesByResult(await d.metrics()) : previous;
    const delta = Object.entries(counts).map(([k, v]) => `${k}+${v - (previous[k] ?? 0)}`).join(' ');
    previous = counts;
    const status = healthy ? await d.status() : null;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const elapsed = Math.round((Date.now() - (endAt - minutes * 60_000)) / 1000);
    console.log(`t=${String(elapsed).padStart(4)}s reconciles=${total} (${delta || 'none'}) last=${status?.last?.result ?? '-'} invalid=${status?.invalid ? 'yes' : 'no'} nodesNotInSync=${status ? status.nodes.filter((n) => n.status !== 'in-sync').map((n) => `${n.node}:${n.status}`).join(',') || '0' : '-'} faults=[${[...active].map(([n, k]) => `${n}:${k}`).join(' ')}] rss=${rss.toFixed(1)}MB health=${healthy ? 'ok' : 'MISS'}`);
  };

  // Bounded: ends at endAt, or at the first sign of a crash.
  while (Date.now() < endAt && !outcome.crashed) {
    await act().catch((err: unknown) => console.log(`  action failed (not the daemon): ${err instanceof Error ? err.message : String(err)}`));
    const until = Math.min(endAt, Date.now() + 1000 + random() * 5000);
    while (Date.now() < until && !outcome.crashed) {
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += SAMPLE_MS;
      }
      await sleep(200);
    }
  }

  if (!outcome.crashed) {
    // Clear every fault and give the daemon a bounded time to converge again (reported, not a failure).
    for (const [node, kind] of active) await s.control.clearFault(node, kind);
    active.clear();
    await sample();
    let converged = false;
    const deadline = Date.now() + 60_000;
    while (!outcome.crashed && !converged && Date.now() < deadline) {
      await d.sendWebhook('soak-end');
      await sleep(3000);
      const st = await d.status();
      converged = st.invalid === null && st.last?.result !== 'running' && nodesInSync(st, NODES);
    }
    const totals = reconcilesByResult(await d.metrics());
    console.log('summary:');
    console.log(`  minutes ${minutes}, seed ${seed}`);
    console.log(`  actions: ${actions.faultsSet} faults set, ${actions.faultsCleared} cleared, ${actions.commits} valid commits, ${actions.invalidCommits} invalid commits (each then fixed)`);
    console.log(`  reconciles by result: ${Object.entries(totals).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    console.log(`  RSS MB: min ${Math.min(...rssSamples).toFixed(1)}, max ${Math.max(...rssSamples).toFixed(1)}, last ${(rssSamples.at(-1) ?? NaN).toFixed(1)}; peak (VmHWM) ${readRssMb(d.pid).peak.toFixed(1)}`);
    console.log(`  all nodes in sync after faults cleared: ${converged ? 'yes' : 'no (within 60 s)'}`);
    console.log('  crashes: 0');
  }
} finally {
  await daemon?.stop();
  await sim?.stop();
  rmSync(root, { recursive: true, force: true });
}
if (outcome.crashed) {
  console.log(`summary: CRASH: ${outcome.crashed}`);
  process.exitCode = 1;
}
