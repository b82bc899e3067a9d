// npm run bench:apply: converge 20 factory-fresh simulated nodes (fast,
// small simulated pulls) with `fleet apply`, then time a no-op apply on the
// converged fleet against `fleet plan`'s pipeline (load, observe, plan,
// render). Prints wall time, commands per node, and the ratio (target: the
// no-op apply within 1.2x of plan). Bob runs in a worker thread, as it would
// on another machine, so the simulator's work is not on its event loop.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { loadFleet } from '../src/load/load-fleet.ts';
import { renderText } from '../src/plan/render-text.ts';
import { createContext } from '../src/reconcile/context.ts';
import { judgeOutcome } from '../src/reconcile/outcome.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { startSimFleet } from '../src/sim/fleet.ts';

process.env.FLEET_LOOPBACK_ONLY = '1';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODES = Number(process.env.BENCH_NODES ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TODAY = '2026-11-25';
const TARGET_RATIO = 1.2;

/** bob (hq) and NODES full workers, routing rules pointed at them. */
function generateFleet(dir: string): void {
  cpSync(join(repo, 'fleet'), dir, { recursive: true });
  rmSync(join(dir, 'nodes'), { recursive: true, force: true });
  cpSync(join(repo, 'fleet/nodes/bob.yaml'), join(dir, 'nodes/bob.yaml'));
  const names = Array.from({ length: NODES }, (_, i) => `worker${String(i + 1).padStart(2, '0')}`);
  for (const name of names) {
    writeFileSync(join(dir, 'nodes', `${name}.yaml`), `name: ${name}\nrole: full_worker\nhardware: mac-mini-m4-24gb\naddresses: [${name}.local]\nstatus: active\n`);
  }
  const settings = readFileSync(join(dir, 'fleet.yaml'), 'utf8').replaceAll('maestro_', `${names[0] ?? 'bob'}_`).replaceAll('stagehand_', `${names[1] ?? 'bob'}_`);
  writeFileSync(join(dir, 'fleet.yaml'), settings);
  writeFileSync(join(dir, 'known_hosts'), '');
}

interface Job { kind: 'apply' | 'plan'; fleetDir: string; targetsFile: string; generatedDir: string }
interface JobResult { ms: number; exitCode: number; steps: number }

async function runJob(job: Job): Promise<JobResult> {
  const t0 = performance.now();
  // Both sides load and validate, then reconcile: apply to the end, plan as a dry run (what `fleet plan` does) and render.
  const loaded = await loadFleet(job.fleetDir, { today: TODAY });
  if (!loaded.desired) throw new Error('bench fleet is invalid');
  const ctx = await createContext({ generatedDir: job.generatedDir, targetsFile: job.targetsFile });
  const r = await reconcile(ctx, { desired: loaded.desired, prune: false, today: TODAY, dryRun: job.kind === 'plan' });
  if (job.kind === 'plan') renderText(r.plan, { color: false });
  const exitCode = job.kind === 'plan' ? 0 : judgeOutcome(r).exitCode;
  return { ms: performance.now() - t0, exitCode, steps: r.plan.nodes.reduce((n, p) => n + p.steps.length, 0) };
}

if (!isMainThread) {
  parentPort?.on('message', (job: Job) => {
    runJob(job).then((r) => parentPort?.postMessage(r), (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }));
  });
  parentPort?.postMessage('ready');
} else {
  await runBench();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function runBench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'apply-bench-'));
  const fleetDir = join(root, 'fleet');
  generateFleet(fleetDir);
  const worker = new Worker(new URL(import.meta.url));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const ask = (job: Job): Promise<JobResult> => new Promise((resolve, reject) => {
    worker.once('message', (m: JobResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
    worker.postMessage(job);
  });

  const sim = await startSimFleet({
    stateDir: join(root, 'sim'), fromDir: fleetDir, preset: 'fresh', controlEndpoint: false, cron: false,
    ollama: { pullBytesPerSecond: 100e9, progressIntervalMs: 10 },
  });
  const job = (kind: Job['kind']): Job => ({ kind, fleetDir, targetsFile: sim.targetsPath, generatedDir: join(root, 'generated') });
  try {
    const converge = await ask(job('apply'));
    const perNode = sim.nodes.map((n) => sim.commandLog(n.name).filter((c) => !c.startsWith('_fm=@@fleet-probe-')).length);
    const applies: number[] = [];
    const plans: number[] = [];
    let noopExit = 0;
    for (let i = 0; i < RUNS; i++) {
      const p = await ask(job('plan'));
      plans.push(p.ms);
      const a = await ask(job('apply'));
      applies.push(a.ms);
      noopExit = Math.max(noopExit, a.exitCode);
    }
    const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    const ratio = median(applies) / median(plans);
    console.log(`nodes:                  ${NODES} full workers + bob, factory-fresh (concurrency ${String(readFileSync(join(fleetDir, 'fleet.yaml'), 'utf8').match(/concurrency: (\d+)/)?.[1] ?? '?')})`);
    console.log(`converge from nothing:  ${fmt(converge.ms)}  (exit ${converge.exitCode}, ${converge.steps} planned steps)`);
    console.log(`commands per node:      min ${Math.min(...perNode)}, median ${median(perNode)}, max ${Math.max(...perNode)} (besides the observe probe)`);
    console.log(`no-op apply:            median ${fmt(median(applies))} of ${RUNS} (exit ${noopExit})`);
    console.log(`fleet plan:             median ${fmt(median(plans))} of ${RUNS}`);
    console.log(`no-op apply / plan:     ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x)`);
    process.exitCode = converge.exitCode === 0 && noopExit === 0 && ratio <= TARGET_RATIO ? 0 : 1;
  } finally {
    await worker.terminate();
    await sim.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
