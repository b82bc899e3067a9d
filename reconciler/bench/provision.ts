// npm run bench:provision: how long adding Macs takes when every node pulls
// every model from the internet (today's behaviour, transfer.mode: internet)
// against one internet pull per model and LAN copies (transfer.mode: lan), on
// the same simulated network: one shared internet line (100 Mbit/s) and a LAN
// link per Mac (1 GbE; 10 GbE on a Mac Studio).
//
//   A: 5 factory-fresh Mac minis (24 GB, llm_worker), each wanting the role's models.
//   B: A plus a fresh 64 GB Mac Studio wanting llama3.1:70b, beside a Studio that has it
//      (and lacks the role's models, like the others).
//
// Miniature and accelerated, so a run takes minutes, not hours: every model is
// 1/SCALE of its size (real bytes, real sha256, real SSH between the simulated
// Macs) and every link runs at ACCEL/SCALE of its rate, so a transfer takes
// 1/ACCEL of its full-size time. Provisioning (Homebrew, files, launchd) is not
// scaled: it is measured apart (the same fleet with no models) and counted as is.
// Bob runs `fleet apply` in a child process; the simulated fleet (this process
// and what its Macs run: sshd, zsh, ssh, tail, shasum) is timed apart.
//
// Options: --runs N (3), --quick (A with 3 minis, one run: what CI runs), --scenario A|B,
// --accel X (A: 25, B: 50). Costs that do not scale (an SSH handshake, a process
// start: about half a second per copy on a loaded 2-core machine) weigh X times
// more here than at full size, so a lower X is closer to the real thing and slower.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFleet } from '../src/load/load-fleet.ts';
import { createContext } from '../src/reconcile/context.ts';
import { judgeOutcome } from '../src/reconcile/outcome.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { startSimFleet } from '../src/sim/fleet.ts';
import { readFleetSource } from '../src/sim/fleet-source.ts';
import { writeMiniatureFleet, type MiniatureNode } from '../src/sim/miniature.ts';

process.env.FLEET_LOOPBACK_ONLY = '1';
const HERE = fileURLToPath(import.meta.url);
const TODAY = '2026-11-25';
const LINE_BPS = 100e6 / 8;
const GBE_BPS = 1e9 / 8;

interface Scenario {
  name: 'A' | 'B';
  nodes: MiniatureNode[];
  /** Nodes that start provisioned, with these models. */
  provisioned: Record<string, string[]>;
  /** Nodes whose convergence counts. */
  fresh: string[];
  scale: number;
  accel: number;
}

interface BobJob {
  fleetDir: string;
  targetsFile: string;
  root: string;
}

interface BobResult {
  wallMs: number;
  cpuMs: number;
  converged: string[];
  exitCode: number;
  /** Models no node had: what must cross the internet once. */
  distinctBytes: number;
}

const MINIS = ['cadence', 'harmony', 'overture', 'tempo', 'virtuoso'];

function scenario(name: 'A' | 'B', quick: boolean): Scenario {
  const minis = (quick ? MINIS.slice(0, 3) : MINIS).map((n) => ({ name: n, role: 'llm_worker', hardware: 'mac-mini-m4-24gb' }));
  if (name === 'A') return { name, nodes: minis, provisioned: {}, fresh: minis.map((m) => m.name), scale: 1000, accel: quick ? 100 : 25 };
  return {
    name,
    nodes: [...minis,
      { name: 'crescendo', role: 'llm_worker', hardware: 'mac-studio-m4-max-64gb', models: ['llama3.1:70b'] },
      { name: 'soloist', role: 'llm_worker', hardware: 'mac-studio-m4-max-64gb', models: ['llama3.1:70b'] }],
    // crescendo has the 70B only: the role's models it lacks like the others.
    provisioned: { crescendo: ['llama3.1:70b'] },
    fresh: [...minis.map((m) => m.name), 'soloist'],
    scale: 1000,
    accel: 50,
  };
}

/** This process's CPU and that of the children it has waited for (the simulated Macs' processes), ms. */
function ownCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number);
  const ticks = (fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0);
  return ticks * 10;
}

/** Bob's side, in the child process: `fleet apply --yes`, timed. */
async function runBob(job: BobJob): Promise<BobResult> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const loaded = await loadFleet(job.fleetDir, { today: TODAY });
  if (!loaded.desired) throw new Error('bench fleet is invalid');
  const ctx = await createContext({ generatedDir: join(job.root, 'generated'), targetsFile: job.targetsFile });
  const r = await reconcile(ctx, { desired: loaded.desired, prune: false, today: TODAY, dryRun: false });
  const c = process.cpuUsage(c0);
  const after = r.after ?? r.plan;
  return {
    wallMs: performance.now() - t0,
    cpuMs: (c.user + c.system) / 1000,
    converged: after.nodes.filter((n) => n.status === 'in-sync').map((n) => n.node),
    exitCode: judgeOutcome(r).exitCode,
    distinctBytes: (r.plan.transfers ?? []).reduce((n, t) => n + (t.internet.length > 0 ? t.bytes : 0), 0),
  };
}

function bobChild(job: BobJob): Promise<BobResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERE, '--bob', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as BobResult);
      } catch {
        reject(new Error(`Bob's apply exited ${code}: ${out.slice(-2000)}`));
      }
    });
  });
}

interface Measured {
  mode: 'internet' | 'lan' | 'provision-only';
  wallS: number;
  internetBytes: number;
  lanBytes: number;
  fleetCpuS: number;
  bobCpuS: number;
  converged: boolean;
  distinctBytes: number;
  /** The longest a node's own LAN link needs for what it receives (s at the simulated rate). */
  slowestNodeLanS: number;
}

const TRANSFER = {
  internet: '  mode: internet\n',
  // The defaults: one internet pull at once, up to 4 copies per source (one per link's worth).
  lan: '  mode: lan\n',
  'provision-only': '  mode: lan\n',
} as const;

async function measure(sc: Scenario, mode: Measured['mode']): Promise<Measured> {
  const root = mkdtempSync(join(tmpdir(), `provision-${sc.name}-${mode}-`));
  try {
    const nodes = mode === 'provision-only' ? sc.nodes.map((n) => ({ ...n, models: [] })) : sc.nodes;
    const fleetDir = writeMiniatureFleet(join(root, 'fleet'), { scale: sc.scale, nodes, transfer: TRANSFER[mode] });
    if (mode === 'provision-only') {
      // The same provisioning with no models to fetch: the fixed per-node time.
      const rolePath = join(fleetDir, 'roles/llm_worker.yaml');
      writeFileSync(rolePath, readFileSync(rolePath, 'utf8').replace(/^models: .*$/m, 'models: []'));
    }
    const specs = readFleetSource(fleetDir).nodes.map((n) => {
      const models = mode === 'provision-only' ? undefined : sc.provisioned[n.name];
      return models === undefined ? n : { ...n, preset: 'provisioned' as const, models };
    });
    const sim = await startSimFleet({
      stateDir: join(root, 'sim'), fromDir: fleetDir, specs, preset: 'fresh', cron: false, controlEndpoint: false,
      hardwareCatalogPath: join(fleetDir, 'catalog/hardware.yaml'), modelCatalogPath: join(fleetDir, 'catalog/models.yaml'),
      ollama: { progressIntervalMs: 20 },
      network: { internetBytesPerSecond: (LINE_BPS / sc.scale) * sc.accel, lanScale: sc.accel / sc.scale },
    });
    try {
      const cpu0 = ownCpuMs();
      const bob = await bobChild({ fleetDir, targetsFile: sim.targetsPath, root });
      const fleetCpuMs = ownCpuMs() - cpu0 - bob.cpuMs;
      const stats = sim.network?.stats();
      const lanRate = (n: string): number => ((sc.nodes.find((x) => x.name === n)?.hardware.startsWith('mac-studio') === true ? 10 : 1) * GBE_BPS / sc.scale) * sc.accel;
      const perNode = sc.fresh.map((n) => sim.node(n).ollama.listModels().reduce((x, m) => x + m.size, 0) / lanRate(n));
      return {
        mode,
        wallS: bob.wallMs / 1000,
        internetBytes: stats?.internetBytes ?? 0,
        lanBytes: stats?.lanBytes ?? 0,
        fleetCpuS: Math.max(0, fleetCpuMs) / 1000,
        bobCpuS: bob.cpuMs / 1000,
        converged: sc.fresh.every((n) => bob.converged.includes(n)),
        distinctBytes: bob.distinctBytes,
        slowestNodeLanS: Math.max(0, ...perNode),
      };
    } finally {
      await sim.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function medianOf(runs: Measured[]): Measured {
  const m = (k: keyof Measured): number => median(runs.map((r) => r[k] as number));
  const first = runs[0] as Measured;
  return { ...first, wallS: m('wallS'), internetBytes: m('internetBytes'), lanBytes: m('lanBytes'), fleetCpuS: m('fleetCpuS'), bobCpuS: m('bobCpuS'), converged: runs.every((r) => r.converged) };
}

const gb = (bytes: number, scale: number): string => `${((bytes * scale) / 1e9).toFixed(1)} GB`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const runs = quick ? 1 : Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
  const only = args.includes('--scenario') ? args[args.indexOf('--scenario') + 1] : undefined;
  const accel = args.includes('--accel') ? Number(args[args.indexOf('--accel') + 1]) || undefined : undefined;
  const names = quick ? ['A' as const] : (['A', 'B'] as const).filter((n) => only === undefined || n === only);
  const lines: string[] = [];
  let ok = true;
  for (const name of names) {
    const sc = scenario(name, quick);
    if (accel !== undefined) sc.accel = accel;
    const results: Record<Measured['mode'], Measured[]> = { internet: [], lan: [], 'provision-only': [] };
    for (let i = 0; i < runs; i++) {
      for (const mode of ['provision-only', 'lan', 'internet'] as const) {
        const r = await measure(sc, mode);
        results[mode].push(r);
        console.error(`scenario ${name} run ${i + 1}/${runs} ${mode}: ${r.wallS.toFixed(1)} s${r.converged ? '' : ' (NOT converged)'}`);
      }
    }
    const today = medianOf(results.internet);
    const lan = medianOf(results.lan);
    const fixed = medianOf(results['provision-only']).wallS;
    const lineRate = (LINE_BPS / sc.scale) * sc.accel;
    const transferBound = Math.max(lan.distinctBytes / lineRate, lan.slowestNodeLanS);
    const bound = transferBound + fixed;
    const speedup = today.wallS / lan.wallS;
    const internetRatio = lan.internetBytes / lan.distinctBytes;
    lines.push('', `Scenario ${name}: ${sc.nodes.length} nodes (${sc.fresh.length} fresh${Object.keys(sc.provisioned).length > 0 ? `, ${Object.keys(sc.provisioned).join(', ')} already provisioned` : ''}); line 100 Mbit/s, LAN 1 GbE (10 GbE Studios); models 1/${sc.scale} size, links x${sc.accel}/${sc.scale}: transfers take 1/${sc.accel} of full-size time; medians of ${runs}`);
    lines.push(`  distinct model bytes no node had: ${gb(lan.distinctBytes, sc.scale)}; fixed provisioning (no models): ${fixed.toFixed(1)} s; bound: max(${(lan.distinctBytes / lineRate).toFixed(1)} s internet, ${lan.slowestNodeLanS.toFixed(1)} s LAN) + ${fixed.toFixed(1)} s = ${bound.toFixed(1)} s`);
    lines.push('  | mode | internet | LAN | wall to converged | wall / bound | fleet CPU | Bob CPU |', '  |---|---:|---:|---:|---:|---:|---:|');
    for (const [label, r] of [['today (every node pulls)', today], ['LAN copies', lan]] as const) {
      lines.push(`  | ${label} | ${gb(r.internetBytes, sc.scale)} (${(r.internetBytes / lan.distinctBytes).toFixed(2)}x) | ${gb(r.lanBytes, sc.scale)} | ${r.wallS.toFixed(1)} s${r.converged ? '' : ' NOT converged'} | ${(r.wallS / bound).toFixed(2)}x | ${r.fleetCpuS.toFixed(1)} s | ${r.bobCpuS.toFixed(1)} s |`);
    }
    lines.push(`  LAN copies vs today: ${speedup.toFixed(2)}x faster${name === 'A' ? ' (target >= 4x)' : ''}; internet bytes ${internetRatio.toFixed(2)}x distinct (target 1.0x); wall ${(lan.wallS / bound).toFixed(2)}x the bound (target <= 1.25x)`);
    lines.push(`  at full size the transfers alone would take ${((today.wallS - fixed) * sc.accel / 60).toFixed(0)} min today and ${((lan.wallS - fixed) * sc.accel / 60).toFixed(0)} min with LAN copies`);
    // --quick (CI) holds what does not depend on the machine's speed; the figures' targets are for full runs.
    ok &&= today.converged && lan.converged && Math.abs(internetRatio - 1) < 0.01 && (quick || (lan.wallS <= 1.25 * bound && (name !== 'A' || speedup >= 4)));
  }
  console.log(lines.join('\n'));
  process.exitCode = ok ? 0 : 1;
}

const bobAt = process.argv.indexOf('--bob');
if (bobAt !== -1) {
  const job = JSON.parse(process.argv[bobAt + 1] ?? '{}') as BobJob;
  runBob(job).then((r) => console.log(JSON.stringify(r)), (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exitCode = 1;
  });
} else {
  await main();
}
