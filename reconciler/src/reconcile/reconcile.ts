// The pipeline, once: take the fleet lock, observe, plan, (approve), execute,
// observe again, generate the files for Bob and install them. It returns data
// only. The CLI renders the plan and asks a person, the daemon shows it and
// commits what was generated, the benchmarks time the phases; none of them
// repeats the sequence.
import { readIfExists } from '../fs/read-if-exists.ts';
import type { ApplyContext, ApplyOptions, ApplyResult } from '../apply/context.ts';
import { applyPlan } from '../apply/executor.ts';
import { transferLimitsOf } from '../apply/transfers.ts';
import { createBobAdapter } from '../bob/bob-local.ts';
import { withLock } from '../bob/lock.ts';
import { FleetError } from '../errors.ts';
import { generate, type GeneratedFiles } from '../generate/generate.ts';
import { formatGenerated, readGenerated, writeGenerated } from '../generate/write-generated.ts';
import type { Desired } from '../model/desired.ts';
import type { Plan } from '../model/steps.ts';
import type { ConnectionPool } from '../observe/connections.ts';
import { ollamaUrlFor } from '../observe/connections.ts';
import { noNodeAnswered } from '../observe/no-answer.ts';
import { observeFleet } from '../observe/observe-fleet.ts';
import { plan as planFleet, planGenerated, type PlanOptions } from '../plan/plan.ts';
import type { HeartbeatRecord, ObservedNode } from '../schema/observed.ts';
import type { BobConfig } from '../bob/bob-config.ts';
import type { ReconcileContext } from './context.ts';

export interface ReconcileRequest {
  desired: Desired;
  /** Only these nodes (the CLI's --node, the daemon's backoff). */
  nodes?: readonly string[];
  /** Remove models and software fleet/ no longer wants; the fleet setting reconcile.prune also turns it on. */
  prune: boolean;
  today: string;
  /** Observe and plan only: nothing is changed, no key is created. */
  dryRun: boolean;
  /** Stop with one line when no node answers (the CLI; the daemon reports such a run instead). */
  refuseWhenNoneAnswer?: boolean;
  /** What nodes told Bob's registry API: the newest IP wins in the registry. */
  heartbeats?: readonly HeartbeatRecord[];
  /** The last observation of every node: nodes this run does not observe keep it in the generated files. */
  previousObserved?: readonly ObservedNode[];
  /** The plan, as soon as it exists (the CLI prints it, the daemon shows it as pending). */
  onPlan?: (plan: Plan, observed: readonly ObservedNode[]) => void;
  /** Asked only when the plan has work for the nodes; absent means approved. */
  approve?: (plan: Plan) => Promise<boolean>;
  /** Each phase as it ends, in ms since the start (benchmarks). */
  onPhase?: (phase: ReconcilePhase, atMs: number) => void | Promise<void>;
  signal?: AbortSignal;
}

export type ReconcilePhase = 'observed' | 'planned' | 'applied' | 'reobserved' | 'generated';

export interface ReconcileResult {
  /** planned: a dry run; declined: the person said no; applied: it ran (to the end, or until interrupted). */
  outcome: 'planned' | 'declined' | 'applied';
  interrupted: boolean;
  plan: Plan;
  observed: ObservedNode[];
  applied?: ApplyResult;
  /** The plan after applying: what is still not converged. */
  after?: Plan;
  observedAfter?: ObservedNode[];
  generated?: GeneratedFiles;
}

/** `fleet apply`, the daemon's run and the benchmarks: the whole pipeline under the fleet lock. */
export async function reconcile(ctx: ReconcileContext, request: ReconcileRequest): Promise<ReconcileResult> {
  const connected = async (): Promise<ReconcileResult> => {
    const pool = await ctx.connect(request.desired);
    try {
      return await run(ctx, pool, request);
    } finally {
      pool.close();
    }
  };
  // A dry run changes nothing, so it may look while the daemon or another apply works.
  if (request.dryRun) return connected();
  return withLock(ctx.bob.lockPath, connected, { wait: false, command: 'fleet apply', log: ctx.log });
}

/** Bob's installed copy of each generated file that differs from these (by generated file name). */
async function changedOnBob(config: BobConfig, files: GeneratedFiles): Promise<string[]> {
  const pairs: [string, string, string][] = [
    ['nodes_registry.json', config.registryPath, formatGenerated(files.nodes_registry)],
    ['openclaw_workers.json', config.workersPath, formatGenerated(files.openclaw_workers)],
  ];
  const out: string[] = [];
  for (const [name, path, text] of pairs) if ((await readIfExists(path)) !== text) out.push(name);
  return out;
}

function hasNodeWork(p: Plan): boolean {
  return p.nodes.some((n) => n.steps.some((s) => s.kind !== 'manual'));
}

function applyOptionsOf(ctx: ReconcileContext, desired: Desired, signal: AbortSignal | undefined): ApplyOptions {
  const { reconcile: r, memory, transfer } = desired.settings;
  return {
    concurrency: r.concurrency,
    stepTimeoutMs: (r.step_timeout_s ?? 600) * 1000,
    pullTimeoutMs: (r.pull_timeout_s ?? 7200) * 1000,
    retries: r.retries ?? 2,
    backoffMaxMs: Math.min((r.backoff_max_s ?? 900) * 1000, 60_000),
    diskMarginBytes: memory.disk_margin_gb * 1e9,
    transfer: transferLimitsOf(transfer, Object.fromEntries(desired.nodes.map((n) => [n.name, desired.hardware[n.hardware]?.ethernet_gbps ?? 1]))),
    ...(ctx.backoffBaseMs !== undefined ? { backoffBaseMs: ctx.backoffBaseMs } : {}),
    ...(signal ? { signal } : {}),
  };
}

const NO_PROGRESS = { stepStarted() {}, stepFinished() {}, pullProgress() {} };

async function run(ctx: ReconcileContext, pool: ConnectionPool, request: ReconcileRequest): Promise<ReconcileResult> {
  const { desired, signal } = request;
  const t0 = ctx.clock.now();
  const phase = async (p: ReconcilePhase): Promise<void> => {
    await request.onPhase?.(p, ctx.clock.now() - t0);
  };
  const settings = desired.settings;
  const { secrets, config, generatedDir } = ctx.bob;
  const registryUrl = ctx.targets?.bob?.registry_url ?? `http://${settings.network.bob_address}:${settings.network.registry_api_port}`;
  const nodes = request.nodes !== undefined ? { nodes: [...request.nodes] } : {};
  const observeOptions = { guard: ctx.guard, ...nodes, ...(signal ? { signal } : {}) };
  // Keys as on disk now: a `fleet secret rotate` since the last run is planned in this one.
  await secrets.reload();
  // Every node that heartbeats gets a key (a dry run creates none).
  const keyed = desired.nodes.filter((n) => n.status === 'active').map((n) => n.name);
  if (!request.dryRun) await secrets.ensure(keyed);
  const planOptions = (): PlanOptions => ({
    prune: request.prune || settings.reconcile.prune, registryUrl, today: request.today, ...nodes, secrets: secrets.planInput(keyed),
  });
  const generateOptions = { lastUpdated: request.today, previous: await readGenerated(generatedDir), ...(request.heartbeats ? { heartbeats: request.heartbeats } : {}) };
  const withUnobserved = (seen: readonly ObservedNode[]): ObservedNode[] => {
    const have = new Set(seen.map((o) => o.node));
    return [...seen, ...(request.previousObserved ?? []).filter((o) => !have.has(o.node))];
  };

  const observed = await observeFleet(desired, pool, observeOptions);
  await phase('observed');
  const none = request.refuseWhenNoneAnswer === true ? noNodeAnswered(observed, ctx.targetsFile) : null;
  if (none !== null) throw new FleetError('unreachable', none);
  const before = generate(desired, withUnobserved(observed), generateOptions);
  const plan = planFleet(desired, observed, { ...planOptions(), generated: { changed: await changedOnBob(config, before) } });
  await phase('planned');
  request.onPlan?.(plan, observed);
  if (request.dryRun) return { outcome: 'planned', interrupted: false, plan, observed };
  const work = hasNodeWork(plan);
  if (work && request.approve !== undefined && !(await request.approve(plan))) return { outcome: 'declined', interrupted: false, plan, observed };

  const observedMap = new Map(observed.map((o) => [o.node, o]));
  const applyCtx: ApplyContext = {
    secrets,
    pool,
    guard: ctx.guard,
    createOllama: (host) => ctx.createOllama(host),
    observed: observedMap,
    ollamaUrl: (node) => {
      const t = pool.target(node);
      if (!t) return undefined;
      const address = observedMap.get(node)?.reach.address;
      return t.ollamaUrlFollowsSsh && address ? ollamaUrlFor(address, t.ollamaPort) : t.ollamaUrl;
    },
    clock: ctx.clock,
    log: ctx.log,
    progress: { ...NO_PROGRESS, ...ctx.progress },
  };
  const applyOptions = applyOptionsOf(ctx, desired, signal);

  let applied: ApplyResult | undefined;
  let observedAfter = observed;
  if (work) {
    applied = await applyPlan({ nodes: plan.nodes, fleet: [] }, applyCtx, applyOptions);
    await phase('applied');
    if (!signal?.aborted) {
      observedAfter = await observeFleet(desired, pool, observeOptions);
      await phase('reobserved');
    }
  }
  // The files on Bob tell the truth about what is there now, whatever converged.
  const generated = work ? generate(desired, withUnobserved(observedAfter), generateOptions) : before;
  await writeGenerated(generatedDir, generated);
  const bobChanged = await changedOnBob(config, generated);
  if (bobChanged.length > 0 && !signal?.aborted) {
    const bob = createBobAdapter({
      paths: {
        registry_path: config.registryPath,
        workers_path: config.workersPath,
        openclaw_pid_file: config.openclaw.pidFile ?? undefined,
        openclaw_process_name: config.openclaw.processName ?? undefined,
      },
      home: ctx.bob.home,
      contents: () => Promise.resolve({ nodes_registry: formatGenerated(generated.nodes_registry), openclaw_workers: formatGenerated(generated.openclaw_workers) }),
    });
    const fleet = await applyPlan({ nodes: [], fleet: planGenerated(bobChanged) }, { ...applyCtx, bob }, applyOptions);
    applied = applied ? { ...applied, fleet: fleet.fleet } : fleet;
  }
  await phase('generated');
  const after = work ? planFleet(desired, observedAfter, planOptions()) : plan;
  return {
    outcome: 'applied',
    interrupted: signal?.aborted ?? false,
    plan,
    observed,
    ...(applied ? { applied } : {}),
    after,
    observedAfter,
    generated,
  };
}
