// The GitOps daemon on Bob: keeps a clone of the fleet repository, and on
// start, on new commits (poll and webhook), on the drift schedule and on local
// changes (dev mode) it reconciles: fetch, validate the new revision with the
// CI rules (an invalid one touches no node: the last good revision goes on
// being reconciled), observe, plan, apply, generate, commit and push
// generated/. The building blocks are in this folder; the pipeline is
// reconcile/reconcile.ts, the same code `fleet apply` runs.
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FleetError } from '../errors.ts';
import { loadRevisionAt } from './load-revision.ts';
import type { Log } from '../ports.ts';
import { createContext } from '../reconcile/context.ts';
import { judgeOutcome } from '../reconcile/outcome.ts';
import { reconcile as reconcileFleet, type ReconcileResult } from '../reconcile/reconcile.ts';
import type { Desired } from '../model/desired.ts';
import { createGuard, guardedFetch, loopbackOnly } from '../net/guard.ts';
import { DEFAULT_SNAPSHOT_PATH, readSnapshot, writeSnapshot } from '../observe/snapshot.ts';
import type { Plan } from '../model/steps.ts';
import type { ObservedNode } from '../schema/observed.ts';
import type { Worker } from '../schema/generated.ts';
import { createLiveProgress, createProgressLog, fanOutProgress, type LiveProgress } from '../apply/progress.ts';
import { formatGenerated, readGenerated } from '../generate/write-generated.ts';
import type { Problem } from '../model/problem.ts';
import { createBackoffTracker, type BackoffTracker } from './backoff.ts';
import { commitMessageFor, describeGeneratedChange } from './commit-message.ts';
import {
  checkoutCandidate,
  checkoutRemoteHead,
  commitGenerated,
  ensureClone,
  fetchRemoteHead,
  isAncestor,
  isGeneratedOnly,
  linksInRevision,
  promoteCandidate,
  readLastGood,
  redactUrls,
  unpushableSource,
  type GitContext,
  type RevisionCheckout,
} from './git.ts';
import { loadBobConfig, type BobConfig } from '../bob/bob-config.ts';
import { headNeedsReconcile, initialRevisionState, judgeHead, type HeadFacts, type RevisionState } from './revision-tracker.ts';
import { clearStaleIndexLocks, type FindGitProcesses } from './git-locks.ts';
import { openHeartbeatStore, type HeartbeatStore } from './heartbeats.ts';
import { startHttpServer, type HttpLimits, type RunningHttpServer } from './http.ts';
import { tryAcquireLock, type HeldLock } from '../bob/lock.ts';
import { openNodeSecrets, type NodeSecretStore } from '../bob/node-secrets.ts';
import { IPV4 } from '../schema/common.ts';
import type { Logger } from './logger.ts';
import { createMetrics, recordReconcile, setInvalidRevision, setLastGoodRevision, setNodeCounts, type FleetMetrics, type ReconcileVerdict } from './metrics.ts';
import { createScheduler, validateCron, type TriggeredRun, type Scheduler, type TriggerReason } from './triggers.ts';
import { loadWebhookSecret } from './webhook.ts';
import { openLocalToken } from '../bob/local-token.ts';
import { addNodeMetrics } from './node-metrics.ts';
import { createNotifier } from './notifier.ts';
import { startAlerting } from './alerting.ts';
import { failedPullsOf, recordRunOutcomes } from './run-outcomes.ts';
import type { ProgressSink } from '../apply/context.ts';
import { createEventLog, eventFromLog, type EventLog, type FleetEvent } from '../dashboard/events.ts';
import { buildFleetView } from './fleet-view.ts';
import type { FleetView } from '../dashboard/view.ts';
import { createDashboard, type Dashboard } from '../dashboard/serve.ts';
import { countSteps, pendingSteps, type DaemonStatus, type NodeStatusLine } from './status.ts';

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
  /** Bob's own settings; default: read from `<bob home>/.symphony/fleetd.yaml` (or `configFile`). */
  bobConfig?: BobConfig;
  configFile?: string;
  /** Accept a branch whose history was rewritten (force-pushed); refused by default. */
  allowForcePush?: boolean;
  /** Registry API limits (the abuse bench and tests shorten them). */
  httpLimits?: HttpLimits;
  /** Test hook: which git processes work in the workdir (stale index.lock detection). */
  findGitProcesses?: FindGitProcesses;
  /** Heartbeat file writes (tests inject a full disk). */
  writeHeartbeats?: (path: string, text: string) => Promise<void>;
  /** How often alerts are judged again between reconciles (default 60 s): "unreachable for N minutes" needs time to pass. */
  alertIntervalMs?: number;
}

/** The drift schedule when the fleet's is unusable (never reached through validation; a guard for a bad last-good). */
export const DEFAULT_DRIFT_CRON = '*/15 * * * *';

export interface RunningDaemon {
  url: string;
  port: number;
  git: GitContext;
  metrics: FleetMetrics;
  heartbeats: HeartbeatStore;
  status(): DaemonStatus;
  /** What the dashboard shows. */
  view(): FleetView;
  /** Where the local token is (never the token). */
  localTokenFile: string;
  trigger(reason: TriggerReason): void;
  /** Resolves when no reconcile runs and none is pending. */
  idle(): Promise<void>;
  /** SIGHUP: reread the settings of the last good revision (poll interval, drift schedule). */
  reload(): Promise<void>;
  /** SIGTERM/SIGINT: stop triggering, finish or cleanly abort the current run, release everything. */
  stop(): Promise<void>;
}

const todayUtc = (): string => new Date().toISOString().slice(0, 10);
const IPV4_RE = new RegExp(IPV4);

/** The fleet-wide IP changes a validated heartbeat made, for the commit message: `bob: IP 192.168.1.10 -> 192.168.1.189`. */

/** The daemon's log for apply; what it says about a node is also kept as a recent event for the dashboard. */
function applyLogger(log: Logger, events: EventLog): Log {
  const note = (level: FleetEvent['level'], fields: object, message: string): void => {
    const event = eventFromLog(level, { ...fields }, message, new Date());
    if (event) events.add(event);
  };
  return {
    info: (fields, message) => {
      log.info(fields, message);
      note('info', fields, message);
    },
    warn: (fields, message) => {
      log.warn(fields, message);
      note('warn', fields, message);
    },
    error: (fields, message) => {
      log.error(fields, message);
      note('error', fields, message);
    },
    debug: (fields, message) => log.debug(fields, message),
  };
}


/** The newest observation of each node (a run with --node or backoff observes only some). */
function mergeObserved(previous: readonly ObservedNode[], next: readonly ObservedNode[]): ObservedNode[] {
  const seen = new Set(next.map((o) => o.node));
  return [...previous.filter((o) => !seen.has(o.node)), ...next].sort((a, b) => a.node.localeCompare(b.node));
}

function statusLines(plan: Plan, backoff: BackoffTracker, observed: readonly ObservedNode[]): NodeStatusLine[] {
  return plan.nodes.map((np) => {
    const b = backoff.get(np.node);
    return {
      node: np.node,
      status: np.status,
      summary: np.summary,
      address: observed.find((o) => o.node === np.node)?.reach.address ?? null,
      differences: np.differences,
      pending_steps: np.steps.length,
      backoff_until: b && b.nextAttemptAt > Date.now() ? new Date(b.nextAttemptAt).toISOString() : null,
    };
  });
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { log } = options;
  await mkdir(options.workdir, { recursive: true });
  // One daemon per workdir: a second one would lose the first one's heartbeats.
  const workdirLock = await tryAcquireLock(join(options.workdir, 'fleetd.lock'), { command: 'fleet daemon', log });
  if ('heldBy' in workdirLock) {
    const h = workdirLock.heldBy;
    throw new FleetError('lock-held', `another fleet daemon already runs on ${options.workdir}: pid ${h.pid} on ${h.hostname}, since ${h.acquired_at}. Stop it first (kill ${h.pid}), or give this one another --workdir.`);
  }
  try {
    return await startWithLock(options, workdirLock);
  } catch (err) {
    await workdirLock.release();
    throw err;
  }
}

async function startWithLock(options: DaemonOptions, workdirLock: HeldLock): Promise<RunningDaemon> {
  const { log } = options;
  const today = options.today ?? todayUtc;
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const abortAll = new AbortController();
  const bobHome = options.bobHome ?? (options.targetsFile ? join(resolve(options.targetsFile, '..'), 'bob') : homedir());
  const bobConfig = options.bobConfig ?? (await loadBobConfig(bobHome, options.configFile));
  const secrets: NodeSecretStore = await openNodeSecrets(bobConfig.secretsDir);
  const unpushable = await unpushableSource(options.repo, options.branch);
  if (unpushable !== null) throw new FleetError('invalid-input', unpushable);
  const git = await ensureClone(options.repo, options.workdir, options.branch, { guard, signal: abortAll.signal });
  const metrics = createMetrics();
  const heartbeats = await openHeartbeatStore(join(options.workdir, 'heartbeats.json'), { log, ...(options.writeHeartbeats ? { writeFile: options.writeHeartbeats } : {}) });
  const repoShown = redactUrls(options.repo);
  /** IP changes made by validated heartbeats since the last commit. */
  const ipChanges = new Map<string, { from: string | null; to: string }>();
  /** Each node's IP in the registry last generated, for the message of an IP change. */
  const registryIps = new Map<string, string>();
  let lastGood: RevisionCheckout | null = null;
  try {
    lastGood = await readLastGood(git);
  } catch (err) {
    log.warn({ err }, 'last-good.json unusable: starting without a last good revision');
  }
  let desired: Desired | null = null;
  /** Which revision is reconciled, and why not a newer one (revision-tracker.ts). */
  let revisions: RevisionState = initialRevisionState(null);
  let lastAppliedHead: string | null = null;

  const state: DaemonStatus = {
    repo: repoShown,
    branch: options.branch,
    origin: { reachable: true, since: null, error: null },
    rewritten: null,
    pending_registrations: [],
    heartbeats: { nodes: 0, write: heartbeats.writeStatus() },
    head: null,
    revision: lastGood?.revision ?? null,
    invalid: null,
    last: null,
    reconciles: 0,
    history: [],
    nodes: [],
    running: [],
    pending: [],
    pending_total: 0,
    alerts: { targets: [], firing: [], suppressed: 0, last_error: null },
  };
  /** Live step and pull progress of the running reconcile. */
  const live: LiveProgress = createLiveProgress();
  /** The last observation, the generated workers and the fleet as reconciled: what the dashboard draws. */
  let lastObserved: ObservedNode[] = [];
  let lastWorkers: Worker[] = [];
  /** Pulls that failed in the last reconcile, per node (for alerts). */
  let failedPulls = new Map<string, { model: string; message: string }[]>();
  const events = createEventLog();
  const progressLog = createProgressLog({ info: (fields, message) => {
    log.info(fields, message);
    const event = eventFromLog('info', { ...fields }, message, new Date());
    if (event) events.add(event);
  } });
  const localToken = await openLocalToken(bobConfig.localTokenFile);
  /** Where the reconcile loop tells its readers (dashboard, metrics, alerts) that something changed. */
  const hooks = {
    progress: undefined as ProgressSink | undefined,
    changed: (): void => dashboard.notify(),
    reconciled: (result: ReconcileVerdict): void => {
      const last = state.last;
      events.add({ at: new Date().toISOString(), node: null, level: result === 'failed' || result === 'invalid-revision' ? 'error' : 'info', message: `reconcile ${result}${last?.error ? `: ${last.error}` : ''}` });
      dashboard.notify();
      if (result !== 'aborted' && result !== 'skipped') alerting.judge(true);
    },
  };
  live.onChange(() => dashboard.notify());
  const fleetView = (): FleetView => buildFleetView({
    now: new Date(),
    status: status(),
    desired,
    observed: lastObserved,
    heartbeats: heartbeats.list(),
    workers: lastWorkers,
    history: state.history,
    events: events.list(undefined, 200),
    canReconcile: true,
  });
  hooks.progress = addNodeMetrics(metrics, { cards: () => fleetView().cards });
  const alerting = startAlerting({
    rules: bobConfig.alerts.rules,
    notifier: createNotifier(bobConfig.alerts.targets, { fetch: guardedFetch(guard), log }),
    intervalMs: options.alertIntervalMs ?? 60_000,
    log,
    view: fleetView,
    failedPulls: () => failedPulls,
    addEvent: (event) => events.add(event),
    onStatus: (alerts) => {
      const notify = alerts.firing.length !== state.alerts.firing.length || alerts.last_error !== state.alerts.last_error || alerts.firing.some((f, i) => f.key !== state.alerts.firing[i]?.key);
      state.alerts = alerts;
      if (notify) dashboard.notify();
    },
  });
  const dashboard: Dashboard = createDashboard({ view: fleetView, token: localToken, reconcile: () => scheduler.trigger('manual'), log });

  const loadRevision = (checkout: RevisionCheckout): Promise<{ desired: Desired | null; problems: Problem[] }> => loadRevisionAt(git, checkout, today());

  const backoffMax = (): number => (desired?.settings.reconcile.backoff_max_s ?? 900) * 1000;
  const backoff = createBackoffTracker({ baseMs: 10_000, maxMs: backoffMax() });

  if (lastGood) {
    // A last good revision this version cannot run (say, promoted before its cron was checked) is dropped, never fatal.
    const loaded = await loadRevision(lastGood).catch((err: unknown) => ({ desired: null, problems: [{ message: String(err) }] }));
    desired = loaded.desired;
    if (!desired) {
      log.warn({ revision: lastGood.revision, first: loaded.problems[0] }, 'last good revision no longer valid: waiting for a valid head');
      lastGood = null;
    }
  }
  revisions = initialRevisionState(lastGood?.revision ?? null);
  state.revision = revisions.revision;

  const originReached = (): void => {
    if (!state.origin.reachable) log.info({ since: state.origin.since }, 'origin reachable again');
    state.origin = { reachable: true, since: null, error: null };
  };
  const originUnreachable = (err: unknown): void => {
    const error = redactUrls(err instanceof Error ? err.message : String(err));
    if (state.origin.reachable) log.error({ error }, 'origin unreachable: reconciling the last good revision meanwhile');
    state.origin = { reachable: false, since: state.origin.since ?? new Date().toISOString(), error };
  };

  /** Fetches the branch head; null when origin cannot be reached (reported, not thrown). */
  async function fetchHead(): Promise<string | null> {
    try {
      const fetched = await fetchRemoteHead(git);
      originReached();
      state.head = fetched.head;
      return fetched.head;
    } catch (err) {
      if (!(err instanceof FleetError) || err.code !== 'unreachable') throw err;
      originUnreachable(err);
      return null;
    }
  }

  /** Mirrors the tracker's state into the status and the metrics. */
  function setRevisionState(next: RevisionState): void {
    if ((next.invalid?.revision ?? null) !== (revisions.invalid?.revision ?? null)) setInvalidRevision(metrics, next.invalid?.revision ?? null);
    revisions = next;
    state.revision = next.revision;
    state.invalid = next.invalid;
    state.rewritten = next.rewritten;
  }

  /** Fetches; judges a new head (revision-tracker.ts), answering its questions with git and the validator. */
  async function refreshRevision(): Promise<void> {
    const head = await fetchHead();
    if (head === null) return;
    const facts: HeadFacts = {};
    let candidate: RevisionCheckout | null = null;
    let loaded: { desired: Desired | null; problems: Problem[] } | null = null;
    for (;;) {
      const judged = judgeHead(revisions, head, facts, { allowForcePush: options.allowForcePush === true, now: new Date() });
      if ('ask' in judged) {
        const good = revisions.lastGood;
        switch (judged.ask) {
          case 'descends': facts.descends = good === null || (await isAncestor(git, good, head)); break;
          case 'generatedLinks': facts.generatedLinks = await linksInRevision(git, head, ['generated']); break;
          case 'generatedOnly': facts.generatedOnly = good !== null && (await isGeneratedOnly(git, good, head)); break;
          case 'validation':
            candidate = await checkoutCandidate(git, head);
            loaded = await loadRevision(candidate);
            facts.validation = loaded.desired ? { valid: true } : { valid: false, problems: loaded.problems };
            break;
        }
        continue;
      }
      for (const note of judged.notes) {
        if (note.startsWith('BRANCH HISTORY REWRITTEN')) log.error({ from: revisions.lastGood, to: head, accepted: options.allowForcePush === true }, note);
        else log.info({ head }, note);
      }
      setRevisionState(judged.state);
      if (judged.outcome === 'invalid') {
        const problems = judged.state.invalid?.problems ?? [];
        log.error({ revision: head, errors: problems.length, first: problems[0] }, 'revision invalid: keeping the last good one, no node touched');
      }
      if (judged.outcome === 'promoted' && candidate && loaded?.desired) {
        lastGood = await promoteCandidate(git, candidate);
        desired = loaded.desired;
        setLastGoodRevision(metrics, lastGood.revision);
        backoff.reconfigure({ baseMs: 10_000, maxMs: backoffMax() });
        scheduler.reconfigure(schedulerSettings());
        heartbeats.retain(new Set(desired.nodes.map((n) => n.name)));
        log.info({ revision: lastGood.revision }, 'new revision validated');
      }
      return;
    }
  }

  /** Nodes to leave alone this run: they failed recently and their backoff has not expired. */
  function nodesToRun(d: Desired): string[] | undefined {
    const now = Date.now();
    const skipped = d.nodes.filter((n) => backoff.shouldSkip(n.name, now)).map((n) => n.name);
    if (skipped.length === 0) return undefined;
    log.info({ nodes: skipped }, 'nodes in backoff skipped this run');
    return d.nodes.map((n) => n.name).filter((n) => !skipped.includes(n));
  }



  async function reconcile(request: TriggeredRun): Promise<void> {
    const started = Date.now();
    state.last = { reasons: request.reasons, started_at: new Date(started).toISOString(), finished_at: null, result: 'running', duration_ms: null, error: null, commit: null };
    hooks.changed();
    log.info({ reasons: request.reasons }, 'reconcile started');
    let result: ReconcileVerdict = 'ok';
    try {
      await clearStaleIndexLocks(git.dir, git.workdir, { log, ...(options.findGitProcesses ? { find: options.findGitProcesses } : {}) });
      await refreshRevision();
      if (!lastGood || !desired) {
        result = state.invalid ? 'invalid-revision' : 'skipped';
        log.warn({ head: state.head }, 'no valid revision yet: nothing reconciled');
        return;
      }
      // The daemon's clone follows the remote head; generated/ is written there and committed.
      // Not while that head is a refused rewrite or unknown: then only the nodes are reconciled.
      const commitAllowed = state.origin.reachable && !(state.rewritten && !state.rewritten.accepted) && !state.invalid?.problems.some((p) => p.rule === 'symlink');
      if (commitAllowed) await checkoutRemoteHead(git);
      const generatedDir = join(git.dir, 'generated');
      const snapshotFile = join(git.dir, DEFAULT_SNAPSHOT_PATH);
      // As committed before this run, for the commit message (only the registry is kept).
      const previousRegistry = (await readGenerated(generatedDir).catch((): Awaited<ReturnType<typeof readGenerated>> => ({}))).nodes_registry;
      const nodes = nodesToRun(desired);
      let applied: ReconcileResult;
      try {
        const ctx = await createContext({
          generatedDir,
          ...(options.targetsFile ? { targetsFile: options.targetsFile } : {}),
          bobHome,
          bobConfig,
          secrets,
          guard,
          ...(options.lockPath ? { lockPath: options.lockPath } : {}),
          log: applyLogger(log, events),
          progress: fanOutProgress(live, progressLog, hooks.progress),
          ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
        });
        applied = await reconcileFleet(ctx, {
          desired,
          ...(nodes ? { nodes } : {}),
          prune: false,
          dryRun: false,
          today: today(),
          signal: request.signal,
          heartbeats: heartbeats.list(),
          // Read here, not held beside the call: garbage once reconcile returns, before the snapshot is written again.
          previousObserved: await readSnapshot(snapshotFile).catch(() => []),
          onPlan: (plan, observed) => {
            state.pending = pendingSteps(plan);
            state.pending_total = countSteps(plan);
            state.nodes = statusLines(plan, backoff, observed);
            lastObserved = mergeObserved(lastObserved, observed);
            hooks.changed();
          },
        });
      } catch (err) {
        if (err instanceof FleetError && err.code === 'lock-held') {
          result = 'skipped';
          log.warn({ err: err.message }, 'another fleet apply holds the lock: skipped, will run on the next trigger');
          return;
        }
        throw err;
      }
      recordRunOutcomes(applied, backoff, metrics, Date.now());
      failedPulls = failedPullsOf(applied);
      const after = applied.after ?? applied.plan;
      lastObserved = mergeObserved(lastObserved, applied.observedAfter ?? applied.observed);
      state.nodes = statusLines(after, backoff, lastObserved);
      state.pending = pendingSteps(after);
      state.pending_total = countSteps(after);
      if (applied.generated) lastWorkers = applied.generated.openclaw_workers.workers;
      const counts: Record<string, number> = {};
      for (const np of after.nodes) counts[np.status] = (counts[np.status] ?? 0) + 1;
      setNodeCounts(metrics, counts, applied.plan.nodes.filter((n) => n.status === 'drifted').length);
      if (request.signal.aborted) {
        result = 'aborted';
        return;
      }
      // Commit generated/ and the observed snapshot (CI plans pull requests against it).
      const snapshotText = await writeSnapshot(snapshotFile, applied.observedAfter ?? applied.observed, { merge: true });
      const files = applied.generated;
      for (const n of files?.nodes_registry.nodes ?? []) registryIps.set(n.node_id, n.network.ip);
      if (files && !commitAllowed) {
        log.warn({ origin_reachable: state.origin.reachable, rewritten: state.rewritten !== null }, 'generated files installed on Bob; not committed while origin is unreachable or its history is refused');
      }
      if (files && commitAllowed) {
        const message = commitMessageFor(ipChanges, describeGeneratedChange(previousRegistry, files.nodes_registry));
        const committedIps = new Map(ipChanges);
        let commit;
        try {
          commit = await commitGenerated(
          git,
          {
            'nodes_registry.json': formatGenerated(files.nodes_registry),
            'openclaw_workers.json': formatGenerated(files.openclaw_workers),
            'observed.json': snapshotText,
          },
          message,
          { name: desired.settings.bob.git_author_name ?? 'Symphony Fleet', email: desired.settings.bob.git_author_email ?? 'fleet@symphony.local' },
          { onRetry: (info) => log.warn(info, 'push raced: rebased onto the new remote head, retrying') },
          );
        } catch (err) {
          if (!(err instanceof FleetError) || err.code !== 'unreachable') throw err;
          // The files are on Bob already; the next reconcile commits them.
          originUnreachable(err);
          commit = null;
        }
        if (commit !== null) {
          originReached();
          for (const [node, c] of committedIps) if (ipChanges.get(node) === c) ipChanges.delete(node);
        }
        if (commit?.committed) {
          state.last.commit = commit.revision;
          lastAppliedHead = commit.revision;
          // A push race rebased our commit onto someone else's: their fleet change still needs a reconcile.
          if (await isGeneratedOnly(git, lastGood.revision, commit.revision)) revisions = { ...revisions, seen: commit.revision };
          else scheduler.trigger('commit');
          result = 'changed';
          log.info({ revision: commit.revision, changed: commit.changed, attempts: commit.attempts }, 'generated files committed and pushed');
        }
      }
      log.info({ nodes: counts, exit: judgeOutcome(applied).exitCode }, 'reconcile finished');
    } catch (err) {
      result = request.signal.aborted ? 'aborted' : 'failed';
      const message = redactUrls(err instanceof Error ? err.message : String(err));
      if (state.last) state.last.error = message;
      log.error({ error: message }, 'reconcile failed');
    } finally {
      const finished = Date.now();
      state.reconciles += 1;
      if (state.last) {
        state.last.finished_at = new Date(finished).toISOString();
        state.last.result = result;
        state.last.duration_ms = finished - started;
        const { commit: _commit, ...record } = state.last;
        state.history = [{ ...record }, ...state.history].slice(0, 20);
      }
      hooks.reconciled(result);
      recordReconcile(metrics, result, (finished - started) / 1000);
    }
  }

  async function checkForCommits(): Promise<boolean> {
    const head = await fetchHead();
    if (head === null) return false;
    const own = lastAppliedHead !== null && head !== revisions.seen && (await isGeneratedOnly(git, lastAppliedHead, head));
    if (!headNeedsReconcile(revisions, head, own)) {
      if (own && revisions.invalid === null) {
        revisions = { ...revisions, seen: head };
        lastAppliedHead = head;
      }
      return false;
    }
    return true;
  }

  /** Never throws: a schedule the scheduler would refuse falls back to the default with an error line. */
  function schedulerSettings(): { pollIntervalMs: number; driftCron: string } {
    let driftCron = options.driftCron ?? desired?.settings.reconcile.drift_cron ?? DEFAULT_DRIFT_CRON;
    try {
      validateCron(driftCron);
    } catch (err) {
      log.error({ drift_cron: driftCron, error: (err as Error).message }, 'drift schedule unusable: using the default');
      driftCron = DEFAULT_DRIFT_CRON;
    }
    return {
      pollIntervalMs: options.pollIntervalMs ?? (desired?.settings.reconcile.poll_interval_s ?? 60) * 1000,
      driftCron,
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
  let lastWebhookHead: string | null = null;
  const status = (): DaemonStatus => {
    state.running = live.running();
    const arriving = live.transfers();
    if (arriving.length === 0) delete state.transfers;
    else state.transfers = arriving;
    state.pending_registrations = heartbeats.listPending();
    state.heartbeats = { nodes: heartbeats.listBeats().length, write: heartbeats.writeStatus() };
    return state;
  };
  const page = dashboard;
  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      host: options.http.host,
      port: options.http.port,
      heartbeats,
      registry: {
        isKnownNode: (node) => desired?.nodes.some((n) => n.name === node) ?? false,
        addressesOf: (node) => desired?.nodes.find((n) => n.name === node)?.addresses.filter((a) => IPV4_RE.test(a)) ?? [],
        keysOf: (node) => secrets.keys(node),
      },
      allowLoopback: loopbackOnly(),
      metrics,
      getStatus: () => status(),
      webhook: {
        secret: webhookSecret,
        branch: options.branch,
        onPush: (push) => {
          // A burst of pushes of the same head (redeliveries, replays) is one reconcile.
          if (push.after !== null && (push.after === revisions.seen || push.after === lastWebhookHead)) {
            log.debug({ after: push.after }, 'push of a head already seen: no new reconcile');
            return;
          }
          lastWebhookHead = push.after;
          scheduler.trigger('webhook');
        },
      },
      onAddressChange: (node, from, to) => {
        // Validated (signed, plausible, from that address): the registry follows within seconds.
        const shown = ipChanges.get(node)?.from ?? registryIps.get(node) ?? from;
        if (shown === to) {
          ipChanges.delete(node);
          return;
        }
        ipChanges.set(node, { from: shown, to });
        log.info({ node, from, to }, 'node address changed: regenerating the registry');
        scheduler.trigger('address');
      },
      log,
      ...(options.httpLimits ? { limits: options.httpLimits } : {}),
      extraRoutes: (path) => page.extraRoutes(path),
    });
  } catch (err) {
    abortAll.abort();
    page.close();
    throw new FleetError('invalid-input', `cannot serve on ${options.http.host}:${options.http.port}: ${err instanceof Error ? err.message : String(err)}. Pick another port with --port.`, { cause: err });
  }
  await scheduler.start();
  log.info({ url: http.url, repo: repoShown, branch: options.branch, config: bobConfig.file, trust_on_first_use: bobConfig.ssh.trustOnFirstUse }, 'daemon started');

  return {
    url: http.url,
    port: http.port,
    git,
    metrics,
    heartbeats,
    status,
    view: fleetView,
    localTokenFile: localToken.file,
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
      page.close();
      await http.close(1000);
      await alerting.stop();
      await heartbeats.flush().catch((err: unknown) => log.error({ err }, 'heartbeats not written at shutdown'));
      heartbeats.close();
      await workdirLock.release();
      log.info({ finished: stopped.finished }, 'daemon stopped');
    },
  };
}
