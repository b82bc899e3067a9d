// The GitOps daemon on Bob: keeps a clone of the fleet repository, and on
// start, on new commits (poll and webhook), on the drift schedule and on local
// changes (dev mode) it reconciles: fetch, validate the new revision with the
// CI rules (an invalid one touches no node: the last good revision goes on
// being reconciled), observe, plan, apply, generate, commit and push
// generated/. The building blocks are in this folder; the pipeline is
// apply/run-apply.ts, the same code `fleet apply` runs.
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { FleetError } from '../errors.ts';
import { runApply, type RunApplyResult } from '../apply/run-apply.ts';
import type { ProgressSink, PullProgress } from '../apply/context.ts';
import type { ApplyLogger } from '../apply/context.ts';
import { loadFleet } from '../load/load-fleet.ts';
import type { Desired } from '../load/desired.ts';
import { createGuard, loopbackOnly } from '../net/guard.ts';
import { DEFAULT_SNAPSHOT_PATH, readSnapshot, writeSnapshot } from '../observe/snapshot.ts';
import type { NodePlan, NodeStatus, Plan } from '../plan/steps.ts';
import { formatGenerated, readGenerated } from '../generate/write-generated.ts';
import type { Problem } from '../validate/problem.ts';
import { createBackoffTracker, type BackoffTracker } from './backoff.ts';
import { describeGeneratedChange } from './commit-message.ts';
import {
  checkoutCandidate,
  commitGenerated,
  ensureClone,
  fetchRemoteHead,
  isGeneratedOnly,
  promoteCandidate,
  readLastGood,
  type GitContext,
  type RevisionCheckout,
} from './git.ts';
import { openHeartbeatStore, type HeartbeatStore } from './heartbeats.ts';
import { startHttpServer, type RunningHttpServer } from './http.ts';
import type { Logger } from './logger.ts';
import { createMetrics, recordReconcile, setInvalidRevision, setLastGoodRevision, setNodeCounts, type FleetMetrics, type ReconcileResult } from './metrics.ts';
import { createScheduler, type ReconcileRequest, type Scheduler, type TriggerReason } from './triggers.ts';
import { loadWebhookSecret } from './webhook.ts';

export interface DaemonOptions {
  /** URL or path of the fleet repository (origin). */
  repo: string;
  branch: string;
  /** Where the clone, revision slots, heartbeats and lock live. */
  workdir: string;
  targetsFile?: string;
  /** Dev mode: reconcile when files under this directory change. */
  watchDir?: string;
  http: { host: string; port: number };
  log: Logger;
  /** Overrides of the fleet settings (tests and the demo use short ones). */
  pollIntervalMs?: number;
  driftCron?: string;
  /** Bob's home for the installed files (default: real home, or `<targets dir>/bob` for a simulated fleet). */
  bobHome?: string;
  /** Default: the lock `fleet apply` takes (<bob home>/.symphony/fleet.lock), so the two never run at once. */
  lockPath?: string;
  webhookSecret?: string | null;
  /** YYYY-MM-DD; default: today (UTC). */
  today?: () => string;
  /** Test hook: time between a transient failure and the retry inside apply. */
  backoffBaseMs?: number;
}

export interface NodeStatusLine {
  node: string;
  status: NodeStatus;
  summary: string;
  differences: NodePlan['differences'];
  pending_steps: number;
  backoff_until: string | null;
}

export interface DaemonStatus {
  repo: string;
  branch: string;
  /** Remote head at the last fetch. */
  head: string | null;
  /** The revision being reconciled (passed validation). */
  revision: string | null;
  invalid: { revision: string; problems: Problem[] } | null;
  last: {
    reasons: TriggerReason[];
    started_at: string;
    finished_at: string | null;
    result: ReconcileResult | 'running';
    duration_ms: number | null;
    error: string | null;
    commit: string | null;
  } | null;
  reconciles: number;
  nodes: NodeStatusLine[];
  /** Models arriving on nodes right now (internet pulls and LAN copies): source, bytes, rate, ETA. */
  transfers?: PullProgress[];
}

export interface RunningDaemon {
  url: string;
  port: number;
  git: GitContext;
  metrics: FleetMetrics;
  heartbeats: HeartbeatStore;
  status(): DaemonStatus;
  trigger(reason: TriggerReason): void;
  /** Resolves when no reconcile runs and none is pending. */
  idle(): Promise<void>;
  /** SIGHUP: reread the settings of the last good revision (poll interval, drift schedule). */
  reload(): Promise<void>;
  /** SIGTERM/SIGINT: stop triggering, finish or cleanly abort the current run, release everything. */
  stop(): Promise<void>;
}

const todayUtc = (): string => new Date().toISOString().slice(0, 10);

function applyLogger(log: Logger): ApplyLogger {
  return {
    info: (fields, message) => log.info(fields, message),
    warn: (fields, message) => log.warn(fields, message),
    error: (fields, message) => log.error(fields, message),
    debug: (fields, message) => log.debug(fields, message),
  };
}

/** Keeps `state.transfers` to the models arriving now: the latest report of each, gone when its step ends. */
function transferStatus(state: DaemonStatus): Partial<ProgressSink> {
  const live = new Map<string, PullProgress>();
  const publish = (): void => {
    if (live.size === 0) delete state.transfers;
    else state.transfers = [...live.values()];
  };
  return {
    pullProgress(p) {
      live.set(`${p.node}\u0000${p.model}`, p);
      publish();
    },
    stepFinished(step) {
      if ((step.kind === 'pull-model' || step.kind === 'copy-model') && step.node !== null) {
        live.delete(`${step.node}\u0000${step.model}`);
        publish();
      }
    },
  };
}

function statusLines(plan: Plan, backoff: BackoffTracker): NodeStatusLine[] {
  return plan.nodes.map((np) => {
    const b = backoff.get(np.node);
    return {
      node: np.node,
      status: np.status,
      summary: np.summary,
      differences: np.differences,
      pending_steps: np.steps.length,
      backoff_until: b && b.nextAttemptAt > Date.now() ? new Date(b.nextAttemptAt).toISOString() : null,
    };
  });
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { log } = options;
  const today = options.today ?? todayUtc;
  await mkdir(options.workdir, { recursive: true });
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const abortAll = new AbortController();
  const git = await ensureClone(options.repo, options.workdir, options.branch, { guard, signal: abortAll.signal });
  const metrics = createMetrics();
  const heartbeats = await openHeartbeatStore(join(options.workdir, 'heartbeats.json'), { log });
  let lastGood: RevisionCheckout | null = await readLastGood(git);
  let desired: Desired | null = null;
  let lastSeenHead: string | null = null;
  let lastAppliedHead: string | null = null;

  const state: DaemonStatus = {
    repo: options.repo,
    branch: options.branch,
    head: null,
    revision: lastGood?.revision ?? null,
    invalid: null,
    last: null,
    reconciles: 0,
    nodes: [],
  };

  async function loadRevision(checkout: RevisionCheckout): Promise<{ desired: Desired | null; problems: Problem[] }> {
    const result = await loadFleet(join(checkout.dir, 'fleet'), { today: today() });
    // Paths relative to the repository, as a pull request shows them.
    const errors = result.problems
      .filter((p) => p.severity === 'error')
      .map((p) => ({ ...p, file: relative(checkout.dir, resolve(checkout.dir, p.file)) }));
    return { desired: errors.length === 0 ? result.desired : null, problems: errors };
  }

  const backoffMax = (): number => (desired?.settings.reconcile.backoff_max_s ?? 900) * 1000;
  const backoff = createBackoffTracker({ baseMs: 10_000, maxMs: backoffMax() });

  if (lastGood) {
    const loaded = await loadRevision(lastGood);
    desired = loaded.desired;
    if (!desired) lastGood = null;
  }

  /** Fetches; validates a new head and makes it the last good revision, or records why it is invalid. */
  async function refreshRevision(): Promise<void> {
    const fetched = await fetchRemoteHead(git);
    state.head = fetched.head;
    if (fetched.head === lastSeenHead) return;
    lastSeenHead = fetched.head;
    if (lastGood?.revision === fetched.head) return;
    // fleet/ at the head is the last good one (the daemon's own commits, or a change and its revert).
    if (lastGood && (await isGeneratedOnly(git, lastGood.revision, fetched.head))) {
      state.revision = fetched.head;
      if (state.invalid) {
        state.invalid = null;
        setInvalidRevision(metrics, null);
        log.info({ revision: fetched.head }, 'branch head valid again');
      }
      return;
    }
    const candidate = await checkoutCandidate(git, fetched.head);
    const loaded = await loadRevision(candidate);
    if (!loaded.desired) {
      state.invalid = { revision: fetched.head, problems: loaded.problems };
      setInvalidRevision(metrics, fetched.head);
      log.error({ revision: fetched.head, errors: loaded.problems.length, first: loaded.problems[0] }, 'revision invalid: keeping the last good one, no node touched');
      return;
    }
    lastGood = await promoteCandidate(git, candidate);
    desired = loaded.desired;
    state.revision = lastGood.revision;
    state.invalid = null;
    setInvalidRevision(metrics, null);
    setLastGoodRevision(metrics, lastGood.revision);
    backoff.reconfigure({ baseMs: 10_000, maxMs: backoffMax() });
    scheduler.reconfigure(schedulerSettings());
    log.info({ revision: lastGood.revision }, 'new revision validated');
  }

  /** Nodes to leave alone this run: they failed recently and their backoff has not expired. */
  function nodesToRun(d: Desired): string[] | undefined {
    const now = Date.now();
    const skipped = d.nodes.filter((n) => backoff.shouldSkip(n.name, now)).map((n) => n.name);
    if (skipped.length === 0) return undefined;
    log.info({ nodes: skipped }, 'nodes in backoff skipped this run');
    return d.nodes.map((n) => n.name).filter((n) => !skipped.includes(n));
  }

  function recordNodeOutcomes(result: RunApplyResult): void {
    const now = Date.now();
    const after = result.after ?? result.plan;
    for (const np of after.nodes) {
      const applied = result.applied?.nodes.find((n) => n.node === np.node);
      if (applied && (applied.status === 'failed' || applied.status === 'partial') && np.steps.some((s) => s.kind !== 'manual')) {
        backoff.recordFailure(np.node, now, applied.message ?? np.summary);
      } else if (np.status === 'in-sync' || np.status === 'retired') {
        backoff.recordSuccess(np.node);
      }
    }
    for (const r of result.applied?.nodes ?? []) {
      for (const s of r.steps) metrics.steps.inc({ kind: s.kind, result: s.status === 'ok' ? 'ok' : s.status === 'failed' ? 'failed' : 'skipped' });
    }
    for (const r of result.applied?.nodes ?? []) {
      for (const s of r.steps) {
        if (s.kind === 'pull-model' && s.status === 'ok') {
          const step = result.plan.nodes.flatMap((n) => n.steps).find((x) => x.id === s.id);
          if (step?.kind === 'pull-model') metrics.pullBytes.inc(step.bytes);
        }
      }
    }
  }

  async function reconcile(request: ReconcileRequest): Promise<void> {
    const started = Date.now();
    state.last = { reasons: request.reasons, started_at: new Date(started).toISOString(), finished_at: null, result: 'running', duration_ms: null, error: null, commit: null };
    log.info({ reasons: request.reasons }, 'reconcile started');
    let result: ReconcileResult = 'ok';
    try {
      await refreshRevision();
      if (!lastGood || !desired) {
        result = state.invalid ? 'invalid-revision' : 'skipped';
        log.warn({ head: state.head }, 'no valid revision yet: nothing reconciled');
        return;
      }
      // The daemon's clone follows the remote head; generated/ is written there and committed.
      await git.git.raw(['checkout', '--force', '-B', git.branch, `${git.remote}/${git.branch}`]);
      const generatedDir = join(git.dir, 'generated');
      const snapshotFile = join(git.dir, DEFAULT_SNAPSHOT_PATH);
      // As committed before this run, for the commit message (only the registry is kept).
      const previousRegistry = (await readGenerated(generatedDir).catch((): Awaited<ReturnType<typeof readGenerated>> => ({}))).nodes_registry;
      const nodes = nodesToRun(desired);
      let applied: RunApplyResult;
      try {
        applied = await runApply({
          fleetDir: join(lastGood.dir, 'fleet'),
          desired,
          ...(nodes ? { nodes } : {}),
          ...(options.targetsFile ? { targetsFile: options.targetsFile } : {}),
          yes: true,
          prune: false,
          dryRun: false,
          generatedDir,
          ...(options.bobHome ? { bobHome: options.bobHome } : {}),
          ...(options.lockPath ? { lockPath: options.lockPath } : {}),
          today: today(),
          tty: false,
          write: (text) => {
            for (const line of text.split('\n')) if (line.trim() !== '') log.debug({ line }, 'apply output');
          },
          confirm: () => Promise.resolve(false),
          signal: request.signal,
          logger: applyLogger(log),
          progress: transferStatus(state),
          heartbeats: heartbeats.list(),
          // Read here, not held beside the call: garbage once runApply returns, before the snapshot is written again.
          previousObserved: await readSnapshot(snapshotFile).catch(() => []),
          ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
        });
      } catch (err) {
        if (err instanceof FleetError && err.code === 'lock-held') {
          result = 'skipped';
          log.warn({ err: err.message }, 'another fleet apply holds the lock: skipped, will run on the next trigger');
          return;
        }
        throw err;
      }
      recordNodeOutcomes(applied);
      const after = applied.after ?? applied.plan;
      state.nodes = statusLines(after, backoff);
      const counts: Record<string, number> = {};
      for (const np of after.nodes) counts[np.status] = (counts[np.status] ?? 0) + 1;
      setNodeCounts(metrics, counts, applied.plan.nodes.filter((n) => n.status === 'drifted').length);
      if (request.signal.aborted) {
        result = 'aborted';
        return;
      }
      // Commit generated/ and the observed snapshot (CI plans pull requests against it).
      const snapshotText = await writeSnapshot(snapshotFile, applied.observed, { merge: true });
      const files = applied.generated;
      if (files) {
        const commit = await commitGenerated(
          git,
          {
            'nodes_registry.json': formatGenerated(files.nodes_registry),
            'openclaw_workers.json': formatGenerated(files.openclaw_workers),
            'observed.json': snapshotText,
          },
          describeGeneratedChange(previousRegistry, files.nodes_registry),
          { name: desired.settings.bob.git_author_name, email: desired.settings.bob.git_author_email },
          { onRetry: (info) => log.warn(info, 'push raced: rebased onto the new remote head, retrying') },
        );
        if (commit.committed) {
          state.last.commit = commit.revision;
          lastAppliedHead = commit.revision;
          // A push race rebased our commit onto someone else's: their fleet change still needs a reconcile.
          if (await isGeneratedOnly(git, lastGood.revision, commit.revision)) lastSeenHead = commit.revision;
          else scheduler.trigger('commit');
          result = 'changed';
          log.info({ revision: commit.revision, changed: commit.changed, attempts: commit.attempts }, 'generated files committed and pushed');
        }
      }
      log.info({ nodes: counts, exit: applied.exitCode }, 'reconcile finished');
    } catch (err) {
      result = request.signal.aborted ? 'aborted' : 'failed';
      if (state.last) state.last.error = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'reconcile failed');
    } finally {
      const finished = Date.now();
      state.reconciles += 1;
      if (state.last) {
        state.last.finished_at = new Date(finished).toISOString();
        state.last.result = result;
        state.last.duration_ms = finished - started;
      }
      recordReconcile(metrics, result, (finished - started) / 1000);
    }
  }

  async function checkForCommits(): Promise<boolean> {
    const fetched = await fetchRemoteHead(git);
    state.head = fetched.head;
    if (fetched.head === lastSeenHead) return false;
    // While the head is invalid every new commit is validated (a revert must clear the error).
    if (state.invalid) return true;
    // The daemon's own commits (generated/ only) never trigger a reconcile.
    if (lastAppliedHead && (await isGeneratedOnly(git, lastAppliedHead, fetched.head))) {
      lastSeenHead = fetched.head;
      lastAppliedHead = fetched.head;
      return false;
    }
    return true;
  }

  function schedulerSettings(): { pollIntervalMs: number; driftCron: string } {
    return {
      pollIntervalMs: options.pollIntervalMs ?? (desired?.settings.reconcile.poll_interval_s ?? 60) * 1000,
      driftCron: options.driftCron ?? desired?.settings.reconcile.drift_cron ?? '*/5 * * * *',
    };
  }

  const scheduler: Scheduler = createScheduler({
    reconcile,
    checkForCommits,
    ...schedulerSettings(),
    ...(options.watchDir ? { watchDir: options.watchDir } : {}),
    log,
    onError: (err, context) => log.error({ err, ...context }, 'trigger failed'),
  });

  const webhookSecret = options.webhookSecret !== undefined ? options.webhookSecret : await loadWebhookSecret();
  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      host: options.http.host,
      port: options.http.port,
      heartbeats,
      isKnownNode: (node) => desired?.nodes.some((n) => n.name === node) ?? false,
      metrics,
      getStatus: () => state,
      webhook: { secret: webhookSecret, branch: options.branch, onPush: () => scheduler.trigger('webhook') },
      onAddressChange: (node, from, to) => log.info({ node, from, to }, 'node address changed: the registry follows on the next reconcile'),
      log,
    });
  } catch (err) {
    abortAll.abort();
    throw new FleetError('invalid-input', `cannot serve on ${options.http.host}:${options.http.port}: ${err instanceof Error ? err.message : String(err)}. Pick another port with --port.`, { cause: err });
  }
  await scheduler.start();
  log.info({ url: http.url, repo: options.repo, branch: options.branch }, 'daemon started');

  return {
    url: http.url,
    port: http.port,
    git,
    metrics,
    heartbeats,
    status: () => state,
    trigger: (reason) => scheduler.trigger(reason),
    idle: () => scheduler.idle(),
    async reload() {
      if (lastGood) {
        const loaded = await loadRevision(lastGood);
        if (loaded.desired) desired = loaded.desired;
      }
      scheduler.reconfigure(schedulerSettings());
      log.info(schedulerSettings(), 'settings reloaded');
    },
    async stop() {
      log.info({}, 'daemon stopping');
      const stopped = await scheduler.stop({ graceMs: 0, timeoutMs: 30_000 });
      abortAll.abort();
      await http.close(1000);
      await heartbeats.flush();
      log.info({ finished: stopped.finished }, 'daemon stopped');
    },
  };
}
