// `fleet daemon`: the GitOps loop on Bob; `fleet daemon install|uninstall`
// manage its launchd agent; `fleet status` asks a running daemon, or plans
// directly when none answers.
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import { DEFAULT_PORT } from '../../daemon/http.ts';
import { createLogger, isLogLevel, LOG_LEVELS, type LogLevel } from '../../daemon/logger.ts';
import { RELAUNCHED_ENV, typesWereStripped } from '../../daemon/relaunch.ts';
import { startDaemon, type DaemonStatus } from '../../daemon/run-daemon.ts';
import { validateCron } from '../../daemon/triggers.ts';
import { createGuard, guardedFetch, loopbackOnly } from '../../net/guard.ts';
import { describeSource, formatBytes, formatBytesPerSecond, formatEta, percentDone, type RunningStep } from '../../apply/progress.ts';
import { printable } from '../../plan/summarize-plan.ts';
import { defaultFleetDir, defaultGeneratedDir } from '../repo-root.ts';
// Loaded by the commands that need them, not by the long-running daemon:
// launchd.ts (plist, an XML builder and parser) for install/uninstall, and
// plan.ts (its renderers) for `fleet status` without a daemon.

interface DaemonFlags {
  repo: string;
  branch: string;
  workdir: string;
  targets?: string;
  watch?: string;
  host: string;
  port: string;
  logLevel: string;
  pollInterval?: string;
  driftCron?: string;
  config?: string;
  allowForcePush?: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FleetError('invalid-input', `--port ${JSON.stringify(value)} is not a port number (0-65535)`);
  return port;
}

function parseLevel(value: string): LogLevel {
  if (!isLogLevel(value)) throw new FleetError('invalid-input', `--log-level ${JSON.stringify(value)}: use one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

async function runDaemon(flags: DaemonFlags): Promise<void> {
  const log = createLogger({ level: parseLevel(flags.logLevel), pretty: 'auto' });
  // How this process was started (bin/fleet.mjs and daemon/relaunch.ts): its V8 flags, and whether the sources came from the compile cache.
  log.info({ node: process.version, flags: process.execArgv, typesStripped: typesWereStripped(), relaunched: process.env[RELAUNCHED_ENV] === '1' }, 'daemon process');
  if (flags.driftCron !== undefined) validateCron(flags.driftCron);
  const pollSeconds = flags.pollInterval !== undefined ? Number(flags.pollInterval) : undefined;
  if (pollSeconds !== undefined && !(pollSeconds > 0)) throw new FleetError('invalid-input', `--poll-interval ${JSON.stringify(flags.pollInterval)} must be a positive number of seconds`);
  const daemon = await startDaemon({
    repo: flags.repo,
    branch: flags.branch,
    workdir: resolve(flags.workdir),
    ...(flags.targets ? { targetsFile: resolve(flags.targets) } : {}),
    ...(flags.watch ? { watchDir: resolve(flags.watch) } : {}),
    http: { host: flags.host, port: parsePort(flags.port) },
    log,
    ...(pollSeconds !== undefined ? { pollIntervalMs: pollSeconds * 1000 } : {}),
    ...(flags.driftCron ? { driftCron: flags.driftCron } : {}),
    ...(flags.config ? { configFile: resolve(flags.config) } : {}),
    ...(flags.allowForcePush ? { allowForcePush: true } : {}),
  });
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'signal received');
      daemon.stop().then(done, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        done();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', () => {
      daemon.reload().catch((err: unknown) => log.error({ err }, 'reload failed'));
    });
  });
}

function launcherPath(): string {
  return fileURLToPath(new URL('../../../bin/fleet.mjs', import.meta.url));
}

function uid(): number {
  return process.getuid?.() ?? Number(execFileSync('id', ['-u'], { encoding: 'utf8' }).trim());
}

/** One line per running step under its node: pulls with percent, bytes, MB/s and ETA. */
function renderRunning(r: RunningStep): string {
  const t = r.transfer;
  if (!t) return `      running ${r.kind} (${r.id})`;
  const verb = t.source?.startsWith('lan:') === true ? 'copying' : r.kind === 'pull-model' ? 'pulling' : r.kind;
  const from = t.source === undefined ? '' : ` (${describeSource(t.source)})`;
  return `      ${verb} ${t.model}${from}  ${String(percentDone(t)).padStart(3)}%  ${formatBytes(t.completed)} of ${formatBytes(t.total)}  ${formatBytesPerSecond(t.bytesPerSecond)}  ${formatEta(t.etaSeconds)}`;
}

/** The last reconcile that finished (the one running now has no result yet). */
function lastFinished(status: DaemonStatus): { result: string; error: string | null } | null {
  const finished = (status.history ?? []).find((h) => h.result !== 'running');
  if (finished) return finished;
  return status.last && status.last.result !== 'running' ? status.last : null;
}

/** 1: the revision is invalid or the last reconcile failed; 2: a node is not in sync; 0: all well. With the reason. */
export function statusExit(status: DaemonStatus): { code: 0 | 1 | 2; why: string | null } {
  if (status.invalid) return { code: 1, why: `the branch head ${status.invalid.revision.slice(0, 12)} is invalid (${status.invalid.problems.length} error(s)); the last good revision is reconciled meanwhile` };
  const last = lastFinished(status);
  if (last?.result === 'failed') return { code: 1, why: `the last reconcile failed${last.error ? `: ${last.error}` : ''}` };
  const off = status.nodes.filter((n) => !['in-sync', 'retired', 'away'].includes(n.status));
  if (off.length > 0) return { code: 2, why: `not in sync: ${off.map((n) => `${n.node} (${n.status})`).join(', ')}` };
  return { code: 0, why: null };
}

export function renderStatus(status: DaemonStatus): string {
  const lines = [
    `revision ${status.revision ?? '(none valid yet)'}${status.head && status.head !== status.revision ? ` (branch head ${status.head})` : ''}`,
  ];
  if (status.invalid) {
    lines.push(`INVALID head ${status.invalid.revision}: ${status.invalid.problems.length} error(s), first: ${status.invalid.problems[0]?.file ?? ''}:${status.invalid.problems[0]?.line ?? ''} ${status.invalid.problems[0]?.message ?? ''}`);
  }
  if (!status.origin.reachable) lines.push(`ORIGIN UNREACHABLE since ${status.origin.since ?? '?'}: ${status.origin.error ?? ''} (the last good revision is reconciled meanwhile)`);
  if (status.rewritten) lines.push(`BRANCH HISTORY REWRITTEN: ${status.rewritten.from.slice(0, 12)} is not an ancestor of ${status.rewritten.to.slice(0, 12)} (${status.rewritten.accepted ? 'accepted: --allow-force-push' : 'refused; restore it or restart with --allow-force-push'})`);
  if (status.heartbeats.write.error) lines.push(`HEARTBEATS NOT WRITTEN since ${status.heartbeats.write.failing_since ?? '?'}: ${status.heartbeats.write.error} (kept in memory, retrying)`);
  for (const p of status.pending_registrations) lines.push(`pending registration: ${p.node_id} from ${p.peer ?? '?'} at ${p.received_at} (add fleet/nodes/${p.node_id}.yaml to accept it)`);
  if (status.last) {
    const took = status.last.duration_ms === null ? '' : ` in ${(status.last.duration_ms / 1000).toFixed(1)} s`;
    lines.push(`last reconcile: ${status.last.result}${status.last.result === 'running' ? ` since ${status.last.started_at}` : ` at ${status.last.finished_at ?? status.last.started_at}${took}`} (${status.last.reasons.join(', ')})${status.last.error ? `: ${status.last.error}` : ''}`);
  }
  for (const a of status.alerts?.firing ?? []) lines.push(`ALERT ${a.kind}${a.node ? ` ${a.node}` : ''} since ${a.since}: ${a.detail}`);
  if (status.alerts?.last_error) lines.push(`alerts not delivered: ${status.alerts.last_error}`);
  const running = status.running ?? [];
  for (const n of status.nodes) {
    lines.push(`  ${n.node.padEnd(14)} ${n.status.padEnd(16)} ${n.summary}${n.address ? ` (via ${n.address})` : ''}${n.backoff_until ? ` (backoff until ${n.backoff_until})` : ''}`);
    for (const r of running.filter((x) => x.node === n.node)) lines.push(renderRunning(r));
  }
  for (const r of running.filter((x) => !status.nodes.some((n) => n.node === x.node))) lines.push(`  ${(r.node ?? 'bob (fleet)').padEnd(14)}`, renderRunning(r));
  const pending = status.pending_total ?? status.pending?.length ?? 0;
  if (pending > 0) lines.push(`${pending} step${pending === 1 ? '' : 's'} ${status.last?.result === 'running' ? 'being applied' : 'pending'}`);
  const exit = statusExit(status);
  if (exit.why) lines.push(`${exit.code === 1 ? 'error' : 'drift'}: ${exit.why}`);
  return `${lines.map(printable).join('\n')}\n`;
}

export function register(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('run the GitOps loop on Bob: pull, validate, observe, plan, apply, generate, commit; serve the registry API and metrics')
    .option('--repo <url|path>', 'the fleet repository (origin)')
    .option('--branch <name>', 'branch to follow', 'main')
    .option('--workdir <dir>', 'clone, revision slots, heartbeats and lock', `${homedir()}/.symphony/fleetd`)
    .option('--targets <file>', 'connection overrides (a simulated fleet\'s targets.json)')
    .option('--watch <dir>', 'dev mode: also reconcile when files under DIR change')
    .option('--host <address>', 'bind address of the HTTP server', '0.0.0.0')
    .option('--port <port>', 'port of the registry API, webhook, status and metrics', String(DEFAULT_PORT))
    .addOption(new Option('--log-level <level>', 'log level').default('info'))
    .option('--poll-interval <seconds>', 'override reconcile.poll_interval_s')
    .option('--drift-cron <expr>', 'override reconcile.drift_cron')
    .option('--config <file>', 'Bob\'s own settings: where it writes, what it signals, trust on first use (default ~/.symphony/fleetd.yaml)')
    .option('--allow-force-push', 'accept a branch whose history was rewritten (refused and reported by default)')
    .action(async (flags: Partial<DaemonFlags>) => {
      if (!flags.repo) throw new FleetError('invalid-input', 'fleet daemon needs --repo URL|PATH (the fleet repository to follow)');
      await runDaemon(flags as DaemonFlags);
    });

  daemon
    .command('install')
    .description('write and load the launchd agent com.symphony.fleetd on Bob (logs in ~/.symphony/logs/)')
    .requiredOption('--repo <url|path>', 'the fleet repository (origin)')
    .option('--branch <name>', 'branch to follow', 'main')
    .option('--workdir <dir>', 'daemon working directory')
    .option('--log-level <level>', 'log level', 'info')
    .action(async (flags: { repo: string; branch: string; workdir?: string; logLevel: string }) => {
      const { execCommand, installDaemonAgent } = await import('../../daemon/launchd.ts');
      const result = await installDaemonAgent({
        home: homedir(),
        nodePath: process.execPath,
        launcherPath: launcherPath(),
        repo: flags.repo,
        branch: flags.branch,
        ...(flags.workdir ? { workdir: resolve(flags.workdir) } : {}),
        logLevel: parseLevel(flags.logLevel),
        uid: uid(),
      }, execCommand);
      process.stdout.write(`installed ${result.plist}\nlogs: ${result.logs.stdout}, ${result.logs.stderr}\n`);
      for (const c of result.commands) process.stdout.write(`  ran: ${c.join(' ')}\n`);
    });

  daemon
    .command('uninstall')
    .description('unload and remove the launchd agent')
    .action(async () => {
      const { execCommand, uninstallDaemonAgent } = await import('../../daemon/launchd.ts');
      const result = await uninstallDaemonAgent({ home: homedir(), uid: uid() }, execCommand);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });

  program
    .command('status')
    .description('the fleet at a glance from a running daemon\'s /api/status (running steps, pull progress), or observed directly when none answers (exit 1 when the revision is invalid or the last reconcile failed, 2 when a node is not in sync)')
    .option('--url <url>', 'the daemon', `http://127.0.0.1:${DEFAULT_PORT}`)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--fleet <dir>', 'without a daemon: the fleet directory to observe', defaultFleetDir())
    .option('--targets <file>', 'without a daemon: reach nodes through this targets.json')
    .action(async (flags: { url: string; format: 'text' | 'json'; fleet: string; targets?: string }) => {
      const guard = createGuard({ loopbackOnly: loopbackOnly() });
      let status: DaemonStatus;
      try {
        const res = await guardedFetch(guard)(new URL('/api/status', flags.url).toString(), { signal: AbortSignal.timeout(3000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        status = (await res.json()) as DaemonStatus;
      } catch (err) {
        process.stderr.write(`fleet status: no daemon answered at ${flags.url} (${err instanceof Error ? err.message : String(err)}); observing the fleet directly\n`);
        const { runDrift } = await import('./plan.ts');
        await runDrift({ fleet: flags.fleet, ...(flags.targets ? { targets: flags.targets } : {}), out: defaultGeneratedDir() });
        return;
      }
      process.stdout.write(flags.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
      process.exitCode = statusExit(status).code;
    });
}
