// `fleet daemon install` / `uninstall`: a launchd agent on Bob that keeps
// the daemon running (RunAtLoad, KeepAlive), logs under ~/.symphony/logs/.
// The plist is rendered by a pure function; loading goes through an injected
// command runner so tests assert the exact launchctl calls without macOS.
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'plist';
import type { PlistValue } from 'plist';
import writeFileAtomic from 'write-file-atomic';
import { FleetError } from '../errors.ts';

export const FLEETD_LABEL = 'com.symphony.fleetd';

/** launchd's PATH is /usr/bin:/bin:/usr/sbin:/sbin; git and brew tools live in these too. */
export const DEFAULT_AGENT_PATH = '/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

export interface DaemonAgentOptions {
  /** Home of the user on Bob (the agent runs as that user). */
  home: string;
  /** Absolute path of the Node 24 binary: launchd has no `node` on PATH. */
  nodePath: string;
  /** Absolute path of reconciler/bin/fleet.mjs. */
  launcherPath: string;
  /** --repo: URL or path of the fleet repository. */
  repo: string;
  branch?: string;
  workdir?: string;
  targets?: string;
  logLevel?: string;
  /** More `fleet daemon` arguments, passed as they are. */
  extraArgs?: readonly string[];
  label?: string;
  /** Default ~/.symphony/logs. */
  logDir?: string;
  workingDirectory?: string;
  /** Extra environment. Never secrets: the plist is readable by every local user; use FLEET_WEBHOOK_SECRET_FILE. */
  environment?: Readonly<Record<string, string>>;
}

export interface DaemonAgentPaths {
  plist: string;
  logDir: string;
  stdout: string;
  stderr: string;
}

export function daemonAgentPaths(options: Pick<DaemonAgentOptions, 'home' | 'label' | 'logDir'>): DaemonAgentPaths {
  const label = options.label ?? FLEETD_LABEL;
  const logDir = options.logDir ?? join(options.home, '.symphony', 'logs');
  return {
    plist: join(options.home, 'Library', 'LaunchAgents', `${label}.plist`),
    logDir,
    stdout: join(logDir, 'fleetd.log'),
    stderr: join(logDir, 'fleetd_error.log'),
  };
}

/** The ProgramArguments: node, the launcher, `daemon` and its options. No Node flags: the launcher re-executes the daemon with its own (relaunch.ts). */
export function daemonProgramArguments(options: DaemonAgentOptions): string[] {
  const args = [options.nodePath, options.launcherPath, 'daemon', '--repo', options.repo];
  if (options.branch !== undefined) args.push('--branch', options.branch);
  if (options.workdir !== undefined) args.push('--workdir', options.workdir);
  if (options.targets !== undefined) args.push('--targets', options.targets);
  if (options.logLevel !== undefined) args.push('--log-level', options.logLevel);
  args.push(...(options.extraArgs ?? []));
  return args;
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSPHRASE|PRIVATE/i;

/** The agent's plist (XML). Pure. */
export function renderDaemonAgent(options: DaemonAgentOptions): string {
  const label = options.label ?? FLEETD_LABEL;
  const paths = daemonAgentPaths(options);
  const env: Record<string, string> = { PATH: DEFAULT_AGENT_PATH, HOME: options.home, ...(options.environment ?? {}) };
  for (const name of Object.keys(env)) {
    if (SECRET_NAME.test(name) && !name.endsWith('_FILE')) {
      throw new FleetError('invalid-input', `${name} would be written into ${paths.plist}, which every local user can read; put the value in a file only you can read and set ${name}_FILE to its path`);
    }
  }
  const doc: Record<string, PlistValue> = {
    Label: label,
    ProgramArguments: daemonProgramArguments(options),
    EnvironmentVariables: env,
    WorkingDirectory: options.workingDirectory ?? options.home,
    RunAtLoad: true,
    KeepAlive: true,
    // A daemon that dies at once is restarted at most every 10 s, not in a tight loop.
    ThrottleInterval: 10,
    ProcessType: 'Background',
    StandardOutPath: paths.stdout,
    StandardErrorPath: paths.stderr,
  };
  return build(doc);
}

export interface CommandOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with arguments (no shell). `fleet daemon install` passes execCommand. */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<CommandOutcome>;

/** The real runner: execFile, a non-zero exit is an outcome, not an exception. */
export const execCommand: CommandRunner = (command, args) => new Promise((resolve, reject) => {
  execFile(command, [...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
    if (err && typeof err.code !== 'number') {
      reject(new FleetError('remote-command', `${command} could not run: ${err.message}`, { cause: err }));
      return;
    }
    resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
  });
});

export interface InstallOptions extends DaemonAgentOptions {
  /** `id -u` of the user: the agent goes into the gui/<uid> domain. */
  uid: number;
  /** Waits between bootstrap retries (injectable so tests do not wait). */
  sleep?: (ms: number) => Promise<void>;
}

export interface InstallResult {
  plist: string;
  logs: { stdout: string; stderr: string };
  /** The launchctl calls made, in order, for the person's terminal. */
  commands: string[][];
}

function domain(uid: number): string {
  if (!Number.isInteger(uid) || uid < 0) throw new FleetError('invalid-input', `uid ${uid} is not a user id; pass the output of id -u`);
  return `gui/${uid}`;
}

function firstMessageLine(outcome: CommandOutcome): string {
  return (outcome.stderr.trim() || outcome.stdout.trim() || `exit ${outcome.code}`).split('\n')[0] ?? '';
}

/**
 * Writes the plist and (re)loads the agent: bootout of a running copy (not
 * loaded is fine), then bootstrap, retried briefly because launchd may still
 * be tearing the old one down ("5: Input/output error").
 */
export async function installDaemonAgent(options: InstallOptions, run: CommandRunner): Promise<InstallResult> {
  const label = options.label ?? FLEETD_LABEL;
  const target = domain(options.uid);
  const paths = daemonAgentPaths(options);
  const text = renderDaemonAgent(options);
  await mkdir(join(paths.plist, '..'), { recursive: true });
  await mkdir(paths.logDir, { recursive: true });
  await writeFileAtomic(paths.plist, text, { mode: 0o644 });

  const commands: string[][] = [];
  const launchctl = async (...args: string[]): Promise<CommandOutcome> => {
    commands.push(['launchctl', ...args]);
    return run('launchctl', args);
  };
  const out = await launchctl('bootout', `${target}/${label}`);
  // 0: it was running and is now stopped; 3 / "No such process": it was not loaded.
  if (out.code !== 0 && out.code !== 3 && !/No such process|Could not find/i.test(out.stderr)) {
    throw new FleetError('remote-command', `launchctl bootout ${target}/${label} failed: ${firstMessageLine(out)}`);
  }
  const wait = options.sleep ?? ((ms: number) => sleep(ms));
  for (let attempt = 1; ; attempt++) {
    const boot = await launchctl('bootstrap', target, paths.plist);
    if (boot.code === 0) break;
    if (boot.code === 125 || /Domain does not support/i.test(boot.stderr)) {
      throw new FleetError('remote-command', `launchctl bootstrap ${target} failed: the gui domain exists only while the user is logged in at the console. Log in on Bob (or enable automatic login) and run fleet daemon install again.`);
    }
    if (boot.code !== 5 || attempt >= 3) {
      throw new FleetError('remote-command', `launchctl bootstrap ${target} ${paths.plist} failed: ${firstMessageLine(boot)}. Check the file with plutil -lint ${paths.plist}.`);
    }
    await wait(500 * attempt);
  }
  return { plist: paths.plist, logs: { stdout: paths.stdout, stderr: paths.stderr }, commands };
}

export interface UninstallResult {
  plist: string;
  /** false when the agent was not loaded. */
  wasLoaded: boolean;
  commands: string[][];
}

/** Unloads the agent (not loaded is fine) and removes its plist; logs stay. */
export async function uninstallDaemonAgent(options: Pick<DaemonAgentOptions, 'home' | 'label'> & { uid: number }, run: CommandRunner): Promise<UninstallResult> {
  const label = options.label ?? FLEETD_LABEL;
  const target = domain(options.uid);
  const paths = daemonAgentPaths(options);
  const args = ['bootout', `${target}/${label}`];
  const out = await run('launchctl', args);
  const notLoaded = out.code === 3 || /No such process|Could not find/i.test(out.stderr);
  if (out.code !== 0 && !notLoaded) throw new FleetError('remote-command', `launchctl bootout ${target}/${label} failed: ${firstMessageLine(out)}`);
  await rm(paths.plist, { force: true });
  return { plist: paths.plist, wasLoaded: out.code === 0, commands: [['launchctl', ...args]] };
}
