// The node's launchd, as far as `launchctl` shows it: user agents in the
// gui/<uid> domain, loaded from plists, with PIDs, last exit statuses and the
// messages and exit codes of macos-commands.md. An agent whose program is
// `ollama serve` really starts the node's simulated Ollama with the plist's
// EnvironmentVariables; other programs are shown as running.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { isDict, parsePlistBytes, type PlistValue } from './plist-file.ts';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export type ServeStartResult = 'ok' | 'in-use' | 'down';

export interface LaunchdHost {
  home: string;
  /** FLEET_ROOT: Homebrew and /Applications paths in plists resolve under it. */
  root: string;
  uid: number;
  ollamaVersion: string;
  /** Starts the simulated `ollama serve` for `owner` (launched by launchd: may listen externally). */
  startServe(owner: string, env: Record<string, string>): ServeStartResult;
  stopServe(owner: string): void;
  now(): Date;
  /** Whether the gui/<uid> domain exists (a user is logged in at the console). */
  guiSession(): boolean;
  /**
   * Where to keep what `launchctl list` and `launchctl list LABEL` print (files
   * `list` and `list.<label>`), rewritten after every change, so the read-only
   * calls a probe makes are answered by the sh stand-in without the control
   * channel. Removed by stopAll. Unset: nothing is written.
   */
  publishDir?: string;
}

interface Agent {
  label: string;
  plistPath: string;
  args: string[];
  env: Record<string, string>;
  keepAlive: boolean;
  stdoutPath: string | undefined;
  stderrPath: string | undefined;
  pid: number | undefined;
  lastExit: number;
  serves: boolean;
}

export interface AgentView {
  label: string;
  plistPath: string;
  pid: number | undefined;
  lastExit: number;
  serves: boolean;
}

export interface SimLaunchd {
  /** `launchctl ARGS` as the login user (uid 501) or root. */
  launchctl(args: readonly string[], ctx: { cwd: string; uid: number }): CommandResult;
  /** What launchd does at login: load every plist in ~/Library/LaunchAgents. */
  loadAtLogin(): void;
  agents(): AgentView[];
  /** The serve of an agent died (ollama-down fault): show it as exited. */
  markServeDied(owner: string, status: number): void;
  /** KeepAlive: start serving agents that are loaded but not running. */
  respawn(): void;
  stopAll(): void;
}

const APPLE_AGENTS = [
  ['-', '0', 'com.apple.SafariHistoryServiceAgent'],
  ['-', '0', 'com.apple.progressd'],
  ['391', '0', 'com.apple.cfprefsd.xpc.agent'],
  ['-', '0', 'com.apple.mdworker.shared.0B000000-0000-0000-0000-000000000000'],
] as const;

const ok = (stdout = ''): CommandResult => ({ stdout, stderr: '', code: 0 });
const fail = (code: number, stderr: string): CommandResult => ({ stdout: '', stderr, code });

/** Labels that get a `list.<label>` file; the launchctl stand-in asks the control channel for others. */
export const PUBLISHED_LABEL = /^[A-Za-z0-9._-]+$/;

export function ownerOf(label: string): string {
  return `launchd:${label}`;
}

export function createLaunchd(host: LaunchdHost): SimLaunchd {
  const loaded = new Map<string, Agent>();
  let nextPid = 500 + Math.floor(Math.random() * 400);

  function macPath(p: string): string {
    return /^\/(opt\/homebrew|usr\/local|Applications)(\/|$)/.test(p) ? join(host.root, p) : p;
  }

  function appendLog(path: string | undefined, line: string): void {
    if (!path) return;
    const real = macPath(path);
    if (!existsSync(dirname(real))) return; // launchd does not create log directories
    try {
      appendFileSync(real, `${line}\n`);
    } catch {
      // unwritable log: launchd carries on
    }
  }

  function logTime(): string {
    return host.now().toISOString();
  }

  function start(agent: Agent): void {
    const program = agent.args[0];
    if (program === undefined || !existsSync(macPath(program))) {
      agent.pid = undefined;
      agent.lastExit = 78; // EX_CONFIG: launchd could not spawn the program
      return;
    }
    if (!agent.serves) {
      agent.pid = nextPid++;
      return;
    }
    const result = host.startServe(ownerOf(agent.label), agent.env);
    if (result === 'ok') {
      agent.pid = nextPid++;
      const bind = agent.env.OLLAMA_HOST ?? '127.0.0.1:11434';
      const shown = bind.startsWith('0.0.0.0') ? '[::]:11434' : bind.includes(':') ? bind : `${bind}:11434`;
      appendLog(agent.stderrPath, `time=${logTime()} level=INFO source=routes.go:1331 msg="Listening on ${shown} (version ${host.ollamaVersion})"`);
      return;
    }
    agent.pid = undefined;
    agent.lastExit = 1;
    if (result === 'in-use') {
      const bind = agent.env.OLLAMA_HOST ?? '127.0.0.1';
      const hostPart = bind.includes(':') ? bind : `${bind}:11434`;
      appendLog(agent.stderrPath, `Error: listen tcp ${hostPart}: bind: address already in use`);
    } else {
      appendLog(agent.stderrPath, `time=${logTime()} level=ERROR source=server.go:1 msg="ollama serve exited" error="signal: killed"`);
    }
  }

  function stop(agent: Agent): void {
    if (agent.pid !== undefined && agent.serves) host.stopServe(ownerOf(agent.label));
    if (agent.pid !== undefined) agent.lastExit = 0;
    agent.pid = undefined;
  }

  function read(path: string): { agent?: Agent; error?: CommandResult; runAtLoad?: boolean } {
    if (!existsSync(path)) return { error: fail(2, 'Bootstrap failed: 2: No such file or directory\n') };
    const parsed = parsePlistBytes(readFileSync(path));
    const doc: PlistValue | undefined = parsed.value;
    const io = fail(5, `Bootstrap failed: 5: Input/output error\n`);
    if (!parsed.ok || !isDict(doc)) return { error: io };
    const label = doc.Label;
    const programArgs = doc.ProgramArguments;
    const program = doc.Program;
    if (typeof label !== 'string' || label === '') return { error: io };
    let args: string[];
    if (Array.isArray(programArgs) && programArgs.every((a) => typeof a === 'string') && programArgs.length > 0) args = programArgs;
    else if (typeof program === 'string') args = [program];
    else return { error: io };
    const envDoc = doc.EnvironmentVariables;
    const env: Record<string, string> = {};
    if (isDict(envDoc)) for (const [k, v] of Object.entries(envDoc)) if (typeof v === 'string') env[k] = v;
    const name = basename(args[0] ?? '');
    return {
      runAtLoad: doc.RunAtLoad === true,
      agent: {
        label,
        plistPath: path,
        args,
        env,
        keepAlive: doc.KeepAlive === true || isDict(doc.KeepAlive),
        stdoutPath: typeof doc.StandardOutPath === 'string' ? doc.StandardOutPath : undefined,
        stderrPath: typeof doc.StandardErrorPath === 'string' ? doc.StandardErrorPath : undefined,
        pid: undefined,
        lastExit: 0,
        serves: name === 'ollama' && args[1] === 'serve',
      },
    };
  }

  /** `gui/501`, `user/501` (and `gui/501/label` when withLabel). */
  function parseTarget(target: string | undefined, uid: number): { domainOk: boolean; label?: string } | undefined {
    if (!target) return undefined;
    const m = /^(gui|user)\/(\d+)(?:\/(.+))?$/.exec(target);
    if (!m) return { domainOk: false };
    const wanted = uid === 0 ? Number(m[2]) : uid;
    const out: { domainOk: boolean; label?: string } = { domainOk: Number(m[2]) === host.uid && wanted === host.uid && (m[1] === 'user' || host.guiSession()) };
    if (m[3] !== undefined) out.label = m[3];
    return out;
  }

  function bootstrap(paths: readonly string[], cwd: string, verb: 'Bootstrap' | 'Load'): CommandResult {
    let last: CommandResult = ok();
    for (const p of paths) {
      const path = isAbsolute(p) ? p : resolve(cwd, p);
      const { agent, error, runAtLoad } = read(path);
      if (error || !agent) {
        last = verb === 'Load' ? fail(error?.code ?? 5, (error?.stderr ?? '').replace('Bootstrap failed', 'Load failed')) : (error ?? fail(5, 'Bootstrap failed: 5: Input/output error\n'));
        continue;
      }
      if (loaded.has(agent.label)) {
        last = verb === 'Load' ? fail(37, 'Load failed: 37: Operation already in progress\n') : fail(5, 'Bootstrap failed: 5: Input/output error\n');
        continue;
      }
      loaded.set(agent.label, agent);
      if (runAtLoad || agent.keepAlive) start(agent);
    }
    return last;
  }

  function withRootHint(r: CommandResult, uid: number): CommandResult {
    if (r.code === 5 && uid !== 0 && r.stderr.startsWith('Bootstrap failed')) {
      return { ...r, stderr: `${r.stderr}Try re-running the command as root for richer errors.\n` };
    }
    return r;
  }

  function bootout(label: string): CommandResult {
    const agent = loaded.get(label);
    if (!agent) return fail(3, 'Boot-out failed: 3: No such process\n');
    stop(agent);
    loaded.delete(label);
    return ok();
  }

  function labelOfPath(path: string): string | undefined {
    for (const a of loaded.values()) if (a.plistPath === path) return a.label;
    const { agent } = read(path);
    return agent?.label;
  }

  function listOne(label: string): CommandResult {
    const a = loaded.get(label);
    if (!a) return fail(113, `Could not find service "${label}" in domain for port\n`);
    const lines = ['{'];
    const q = (s: string): string => `"${s}"`;
    if (a.stdoutPath) lines.push(`\t"StandardOutPath" = ${q(a.stdoutPath)};`);
    lines.push(`\t"LimitLoadToSessionType" = "Aqua";`);
    if (a.stderrPath) lines.push(`\t"StandardErrorPath" = ${q(a.stderrPath)};`);
    lines.push(`\t"Label" = ${q(a.label)};`, `\t"OnDemand" = ${a.keepAlive ? 'false' : 'true'};`, `\t"LastExitStatus" = ${a.lastExit};`);
    if (a.pid !== undefined) lines.push(`\t"PID" = ${a.pid};`);
    lines.push(`\t"Program" = ${q(a.args[0] ?? '')};`, '\t"ProgramArguments" = (');
    for (const arg of a.args) lines.push(`\t\t${q(arg)};`);
    lines.push('\t);', '};');
    return ok(`${lines.join('\n')}\n`);
  }

  function printOne(uid: number, label: string): CommandResult {
    const a = loaded.get(label);
    if (!a) return fail(113, `Bad request.\nCould not find service "${label}" in domain for user gui: ${uid === 0 ? host.uid : uid}\n`);
    const lines = [
      `gui/${host.uid}/${a.label} = {`,
      '\tactive count = ' + (a.pid === undefined ? '0' : '1'),
      `\tpath = ${a.plistPath}`,
      '\ttype = LaunchAgent',
      `\tstate = ${a.pid === undefined ? 'not running' : 'running'}`,
      '',
      `\tprogram = ${a.args[0] ?? ''}`,
      '\targuments = {',
      ...a.args.map((x) => `\t\t${x}`),
      '\t}',
      '',
      ...(a.stdoutPath ? [`\tstdout path = ${a.stdoutPath}`] : []),
      ...(a.stderrPath ? [`\tstderr path = ${a.stderrPath}`] : []),
      '\tenvironment = {',
      ...Object.entries(a.env).map(([k, v]) => `\t\t${k} => ${v}`),
      '\t}',
      '',
      ...(a.pid === undefined ? [] : [`\tpid = ${a.pid}`]),
      `\tlast exit code = ${a.pid !== undefined && a.lastExit === 0 ? '(never exited)' : String(a.lastExit)}`,
      '}',
    ];
    return ok(`${lines.join('\n')}\n`);
  }

  function listAll(): CommandResult {
    const rows = ['PID\tStatus\tLabel', ...APPLE_AGENTS.map((r) => r.join('\t'))];
    for (const a of loaded.values()) rows.push(`${a.pid ?? '-'}\t${a.lastExit}\t${a.label}`);
    return ok(`${rows.join('\n')}\n`);
  }

  // Whole files replaced by rename: a reader sees the old text or the new one.
  function writeAtomic(path: string, text: string): void {
    const tmp = join(dirname(path), `.${basename(path)}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }

  function publish(): void {
    const dir = host.publishDir;
    if (dir === undefined) return;
    try {
      if (!existsSync(dir)) mkdirSync(dir); // not recursive: a removed node directory stays removed
      const keep = new Set(['list']);
      for (const a of loaded.values()) {
        if (!PUBLISHED_LABEL.test(a.label)) continue;
        keep.add(`list.${a.label}`);
        writeAtomic(join(dir, `list.${a.label}`), listOne(a.label).stdout);
      }
      writeAtomic(join(dir, 'list'), listAll().stdout);
      for (const f of readdirSync(dir)) if (!keep.has(f)) rmSync(join(dir, f), { force: true });
    } catch {
      // not published: without `list` the stand-in asks the control channel
      rmSync(join(dir, 'list'), { force: true });
    }
  }

  const usage = (sub: string, text: string): CommandResult => fail(64, `Usage: launchctl ${sub} ${text}\n`);

  function launchctl(args: readonly string[], ctx: { cwd: string; uid: number }): CommandResult {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'list':
        return rest.length > 0 ? listOne(rest[0] ?? '') : listAll();
      case 'bootstrap': {
        const target = parseTarget(rest[0], ctx.uid);
        if (!target || rest.length < 2) return usage('bootstrap', '<domain-target> [service-path, service-path2, ...]');
        if (!target.domainOk) return fail(125, 'Bootstrap failed: 125: Domain does not support specified action\n');
        return withRootHint(bootstrap(rest.slice(1), ctx.cwd, 'Bootstrap'), ctx.uid);
      }
      case 'bootout': {
        const target = parseTarget(rest[0], ctx.uid);
        if (!target) return usage('bootout', '<domain-target> [service-path1, service-path2, ...] | <service-target>');
        if (!target.domainOk) return fail(125, 'Boot-out failed: 125: Domain does not support specified action\n');
        if (target.label !== undefined) return bootout(target.label);
        let last = ok();
        for (const p of rest.slice(1)) {
          const label = labelOfPath(isAbsolute(p) ? p : resolve(ctx.cwd, p));
          last = label === undefined ? fail(5, 'Boot-out failed: 5: Input/output error\n') : bootout(label);
        }
        return last;
      }
      case 'kickstart': {
        const flags = rest.filter((a) => a.startsWith('-'));
        const target = parseTarget(rest.find((a) => !a.startsWith('-')), ctx.uid);
        if (!target || target.label === undefined) return usage('kickstart', '[-kp] <service-target>');
        const agent = target.domainOk ? loaded.get(target.label) : undefined;
        if (!agent) return fail(113, `Could not find service "${target.label}" in domain for port\n`);
        if (agent.pid !== undefined && flags.some((f) => f.includes('k'))) stop(agent);
        if (agent.pid === undefined) start(agent);
        return ok(flags.some((f) => f.includes('p')) && agent.pid !== undefined ? `${agent.pid}\n` : '');
      }
      case 'load': {
        const paths = rest.filter((a) => !a.startsWith('-'));
        if (paths.length === 0) return usage('load', '[-wF] [-S sessiontype] [-D domain] <paths>');
        return bootstrap(paths, ctx.cwd, 'Load');
      }
      case 'unload': {
        const paths = rest.filter((a) => !a.startsWith('-'));
        if (paths.length === 0) return usage('unload', '[-w] [-S sessiontype] [-D domain] <paths>');
        let last = ok();
        for (const p of paths) {
          const label = labelOfPath(isAbsolute(p) ? p : resolve(ctx.cwd, p));
          const agent = label === undefined ? undefined : loaded.get(label);
          if (!agent) {
            last = fail(113, 'Unload failed: 113: Could not find specified service\n');
            continue;
          }
          stop(agent);
          loaded.delete(agent.label);
        }
        return last;
      }
      case 'print': {
        const target = parseTarget(rest[0], ctx.uid);
        if (!target) return usage('print', '<domain-target> | <service-target>');
        if (target.label === undefined) {
          const services = [...loaded.values()].map((a) => `\t\t${a.pid ?? 0}\t${a.lastExit}\t${a.label}`);
          return ok(`gui/${host.uid} = {\n\ttype = login\n\tservices = {\n${services.join('\n')}\n\t}\n}\n`);
        }
        return printOne(ctx.uid, target.label);
      }
      case 'enable':
      case 'disable':
        return rest.length === 1 ? ok() : usage(sub, '<service-target>');
      case undefined:
      case 'help':
        return fail(0, 'Usage: launchctl <subcommand> ... | help [subcommand]\n');
      default:
        return fail(1, `Unrecognized subcommand: ${sub}\nUsage: launchctl <subcommand> ... | help [subcommand]\n`);
    }
  }

  // A fresh launchd (also after a simulated reboot) shows nothing loaded yet.
  if (host.publishDir !== undefined) rmSync(host.publishDir, { recursive: true, force: true });
  publish();

  return {
    launchctl(args, ctx) {
      const r = launchctl(args, ctx);
      if (args[0] !== 'list' && args[0] !== 'print') publish();
      return r;
    },
    loadAtLogin() {
      const dir = join(host.home, 'Library', 'LaunchAgents');
      if (!existsSync(dir)) return;
      for (const f of readdirSync(dir).sort()) {
        if (f.endsWith('.plist')) bootstrap([join(dir, f)], dir, 'Bootstrap');
      }
      publish();
    },
    agents() {
      return [...loaded.values()].map((a) => ({ label: a.label, plistPath: a.plistPath, pid: a.pid, lastExit: a.lastExit, serves: a.serves }));
    },
    markServeDied(owner, status) {
      for (const a of loaded.values()) {
        if (ownerOf(a.label) === owner && a.pid !== undefined) {
          a.pid = undefined;
          a.lastExit = status;
        }
      }
      publish();
    },
    respawn() {
      for (const a of loaded.values()) if (a.serves && a.keepAlive && a.pid === undefined) start(a);
      publish();
    },
    stopAll() {
      for (const a of loaded.values()) stop(a);
      loaded.clear();
      // launchd is gone: the stand-in falls back to the (closed) control channel
      if (host.publishDir !== undefined) rmSync(host.publishDir, { recursive: true, force: true });
    },
  };
}
