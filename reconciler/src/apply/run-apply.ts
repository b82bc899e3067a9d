// `fleet apply` as a function: load and validate fleet/, take the fleet lock,
// observe, plan, show the plan, confirm, execute, observe again, generate the
// files for Bob and install them, report what converged. The CLI and the
// benchmark call it; every adapter comes in through the options.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { Ollama } from 'ollama';
import { FleetError } from '../errors.ts';
import { loadFleet } from '../load/load-fleet.ts';
import type { Desired } from '../model/desired.ts';
import type { TransferSettings } from '../schema/fleet.ts';
import type { TransferLimits } from './transfers.ts';
import { createGuard, guardedFetch, loopbackOnly, type ConnectionGuard } from '../net/guard.ts';
import { createConnectionPool, ollamaUrlFor, type ConnectionPool } from '../observe/connections.ts';
import { observeFleet } from '../observe/observe-fleet.ts';
import { readTargets } from '../observe/read-targets.ts';
import { plan as planFleet } from '../plan/plan.ts';
import { renderText } from '../plan/render-text.ts';
import { printable, summarizePlan } from '../plan/summarize-plan.ts';
import { noNodeAnswered } from '../observe/no-answer.ts';
import type { Plan, Step } from '../model/steps.ts';
import type { HeartbeatRecord, ObservedNode } from '../schema/observed.ts';
import type { Targets } from '../schema/targets.ts';
import { generate, type GeneratedFiles } from '../generate/generate.ts';
import { formatGenerated, readGenerated, writeGenerated } from '../generate/write-generated.ts';
import { withLock } from '../bob/lock.ts';
import { countErrors } from '../model/problem.ts';
import { renderProblems } from '../validate/render-problems.ts';
import { createBobAdapter } from '../bob/bob-local.ts';
import { bobHomeFor, loadBobConfig, type BobConfig } from '../bob/bob-config.ts';
import { openNodeSecrets, type NodeSecretStore } from '../bob/node-secrets.ts';
import { localConnectOptions } from '../observe/local-connect.ts';
import type { ApplyContext, ApplyLogger, ApplyOptions, ApplyResult, Clock, NodeApplyResult, OllamaLike, ProgressSink, StepResult } from './context.ts';
import { applyPlan } from './executor.ts';
import { createProgress, teeProgress, type ProgressRenderer } from './progress.ts';

export interface RunApplyOptions {
  fleetDir: string;
  /** The fleet already loaded and validated from fleetDir (the daemon's last good revision): not loaded again. */
  desired?: Desired;
  nodes?: string[];
  targetsFile?: string;
  yes: boolean;
  /** --prune; the fleet setting reconcile.prune also turns it on. */
  prune: boolean;
  dryRun: boolean;
  /** Where generated/*.json go (default `generated`). */
  generatedDir: string;
  /** Bob's home for settings.bob paths; default: the real home, or `<targets dir>/bob` for a simulated fleet. */
  bobHome?: string;
  /** The fleet lock file; default `<bob home>/.symphony/fleet.lock`. */
  lockPath?: string;
  /** Bob's own settings (where it writes, what it signals, its SSH key, TOFU); default: read from `<bob home>/.symphony/fleetd.yaml`. */
  bobConfig?: BobConfig;
  /** Nodes' heartbeat keys on Bob; default: opened from bobConfig.secretsDir. */
  secrets?: NodeSecretStore;
  today: string;
  /** stdout is a terminal: colours, progress bars, and a confirmation prompt. */
  tty: boolean;
  /** Colour the plan (default: tty); --no-color. */
  color?: boolean;
  /** Stop, with one line and nothing written, when no node answers (the CLI; the daemon reports such a run instead). */
  refuseWhenNoneAnswer?: boolean;
  /** Terminal width for the progress bars. */
  columns?: number;
  write: (text: string) => void;
  /** Asks a person; only called on a TTY without --yes. */
  confirm: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
  logger?: ApplyLogger;
  clock?: Clock;
  /** What nodes told Bob's registry API (the daemon's heartbeat store): the newest IP wins in the registry. */
  heartbeats?: readonly HeartbeatRecord[];
  /**
   * The last observation of every node (the snapshot): nodes this run does not
   * observe (--node, or the daemon's backoff) keep it in the generated files
   * instead of showing as never observed.
   */
  previousObserved?: readonly ObservedNode[];
  /** Test hooks. */
  createOllama?: (host: string, guard: ConnectionGuard) => OllamaLike;
  backoffBaseMs?: number;
  /** Called after the first observation (benchmarks time the phases). */
  onPhase?: (phase: ApplyPhase, atMs: number) => void | Promise<void>;
  /** Also told every step and transfer progress (the daemon's status shows models arriving). */
  progress?: Partial<ProgressSink>;
  /** The plan about to be applied (the daemon shows it as pending while it runs). */
  onPlan?: (plan: Plan, observed: readonly ObservedNode[]) => void;
}

export type ApplyPhase = 'loaded' | 'observed' | 'planned' | 'applied' | 'reobserved' | 'generated';

export interface RunApplyResult {
  exitCode: 0 | 1 | 2;
  plan: Plan;
  applied?: ApplyResult;
  /** The plan after applying: what is still not converged. */
  after?: Plan;
  observed: ObservedNode[];
  generated?: GeneratedFiles;
}

/** The fleet lock on Bob: `fleet apply` and the daemon never change nodes at the same time. */
export function fleetLockPath(bobHome: string): string {
  return join(bobHome, '.symphony', 'fleet.lock');
}

const silentLogger: ApplyLogger = { info() {}, warn() {}, error() {} };

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  }),
};

function defaultOllama(host: string, guard: ConnectionGuard): OllamaLike {
  return new Ollama({ host, fetch: guardedFetch(guard) });
}

async function loadDesired(dir: string, today: string, write: (t: string) => void): Promise<Desired> {
  const result = await loadFleet(dir, { today });
  const errors = countErrors(result.problems);
  if (!result.desired || errors > 0) {
    write(renderProblems(result.problems.filter((p) => p.severity === 'error'), 'text', { errors, warnings: 0, ok: false, strict: false, dir, nodes: result.partial?.nodes.length ?? null }));
    throw new FleetError('invalid-fleet', `${dir} is invalid (${errors} error${errors === 1 ? '' : 's'} above): nothing was changed on any node. Fix the files and run again.`);
  }
  return result.desired;
}

/** fleet.yaml `transfer` as the executor's limits: the cap is line_mbps x cap_percent, in bytes per second. */
export function transferLimitsOf(transfer: TransferSettings | undefined, linkGbps?: Readonly<Record<string, number>>): TransferLimits {
  const internet = transfer?.internet;
  const cap = internet?.line_mbps !== undefined && internet.cap_percent !== undefined ? (internet.line_mbps * 1e6 / 8) * (internet.cap_percent / 100) : undefined;
  return {
    maxInternetPulls: transfer?.mode === 'internet' && internet?.max_pulls === undefined ? Number.POSITIVE_INFINITY : internet?.max_pulls ?? 1,
    copiesPerSource: transfer?.lan?.copies_per_source ?? 4,
    ...(linkGbps !== undefined ? { linkGbps } : {}),
    ...(cap !== undefined ? { capBytesPerSecond: cap } : {}),
  };
}

/** A node is converged when the plan after applying has nothing left for it. */
function nodeConverged(p: Plan, node: string): boolean {
  const np = p.nodes.find((n) => n.node === node);
  return np !== undefined && np.steps.length === 0 && (np.status === 'in-sync' || np.status === 'retired');
}

/** A roaming laptop that is away: nothing to do until it is back, and nothing wrong. */
function nodeAway(p: Plan, node: string): boolean {
  return p.nodes.find((n) => n.node === node)?.status === 'away';
}

function hasWork(p: Plan): boolean {
  return p.nodes.some((n) => n.steps.some((s) => s.kind !== 'manual'));
}

/** Which installed files on Bob differ from the generated ones (by generated file name). */
async function changedOnBob(config: BobConfig, files: GeneratedFiles): Promise<string[]> {
  const out: string[] = [];
  const pairs: [string, string, string][] = [
    ['nodes_registry.json', config.registryPath, formatGenerated(files.nodes_registry)],
    ['openclaw_workers.json', config.workersPath, formatGenerated(files.openclaw_workers)],
  ];
  for (const [name, path, text] of pairs) {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current !== text) out.push(name);
  }
  return out;
}

function fleetSteps(changed: readonly string[]): Step[] {
  if (changed.length === 0) return [];
  const steps: Step[] = [{ kind: 'write-generated', id: 'fleet/write-generated', node: null, files: [...changed], why: `generated output differs from what is on Bob: ${changed.join(', ')}`, after: [] }];
  if (changed.includes('openclaw_workers.json')) {
    steps.push({ kind: 'reload-openclaw', id: 'fleet/reload-openclaw', node: null, why: 'openclaw_workers.json changed; OpenClaw rereads it on SIGHUP', after: ['fleet/write-generated'] });
  }
  return steps;
}

function describeNodeResult(r: NodeApplyResult, after: Plan): string[] {
  if (nodeAway(after, r.node)) return [`  ${r.node}: away (roaming; nothing to do until it is back)`];
  const converged = nodeConverged(after, r.node);
  const np = after.nodes.find((n) => n.node === r.node);
  const head = converged ? `  ${r.node}: converged` : `  ${r.node}: NOT converged (${printable(r.message ?? np?.summary ?? r.status)})`;
  const lines = [head];
  for (const s of r.steps) {
    if (s.status === 'failed') lines.push(`      failed ${s.id}: ${printable(s.message)}`);
    if (s.status === 'manual') {
      lines.push(`      needs a person (${s.reason}) ${s.id}:`);
      for (const i of s.instructions) lines.push(`        ${printable(i)}`);
    }
  }
  if (!converged && np) {
    for (const s of np.steps) if (s.kind === 'manual' && !r.steps.some((x) => x.id === s.id)) lines.push(`      needs a person (${s.reason}): ${printable(s.instructions[0] ?? s.why)}`);
  }
  return lines;
}

export async function runApply(options: RunApplyOptions): Promise<RunApplyResult> {
  const clock = options.clock ?? systemClock;
  const t0 = clock.now();
  const phase = async (p: ApplyPhase): Promise<void> => {
    await options.onPhase?.(p, clock.now() - t0);
  };
  const desired = options.desired ?? (await loadDesired(options.fleetDir, options.today, options.write));
  await phase('loaded');
  const targets: Targets | undefined = options.targetsFile ? await readTargets(options.targetsFile) : undefined;
  const bobHome = options.bobHome ?? bobHomeFor(options.targetsFile, homedir());
  const lockPath = options.lockPath ?? fleetLockPath(bobHome);
  const logger = options.logger ?? silentLogger;
  const bobConfig = options.bobConfig ?? (await loadBobConfig(bobHome));

  return withLock(lockPath, async () => {
    const guard = createGuard({ loopbackOnly: loopbackOnly() });
    const pool = createConnectionPool(desired, { ...(targets ? { targets } : {}), guard, local: await localConnectOptions(bobConfig) });
    try {
      return await applyWithPool(options, { desired, targets, bobHome, bobConfig, guard, pool, clock, logger, phase });
    } finally {
      pool.close();
    }
  }, { wait: false, command: 'fleet apply', log: logger });
}

interface Session {
  desired: Desired;
  targets: Targets | undefined;
  bobHome: string;
  bobConfig: BobConfig;
  guard: ConnectionGuard;
  pool: ConnectionPool;
  clock: Clock;
  logger: ApplyLogger;
  phase: (p: ApplyPhase) => Promise<void>;
}

async function applyWithPool(options: RunApplyOptions, s: Session): Promise<RunApplyResult> {
  const { desired, guard, pool } = s;
  const settings = desired.settings;
  const registryUrl = s.targets?.bob?.registry_url ?? `http://${settings.network.bob_address}:${settings.network.registry_api_port}`;
  const prune = options.prune || settings.reconcile.prune;
  const observeOpts = { guard, ...(options.nodes ? { nodes: options.nodes } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const secrets = options.secrets ?? (await openNodeSecrets(s.bobConfig.secretsDir));
  // Every node that heartbeats gets a key (a dry run creates none).
  const keyed = desired.nodes.filter((n) => n.status === 'active').map((n) => n.name);
  if (!options.dryRun) await secrets.ensure(keyed);
  const basePlanOpts = { prune, registryUrl, today: options.today, ...(options.nodes ? { nodes: options.nodes } : {}) };
  const planOptsNow = (): typeof basePlanOpts & { secrets: ReturnType<NodeSecretStore['planInput']> } => ({ ...basePlanOpts, secrets: secrets.planInput(keyed) });
  const planOpts = planOptsNow();
  const previous = await readGenerated(options.generatedDir);

  const observed = await observeFleet(desired, pool, observeOpts);
  await s.phase('observed');
  const none = options.refuseWhenNoneAnswer === true ? noNodeAnswered(observed, options.targetsFile) : null;
  if (none !== null) throw new FleetError('unreachable', none);
  const genOptions = { lastUpdated: options.today, previous, ...(options.heartbeats ? { heartbeats: options.heartbeats } : {}) };
  const withUnobserved = (seen: readonly ObservedNode[]): ObservedNode[] => {
    const have = new Set(seen.map((o) => o.node));
    return [...seen, ...(options.previousObserved ?? []).filter((o) => !have.has(o.node))];
  };
  const before = generate(desired, withUnobserved(observed), genOptions);
  const thePlan = planFleet(desired, observed, { ...planOpts, generated: { changed: await changedOnBob(s.bobConfig, before) } });
  await s.phase('planned');
  options.onPlan?.(thePlan, observed);
  const answered = new Map(observed.flatMap((o) => (o.reach.status === 'ok' && o.reach.address ? [[o.node, o.reach.address] as [string, string]] : [])));
  options.write(renderText(thePlan, { color: options.color ?? options.tty, answered }));
  if (options.dryRun) {
    return { exitCode: thePlan.nodes.every((n) => n.steps.length === 0) && thePlan.fleet.length === 0 ? 0 : 2, plan: thePlan, observed };
  }

  const work = hasWork(thePlan);
  if (work && !options.yes) {
    if (!options.tty) {
      throw new FleetError('invalid-input', 'refusing to change nodes without confirmation: stdin is not a terminal. Review the plan above and run again with --yes (or --dry-run to only plan).');
    }
    // The same count as the plan's header line above.
    const { steps, manual_steps: manual } = summarizePlan(thePlan);
    const nodes = thePlan.nodes.filter((np) => np.steps.length > 0).length;
    const where = `${nodes} node${nodes === 1 ? '' : 's'}${thePlan.fleet.length > 0 ? ' and Bob' : ''}`;
    if (!(await options.confirm(`Apply the ${steps} step${steps === 1 ? '' : 's'} above on ${where}${manual > 0 ? ` (${manual} of them for a person: shown, not run)` : ''}? [y/N] `))) {
      options.write('Nothing was changed.\n');
      return { exitCode: 2, plan: thePlan, observed };
    }
  }

  const shown = createProgress({ write: options.write, tty: options.tty, columns: options.columns ?? 100 });
  const progress: ProgressRenderer = options.progress ? teeProgress(shown, options.progress) : shown;
  const observedMap = new Map(observed.map((o) => [o.node, o]));
  const ollamaUrl = (node: string): string | undefined => {
    const t = pool.target(node);
    if (!t) return undefined;
    const address = observedMap.get(node)?.reach.address;
    return t.ollamaUrlFollowsSsh && address ? ollamaUrlFor(address, t.ollamaPort) : t.ollamaUrl;
  };
  const makeOllama = options.createOllama ?? defaultOllama;
  const reconcile = settings.reconcile;
  const applyOptions: ApplyOptions = {
    concurrency: reconcile.concurrency,
    stepTimeoutMs: (reconcile.step_timeout_s ?? 600) * 1000,
    pullTimeoutMs: (reconcile.pull_timeout_s ?? 7200) * 1000,
    retries: reconcile.retries ?? 2,
    backoffMaxMs: Math.min((reconcile.backoff_max_s ?? 900) * 1000, 60_000),
    diskMarginBytes: settings.memory.disk_margin_gb * 1e9,
    transfer: transferLimitsOf(settings.transfer, Object.fromEntries(desired.nodes.map((n) => [n.name, desired.hardware[n.hardware]?.ethernet_gbps ?? 1]))),
    ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let latest: GeneratedFiles | undefined;
  const ctx: ApplyContext = {
    secrets,
    pool,
    guard,
    createOllama: (host) => makeOllama(host, guard),
    observed: observedMap,
    ollamaUrl,
    clock: s.clock,
    logger: s.logger,
    progress,
  };

  let applied: ApplyResult | undefined;
  let after = thePlan;
  let observedAfter = observed;
  try {
    if (work) {
      applied = await applyPlan({ nodes: thePlan.nodes, fleet: [] }, ctx, applyOptions);
      await s.phase('applied');
      if (!options.signal?.aborted) {
        observedAfter = await observeFleet(desired, pool, observeOpts);
        await s.phase('reobserved');
      }
    }
    // The files on Bob tell the truth about what is there now, whatever converged.
    latest = work ? generate(desired, withUnobserved(observedAfter), genOptions) : before;
    await writeGenerated(options.generatedDir, latest);
    const bobChanged = await changedOnBob(s.bobConfig, latest);
    if (bobChanged.length > 0 && !options.signal?.aborted) {
      const files = latest;
      const bob = createBobAdapter({
        paths: {
          registry_path: s.bobConfig.registryPath,
          workers_path: s.bobConfig.workersPath,
          openclaw_pid_file: s.bobConfig.openclaw.pidFile ?? undefined,
          openclaw_process_name: s.bobConfig.openclaw.processName ?? undefined,
        },
        home: s.bobHome,
        contents: () => Promise.resolve({ nodes_registry: formatGenerated(files.nodes_registry), openclaw_workers: formatGenerated(files.openclaw_workers) }),
      });
      const fleet = await applyPlan({ nodes: [], fleet: fleetSteps(bobChanged) }, { ...ctx, bob }, applyOptions);
      applied = applied ? { ...applied, fleet: fleet.fleet } : fleet;
    }
    await s.phase('generated');
    after = work ? planFleet(desired, observedAfter, planOptsNow()) : thePlan;
  } finally {
    progress.close();
  }

  const lines: string[] = [''];
  const aborted = options.signal?.aborted ?? false;
  const results = applied?.nodes ?? [];
  const converged = after.nodes.filter((n) => nodeConverged(after, n.node)).map((n) => n.node);
  const away = after.nodes.filter((n) => nodeAway(after, n.node)).map((n) => n.node);
  const fleetFailed: StepResult[] = (applied?.fleet ?? []).filter((r) => r.status === 'failed');
  lines.push(aborted ? 'fleet apply: interrupted; run it again to finish (every step is safe to repeat)' : 'fleet apply: result');
  for (const np of after.nodes) {
    const r = results.find((x) => x.node === np.node) ?? { node: np.node, status: 'converged' as const, steps: [] };
    lines.push(...describeNodeResult(r, after));
  }
  for (const f of fleetFailed) lines.push(`  bob: failed ${f.id}: ${f.status === 'failed' ? printable(f.message) : ''}`);
  lines.push(`generated files: ${options.generatedDir}/nodes_registry.json, ${options.generatedDir}/openclaw_workers.json`);
  const all = converged.length + away.length === after.nodes.length && fleetFailed.length === 0 && !aborted;
  const awayNote = away.length > 0 ? `; ${away.join(', ')} away (roaming), converged when back` : '';
  lines.push(all ? `Converged: ${converged.length} node${converged.length === 1 ? '' : 's'} match fleet/${awayNote}.` : `Partly converged: ${converged.length} of ${after.nodes.length - away.length} node${after.nodes.length - away.length === 1 ? '' : 's'} match fleet/${awayNote}.`);
  options.write(`${lines.join('\n')}\n`);
  return {
    exitCode: all ? 0 : 2,
    plan: thePlan,
    ...(applied ? { applied } : {}),
    after,
    observed: observedAfter,
    ...(latest ? { generated: latest } : {}),
  };
}
