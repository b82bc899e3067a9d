// Runs a Plan: each node's steps one at a time in the order the plan gives
// (plan/order-steps.ts decides it; nothing here sorts), nodes in parallel under the concurrency limit, transient
// failures retried with exponential backoff, a failed step's dependents
// skipped (the node's other steps and the other nodes go on), and an abort
// signal that lets the current step finish (or stops a pull cleanly) and skips
// the rest. Fleet-level steps on Bob run after every node is done.
import pLimit from 'p-limit';
import type { NodePlan, Plan, Step } from '../model/steps.ts';
import type { RemoteSession } from '../net/remote.ts';
import { CommandError, toCommandError } from './command-error.ts';
import type { ApplyContext, ApplyOptions, ApplyResult, NodeApplyResult, NodeApplyStatus, StepOutcome, StepResult } from './context.ts';
import type { NodeRuntime } from './node-runtime.ts';
import { runStep } from './run-step.ts';
import { brewPrefix } from '../model/mac-layout.ts';
import { TransferCoordinator } from './transfers.ts';

/**
 * The plan gives each node's steps in dependency order (plan/order-steps.ts
 * decides it, once); the executor runs them as given. A step that waits for
 * a step placed after it (or for itself) cannot run in that order: it is a
 * planner bug, reported as such rather than worked around.
 */
export function misorderedSteps(steps: readonly Step[]): Step[] {
  const position = new Map(steps.map((s, i) => [s.id, i]));
  return steps.filter((s, i) => s.after.some((dep) => (position.get(dep) ?? -1) >= i));
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

const DEFAULT_BACKOFF_BASE_MS = 1000;
const DEFAULT_BACKOFF_MAX_MS = 30_000;

function describeReach(node: string, reach: { status: string; message?: string }): string {
  return `${node}: ${reach.status}${reach.message ? ` (${reach.message})` : ''}`;
}

/** Reach problems that a retry cannot fix: a person must look (host key, credentials). */
const FINAL_REACH = new Set(['host-key-changed', 'host-key-unknown', 'auth-failed']);

function createRuntime(np: NodePlan, ctx: ApplyContext, options: ApplyOptions): NodeRuntime {
  const observed = ctx.observed.get(np.node);
  const facts = observed?.facts;
  const plannedBrew = np.steps.find((s) => s.kind === 'install-homebrew');
  const arch = facts?.hardware.architecture;
  const prefix = facts?.brew.prefix
    ?? (plannedBrew?.kind === 'install-homebrew' ? plannedBrew.prefix : brewPrefix(arch === 'x86_64' ? 'x86_64' : 'arm64'));
  let current: RemoteSession | undefined;
  const rt: NodeRuntime = {
    node: np.node,
    ctx,
    options,
    facts,
    brewPrefix: prefix,
    pulledBytes: 0,
    async session() {
      if (current) return current;
      const got = await ctx.pool.session(np.node);
      if (!got.ok) {
        const message = `cannot log in to ${describeReach(np.node, got.reach)}`;
        throw new CommandError(FINAL_REACH.has(got.reach.status) ? 'failed' : 'connection', message);
      }
      current = got.session;
      return current;
    },
    dropSession() {
      const s = current;
      current = undefined;
      try {
        s?.close();
      } catch {
        // Already closed.
      }
    },
  };
  if (options.signal) rt.signal = options.signal;
  return rt;
}

function resultOf(step: Step, outcome: StepOutcome, attempts: number, durationMs: number): StepResult {
  return { ...outcome, id: step.id, node: step.node, kind: step.kind, attempts, durationMs };
}

interface Attempted {
  outcome: StepOutcome;
  attempts: number;
  /** The failure means the node cannot be reached at all: skip the rest. */
  nodeLost: boolean;
}

async function attemptStep(rt: NodeRuntime, step: Step): Promise<Attempted> {
  const { ctx, options } = rt;
  const base = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return { outcome: await runStep(rt, step), attempts: attempt, nodeLost: false };
    } catch (err) {
      const e = toCommandError(`${step.id}`, err);
      if (e.kind === 'aborted' || options.signal?.aborted) {
        return { outcome: { status: 'skipped', message: `stopped: ${e.kind === 'aborted' ? e.message : 'apply was interrupted'}` }, attempts: attempt, nodeLost: false };
      }
      if (e.transient && attempt <= options.retries) {
        const wait = backoffMs(attempt, base, max);
        ctx.log.warn({ node: rt.node, step: step.id, attempt, retry_in_ms: wait, error: e.message }, 'step failed, retrying');
        ctx.progress.stepRetrying?.(step, attempt, wait, e.message);
        try {
          await ctx.clock.sleep(wait, options.signal);
        } catch {
          return { outcome: { status: 'skipped', message: 'stopped: apply was interrupted' }, attempts: attempt, nodeLost: false };
        }
        continue;
      }
      const outcome: StepOutcome = { status: 'failed', message: e.message, failure: e.kind };
      if (e.stderr) outcome.stderr = e.stderr;
      // A broken connection that did not come back, or a login refused: nothing more can run on this node.
      const nodeLost = e.kind === 'connection' || /^cannot log in to /.test(e.message);
      return { outcome, attempts: attempt, nodeLost };
    }
  }
}

function blockingDependency(step: Step, results: ReadonlyMap<string, StepResult>): StepResult | undefined {
  for (const dep of step.after) {
    const r = results.get(dep);
    if (!r) continue;
    if (r.status === 'failed' || r.status === 'skipped' || (r.status === 'manual' && r.blocksDependents)) return r;
  }
  return undefined;
}

function nodeStatus(results: readonly StepResult[], lost: string | undefined, aborted: boolean): { status: NodeApplyStatus; message?: string } {
  if (lost !== undefined && results.every((r) => r.status !== 'ok' || !r.changed)) return { status: 'unreachable', message: lost };
  const failed = results.filter((r) => r.status === 'failed');
  if (aborted && results.some((r) => r.status === 'skipped' && r.message.startsWith('stopped'))) return { status: 'aborted', message: 'apply was interrupted; run it again to finish' };
  if (failed.length > 0) return { status: 'failed', message: `${failed.length} step(s) failed: ${failed.map((f) => f.id).join(', ')}` };
  const manual = results.filter((r) => r.status === 'manual');
  const skipped = results.filter((r) => r.status === 'skipped');
  if (manual.length > 0 || skipped.length > 0) {
    return { status: 'partial', message: manual.length > 0 ? `${manual.length} step(s) need a person: ${manual.map((m) => m.id).join(', ')}` : `${skipped.length} step(s) skipped` };
  }
  return { status: 'converged' };
}

/** Plan statuses where observe could not log in: nothing is run, whatever the steps say. */
const UNREACHABLE_PLAN = new Set(['unreachable', 'away', 'refused']);

const isTransfer = (s: Step): boolean => s.kind === 'pull-model' || s.kind === 'copy-model';

/** Steps that wait, directly or not, for a model step of the node. */
function dependsOnTransfer(steps: readonly Step[]): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const visit = (s: Step, seen: Set<string>): boolean => {
    if (out.has(s.id)) return true;
    if (seen.has(s.id)) return false;
    seen.add(s.id);
    const hit = s.after.some((d) => {
      const dep = byId.get(d);
      return dep !== undefined && (isTransfer(dep) || visit(dep, seen));
    });
    if (hit) out.add(s.id);
    return hit;
  };
  for (const s of steps) if (!isTransfer(s)) visit(s, new Set());
  return out;
}

/** Runs all of a node's steps (tests, and callers without cross-node model steps). */
export async function applyNode(np: NodePlan, ctx: ApplyContext, options: ApplyOptions): Promise<NodeApplyResult> {
  return (await startNode(np, ctx, options))();
}

/**
 * Runs a node's provisioning steps and returns a function that runs its model
 * steps and what waits for them. applyPlan calls the first part under the
 * node concurrency limit and the second outside it: model steps wait for
 * sources on other nodes and for internet slots, and must not hold a node slot
 * a source needs to get going.
 */
async function startNode(np: NodePlan, ctx: ApplyContext, options: ApplyOptions): Promise<() => Promise<NodeApplyResult>> {
  const rt = createRuntime(np, ctx, options);
  const results = new Map<string, StepResult>();
  // Pulls and copies run outside the node slot (see startNode); what waits for them runs after them.
  // Each part keeps the plan's order.
  const misordered = misorderedSteps(np.steps);
  const all = np.steps.filter((s) => !misordered.includes(s));
  const later = dependsOnTransfer(all);
  const first = all.filter((s) => !isTransfer(s) && !later.has(s.id));
  const pulls = all.filter((s) => s.kind === 'pull-model');
  const copies = all.filter((s) => s.kind === 'copy-model');
  const dependents = all.filter((s) => later.has(s.id));
  let lost: string | undefined;
  if (UNREACHABLE_PLAN.has(np.status)) lost = np.summary || `${np.node} is ${np.status}`;
  // A model step that ends without the model frees at once whoever waits on this node as its source.
  const record = (step: Step, result: StepResult): void => {
    results.set(step.id, result);
    if ((step.kind === 'pull-model' || step.kind === 'copy-model') && result.status !== 'ok') ctx.transfers?.settle(np.node, step.model, undefined);
  };
  const run = async (ordered: readonly Step[]): Promise<void> => {
    for (const step of ordered) {
      const started = ctx.clock.now();
      if (options.signal?.aborted) {
        record(step, resultOf(step, { status: 'skipped', message: 'stopped: apply was interrupted before this step' }, 0, 0));
        continue;
      }
      if (lost !== undefined && step.kind !== 'manual') {
        record(step, resultOf(step, { status: 'skipped', message: `not run: ${lost}` }, 0, 0));
        continue;
      }
      const blocker = blockingDependency(step, results);
      if (blocker) {
        record(step, resultOf(step, { status: 'skipped', message: `not run: ${blocker.id} ${blocker.status === 'manual' ? 'needs a person first' : blocker.status}` }, 0, 0));
        continue;
      }
      ctx.progress.stepStarted(step);
      const { outcome, attempts, nodeLost } = await attemptStep(rt, step);
      const result = resultOf(step, outcome, attempts, ctx.clock.now() - started);
      record(step, result);
      ctx.progress.stepFinished(step, result);
      logStep(ctx, result);
      if (nodeLost && outcome.status === 'failed') lost = outcome.message;
    }
  };
  const settleTransfers = (): void => {
    // A model step that did not end with the model frees whoever waits on this node as a source.
    for (const s of np.steps) {
      if ((s.kind === 'pull-model' || s.kind === 'copy-model') && results.get(s.id)?.status !== 'ok') ctx.transfers?.settle(np.node, s.model, undefined);
    }
  };
  // Copies in the order their models become available: whichever a peer can serve now, else the first.
  const runCopies = async (): Promise<void> => {
    const pending = [...copies];
    while (pending.length > 0) {
      let i = 0;
      // A node lost, or an apply interrupted: run() skips what is left, nothing to wait for.
      if (lost !== undefined || options.signal?.aborted === true) {
        await run(pending.splice(0));
        return;
      }
      try {
        i = (await ctx.transfers?.nextServable(pending.map((s) => (s.kind === 'copy-model' ? { model: s.model, candidates: [s.source, ...s.peers] } : { model: '', candidates: [] })), options.signal, np.node)) ?? 0;
      } catch {
        // interrupted: run() marks the rest skipped
      }
      const [step] = pending.splice(i, 1);
      if (step !== undefined) await run([step]);
    }
  };
  const finish = async (): Promise<NodeApplyResult> => {
    try {
      // A node pulls and copies at once: the line and the LAN are different links.
      await Promise.all([run(pulls), runCopies()]);
      await run(dependents);
    } finally {
      settleTransfers();
      rt.dropSession();
    }
    const list = np.steps.map((s) => results.get(s.id)).filter((r): r is StepResult => r !== undefined);
    const st = nodeStatus(list, lost, options.signal?.aborted ?? false);
    return st.message === undefined ? { node: np.node, status: st.status, steps: list } : { node: np.node, status: st.status, message: st.message, steps: list };
  };
  for (const step of misordered) {
    record(step, resultOf(step, { status: 'failed', message: `waits for a step placed after it in the plan (${step.after.join(', ')}): a planner bug` }, 0, 0));
  }
  try {
    await run(first);
  } catch (err) {
    settleTransfers();
    rt.dropSession();
    throw err;
  }
  return finish;
}

function logStep(ctx: ApplyContext, r: StepResult): void {
  const fields: Record<string, unknown> = { node: r.node, step: r.id, kind: r.kind, status: r.status, attempts: r.attempts, duration_ms: r.durationMs };
  switch (r.status) {
    case 'ok':
      if (r.warning) ctx.log.warn({ ...fields, warning: r.warning }, 'step done with a warning');
      else ctx.log.info({ ...fields, changed: r.changed, ...(r.detail ? { detail: r.detail } : {}) }, 'step done');
      return;
    case 'failed': ctx.log.error({ ...fields, error: r.message }, 'step failed'); return;
    case 'manual': ctx.log.warn({ ...fields, reason: r.reason }, 'step needs a person'); return;
    case 'skipped': ctx.log.info({ ...fields, why: r.message }, 'step skipped'); return;
  }
}

async function applyFleetSteps(steps: readonly Step[], ctx: ApplyContext, options: ApplyOptions): Promise<StepResult[]> {
  const rt = createRuntime({ node: 'bob', status: 'in-sync', summary: '', differences: [], steps: [] }, ctx, options);
  const results = new Map<string, StepResult>();
  const fleetIds = new Set(steps.map((s) => s.id));
  let workersChanged: boolean | undefined;
  for (const step of steps) {
    const started = ctx.clock.now();
    // Node steps that failed do not hold the generated files back: they must tell the truth either way.
    const blocker = blockingDependency({ ...step, after: step.after.filter((d) => fleetIds.has(d)) }, results);
    if (options.signal?.aborted || blocker) {
      results.set(step.id, resultOf(step, { status: 'skipped', message: blocker ? `not run: ${blocker.id} ${blocker.status}` : 'stopped: apply was interrupted' }, 0, 0));
      continue;
    }
    if (step.kind === 'reload-openclaw' && workersChanged === false) {
      results.set(step.id, resultOf(step, { status: 'ok', changed: false, detail: 'openclaw_workers.json unchanged: no SIGHUP' }, 0, 0));
      continue;
    }
    ctx.progress.stepStarted(step);
    let outcome: StepOutcome;
    let attempts = 1;
    if (step.kind === 'write-generated' && ctx.bob) {
      try {
        const r = await ctx.bob.installGenerated(step);
        workersChanged = r.workersChanged;
        outcome = { status: 'ok', changed: r.changed.length > 0, detail: r.changed.length > 0 ? `installed ${r.changed.join(', ')}` : 'installed files already current' };
      } catch (err) {
        outcome = { status: 'failed', message: toCommandError('installing the generated files on Bob', err).message };
      }
    } else {
      ({ outcome, attempts } = await attemptStep(rt, step));
    }
    const result = resultOf(step, outcome, attempts, ctx.clock.now() - started);
    results.set(step.id, result);
    ctx.progress.stepFinished(step, result);
    logStep(ctx, result);
  }
  return steps.map((s) => results.get(s.id)).filter((r): r is StepResult => r !== undefined);
}

export async function applyPlan(plan: Plan, ctx: ApplyContext, options: ApplyOptions): Promise<ApplyResult> {
  const started = ctx.clock.now();
  const limit = pLimit(Math.max(1, options.concurrency));
  const withTransfers: ApplyContext = ctx.transfers !== undefined || !plan.nodes.some((np) => np.steps.some(isTransfer))
    ? ctx
    : { ...ctx, transfers: TransferCoordinator.fromPlan(plan, ctx.observed.values(), options.transfer ?? { maxInternetPulls: Number.POSITIVE_INFINITY, copiesPerSource: 2 }, ctx.clock) };
  const nodes = await Promise.all(plan.nodes.map((np) => limit(() => startNode(np, withTransfers, options)).then((finish) => finish())));
  const fleet = await applyFleetSteps(plan.fleet, ctx, options);
  return { nodes, fleet, aborted: options.signal?.aborted ?? false, durationMs: ctx.clock.now() - started };
}

/** Converged: every node converged and every fleet step done. */
export function isConverged(result: ApplyResult): boolean {
  return !result.aborted && result.nodes.every((n) => n.status === 'converged') && result.fleet.every((r) => r.status === 'ok');
}
