// One simulated Mac: its directories, SSH face, Ollama listeners, launchd,
// control channel and faults. SSH commands run as macOS runs them, `zsh -c`
// in the node's HOME with macOS's PATH over the simulated userland
// (mac-userland.ts); cron jobs run under /bin/sh with cron's PATH.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import type { Hardware } from '../schema/fleet.ts';
import { quote } from '../shell/quote.ts';
import { startControlChannel, type ControlChannel } from './control-channel.ts';
import { FAULT_KINDS, numberParam, renderFaultFile, type FaultKind, type FaultParams } from './faults.ts';
import { generateEd25519KeyPair, publicKeyLineOf } from '../net/ssh-keys.ts';
import { createGatedListener, type GatedListener } from './gated-listener.ts';
import { describeHardware, DEFAULT_OS, type OsRelease } from './hardware-profile.ts';
import { createLaunchd, type CommandResult, type ServeStartResult, type SimLaunchd } from './launchd.ts';
import { HOMEBREW_DIR, nodePathsOf, STANDINS_DIR, STANDINS_LIB_DIR, type NodePaths } from './layout.ts';
import { egressEnv, ensureMacUserland, linkMacUserland, MAC_CRON_PATH, nodePathOf, requireZsh } from './mac-userland.ts';
import { bindTargetsFor, createSimOllama, OLLAMA_CLI_PATH, SIM_OLLAMA_VERSION, type SimOllama } from './ollama/index.ts';
import { runPlutil } from './plutil.ts';
import { applyPreset, type PresetSpec } from './presets.ts';
import { createSshFront, type SessionInfo, type SshFront } from './ssh-server.ts';
import type { ServerChannel } from 'ssh2';
import type { SimNetwork } from './network.ts';
import { loadModelCatalog } from './ollama/catalog.ts';

export interface SimNodeOptions {
  stateDir: string;
  /** Address every listener of this node binds (127.0.1.x, or 127.0.0.1). */
  ip: string;
  user: string;
  hardware: Hardware;
  hardwareId?: string;
  os?: OsRelease;
  preset: PresetSpec;
  /** Models a provisioned node holds (seeded once). */
  models: readonly string[];
  clientPublicKey: string;
  /** `host:port=ip:port` pairs the node's curl redirects (e.g. Bob's registry). */
  hostMap?: Readonly<Record<string, string>>;
  /** Extra Ollama options (tests: faster pulls). */
  ollama?: { pullBytesPerSecond?: number; progressIntervalMs?: number };
  /** The fleet's egress trap (egress-trap.ts): where the node's proxy variables point. */
  egressUrl?: string;
  /** The fleet's shared network (network.ts): pulls cross its line, peer SSH streams its LAN links. */
  network?: SimNetwork;
  /** The simulated registry's model catalog (default: the repository's). */
  modelCatalogPath?: string;
  log?: (line: string) => void;
}

export interface ExecOptions {
  stdin?: string;
  /** Extra environment (e.g. SIM_UID=0). */
  env?: Record<string, string>;
  /** The shell: zsh, as over SSH (default), or POSIX sh (tests compare the two). */
  shell?: 'zsh' | 'sh';
}

export interface NodeServe {
  owner: string;
  env: Record<string, string>;
  loopback: boolean;
  external: boolean;
}

export interface SimNode {
  readonly name: string;
  readonly paths: NodePaths;
  readonly ip: string;
  readonly user: string;
  readonly ollama: SimOllama;
  readonly launchd: SimLaunchd;
  sshPort(): number;
  /** Port Bob reaches Ollama on (the external listener), bound only when serving externally. */
  ollamaPort(): number;
  /** Port `localhost:11434` means inside the node. */
  ollamaInternalPort(): number;
  /** `ssh-ed25519 AAAA...` of the node's original host key. */
  hostKey(): string;
  /** The key currently presented (differs under host-key-rotated). */
  presentedHostKey(): string;
  commandLog(): readonly string[];
  faults(): Partial<Record<FaultKind, FaultParams>>;
  setFault(kind: FaultKind, params?: FaultParams): Promise<void>;
  clearFault(kind: FaultKind): Promise<void>;
  serving(): NodeServe | undefined;
  /** Runs a command in the node's shell environment, as SSH would (not logged). */
  exec(command: string, options?: ExecOptions): Promise<CommandResult>;
  /** The environment an SSH session starts with (what the OpenSSH tier's ForceCommand recreates). */
  sessionEnv(): Record<string, string>;
  /** The zsh that runs SSH commands. */
  readonly zsh: string;
  /** The node's clock (clock-skew fault applied). */
  now(): Date;
  disk(): { totalBytes: number; usedBytes: number; freeBytes: number };
  /** Resolves when listener changes requested so far are done. */
  settled(): Promise<void>;
  /** Runs the crontab entries due at `at` (the fleet calls it each minute). */
  runCron(at: Date): void;
  stop(): Promise<void>;
}

/** Where Ollama listens on a Mac (OLLAMA_HOST's default port). */
const OLLAMA_PORT = 11434;

function ensureKey(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  const pair = generateEd25519KeyPair();
  writeFileSync(path, pair.private, { mode: 0o600 });
  writeFileSync(`${path}.pub`, `${pair.public}\n`);
  return pair.private;
}

function which(name: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return name;
}

const REAL = { curl: which('curl'), date: which('date'), du: which('du'), find: which('find'), wc: which('wc'), sed: which('sed'), stat: which('stat') };

/** Apparent size of everything under dir (model blobs are sparse). */
function apparentBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e);
      try {
        const st = lstatSync(p);
        total += st.size;
        if (st.isDirectory()) stack.push(p);
      } catch {
        // vanished while walking
      }
    }
  }
  return total;
}

/** Minute-field matcher for crontab schedules: *, n, a-b, lists, steps. */
function cronFieldMatches(field: string, value: number, min: number): boolean {
  return field.split(',').some((part) => {
    const [range = '*', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, Number.MAX_SAFE_INTEGER];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(Number) as [number, number];
    else [lo, hi] = [Number(range), stepText === undefined ? Number(range) : Number.MAX_SAFE_INTEGER];
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

export function cronDue(line: string, at: Date): string | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#') || /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(t) || t.startsWith('@')) return undefined;
  const fields = t.split(/\s+/);
  if (fields.length < 6) return undefined;
  const [m = '', h = '', dom = '', mon = '', dow = ''] = fields;
  const ok =
    cronFieldMatches(m, at.getMinutes(), 0) &&
    cronFieldMatches(h, at.getHours(), 0) &&
    cronFieldMatches(dom, at.getDate(), 1) &&
    cronFieldMatches(mon, at.getMonth() + 1, 1) &&
    cronFieldMatches(dow, at.getDay(), 0);
  return ok ? t.replace(/^(\S+\s+){5}/, '') : undefined;
}

export async function startSimNode(options: SimNodeOptions): Promise<SimNode> {
  const name = options.preset.name;
  const paths = nodePathsOf(options.stateDir, name);
  const log = options.log ?? (() => undefined);
  const zsh = requireZsh();
  for (const d of [paths.home, paths.root, paths.state, join(paths.state, 'faults')]) mkdirSync(d, { recursive: true });
  linkMacUserland(paths.root, ensureMacUserland(options.stateDir));
  const hostKeyPem = ensureKey(paths.hostKey);
  const hostKeyLine = publicKeyLineOf(hostKeyPem);
  const facts = describeHardware(options.hardware, name, options.os ?? DEFAULT_OS);
  const totalBytes = Number(facts.SIM_DISK_TOTAL_KB) * 1024;
  const baseUsedBytes = Number(facts.SIM_DISK_BASE_USED_KB) * 1024;

  const faults = new Map<FaultKind, FaultParams>();
  // faults from a previous run of this state dir are not carried over
  for (const k of FAULT_KINDS) rmSync(join(paths.state, 'faults', k), { force: true });
  const commandLog: string[] = [];
  const running = new Set<ChildProcess>();
  let serve: NodeServe | undefined;
  let diskCache: { at: number; used: number } | undefined;
  let queue: Promise<void> = Promise.resolve();
  const manualWatchers = new Map<string, NodeJS.Timeout>();

  function now(): Date {
    const skew = faults.has('clock-skew') ? numberParam(faults.get('clock-skew'), 'seconds', 600) : 0;
    return new Date(Date.now() + skew * 1000);
  }

  function disk(): { totalBytes: number; usedBytes: number; freeBytes: number } {
    if (faults.has('disk-full')) return { totalBytes, usedBytes: totalBytes, freeBytes: 0 };
    const t = Date.now();
    if (!diskCache || t - diskCache.at > 200) diskCache = { at: t, used: apparentBytes(paths.home) + apparentBytes(paths.root) };
    const used = Math.min(totalBytes, baseUsedBytes + diskCache.used);
    return { totalBytes, usedBytes: used, freeBytes: totalBytes - used };
  }

  const ollama = createSimOllama({
    node: name,
    home: paths.home,
    stateDir: paths.state,
    hardware: { ramBytes: options.hardware.ram_gb * 2 ** 30, metal: options.hardware.metal, arch: options.hardware.architecture },
    diskFreeBytes: () => {
      diskCache = undefined;
      return disk().freeBytes;
    },
    now,
    ...(options.ollama?.pullBytesPerSecond === undefined ? {} : { pullBytesPerSecond: options.ollama.pullBytesPerSecond }),
    ...(options.ollama?.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.ollama.progressIntervalMs }),
    ...(options.network ? { openPullFlow: () => (options.network as SimNetwork).pullFlow(name) } : {}),
    ...(options.modelCatalogPath !== undefined ? { catalog: loadModelCatalog(options.modelCatalogPath) } : {}),
  });

  // HTTP for both Ollama listeners; `slow` delays each request as well as each connection
  const http: HttpServer = createHttpServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const delay = faults.has('slow') ? numberParam(faults.get('slow'), 'ms', 300) : 0;
    if (delay > 0) setTimeout(() => ollama.handleRequest(req, res), delay).unref();
    else ollama.handleRequest(req, res);
  });
  const toHttp = (socket: import('node:net').Socket): void => {
    http.emit('connection', socket);
  };
  const internal = createGatedListener({ host: '127.0.0.1', onConnection: toHttp });
  // On its own address a node's Ollama listens where a Mac's does, :11434, so
  // the endpoints in generated files work from Bob as they are; port 0 where
  // that port is taken (an Ollama of the host's own on 0.0.0.0) or shared.
  let external = createGatedListener({ host: options.ip, port: options.ip === '127.0.0.1' ? 0 : OLLAMA_PORT, onConnection: toHttp });

  const sshFront: SshFront = createSshFront({
    hostKey: hostKeyPem, clientPublicKey: options.clientPublicKey, user: options.user, runCommand: runOnChannel,
    authorizedKeysPath: join(paths.home, '.ssh', 'authorized_keys'),
  });
  const ssh = createGatedListener({ host: options.ip, onConnection: (s) => sshFront.handle(s) });

  /** What macOS's sshd gives a session (and cron a job), plus the simulator's seams. */
  function commandEnv(extra: Record<string, string> = {}, cron = false): NodeJS.ProcessEnv {
    return {
      HOME: paths.home,
      USER: options.user,
      LOGNAME: options.user,
      SHELL: cron ? '/bin/sh' : '/bin/zsh',
      PATH: nodePathOf(paths.root, cron ? MAC_CRON_PATH : undefined),
      FLEET_ROOT: paths.root,
      SIM_STATE: paths.state,
      ...egressEnv(options.egressUrl),
      ...extra,
    };
  }

  function spawnInNode(command: string | undefined, env: Record<string, string>, how: { shell?: 'zsh' | 'sh'; cron?: boolean } = {}): ChildProcess {
    // sshd runs the login shell as `zsh -c command` with argv[0] "zsh"; cron runs `/bin/sh -c`.
    const sh = how.cron === true || how.shell === 'sh';
    const child = spawn(sh ? '/bin/sh' : zsh, command === undefined ? [] : ['-c', command], {
      argv0: sh ? 'sh' : 'zsh',
      cwd: paths.home,
      env: commandEnv(env, how.cron === true),
      stdio: ['pipe', 'pipe', 'pipe'],
      // own process group, so a closed channel or stop() ends pipelines too
      detached: true,
    });
    running.add(child);
    child.once('close', () => running.delete(child));
    child.stdin?.on('error', () => undefined);
    return child;
  }

  function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }

  function runOnChannel(requested: string | undefined, channel: ServerChannel, session: SessionInfo): void {
    // A peer's per-copy key runs its forced command; what it asked for is SSH_ORIGINAL_COMMAND (sshd's way).
    const command = session.forcedCommand ?? requested;
    const original = session.forcedCommand !== undefined && requested !== undefined ? { SSH_ORIGINAL_COMMAND: requested } : {};
    if (command !== undefined) commandLog.push(session.forcedCommand !== undefined ? `[forced] ${command} <- ${requested ?? ''}` : command);
    const start = (): void => {
      const [clientIp = '', clientPort = ''] = session.connection.split(' ');
      const child = spawnInNode(command, { ...session.env, ...original, SSH_CONNECTION: session.connection, SSH_CLIENT: `${clientIp} ${clientPort} 22` });
      if (child.stdin) channel.pipe(child.stdin);
      const peer = session.forcedCommand !== undefined ? options.network?.nodeByIp(session.clientIp) : undefined;
      // Node to node: the bytes cross this Mac's uplink and the peer's downlink, at what they allow;
      // the exit status goes only after the last byte did.
      let flushed: Promise<void> = Promise.resolve();
      if (peer !== undefined && options.network && child.stdout) {
        const flow = options.network.lanFlow(name, peer);
        const out = child.stdout;
        let chain: Promise<void> = Promise.resolve();
        let gone = false;
        channel.on('close', () => {
          gone = true;
          flow.close();
        });
        out.on('data', (chunk: Buffer) => {
          out.pause();
          chain = chain.then(async () => {
            await flow.take(chunk.length);
            if (gone) return;
            if (channel.write(chunk)) out.resume();
            else channel.once('drain', () => out.resume());
          });
        });
        flushed = new Promise((resolve) => out.on('end', () => resolve(chain.then(() => flow.close()))));
      } else {
        child.stdout?.pipe(channel, { end: false });
      }
      child.stderr?.pipe(channel.stderr, { end: false });
      session.onSignal((sig) => killGroup(child, `SIG${sig}` as NodeJS.Signals));
      channel.on('close', () => killGroup(child, 'SIGHUP'));
      child.on('error', (err) => {
        channel.stderr.write(`sh: ${err.message}\n`);
      });
      child.on('close', (code, signal) => {
        void flushed.then(() => {
          try {
            if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
            else channel.exit(code ?? 127);
            channel.end();
          } catch {
            // the client went away first
          }
        });
      });
    };
    const delay = faults.has('slow') ? numberParam(faults.get('slow'), 'ms', 300) : 0;
    if (delay > 0) setTimeout(start, delay).unref();
    else start();
  }

  function writeNodeEnv(): void {
    const vars: Record<string, string> = {
      SIM_NODE: name,
      SIM_USER: options.user,
      SIM_IP: options.ip,
      SIM_BREW_PREFIX: options.hardware.architecture === 'arm64' ? '/opt/homebrew' : '/usr/local',
      SIM_OLLAMA_PORT: String(internal.port()),
      SIM_OLLAMA_EXT_PORT: String(external.port()),
      SIM_OLLAMA_VERSION,
      SIM_OLLAMA_CLI: OLLAMA_CLI_PATH,
      SIM_CTL: control.path,
      SIM_BIN: STANDINS_DIR,
      SIM_LIB: STANDINS_LIB_DIR,
      SIM_HOMEBREW_DIR: HOMEBREW_DIR,
      SIM_REAL_CURL: REAL.curl,
      SIM_REAL_DATE: REAL.date,
      SIM_REAL_DU: REAL.du,
      SIM_REAL_FIND: REAL.find,
      SIM_REAL_WC: REAL.wc,
      SIM_REAL_SED: REAL.sed,
      SIM_REAL_STAT: REAL.stat,
      SIM_HOST_MAP: Object.entries(options.hostMap ?? {}).map(([k, v]) => `${k}=${v}`).join(' '),
      ...facts,
    };
    const text = Object.entries(vars).map(([k, v]) => `${k}=${quote(v)}\n`).join('');
    writeFileSync(`${paths.nodeEnv}.tmp`, text);
    // rename: a stand-in never reads a half-written file
    writeFileSync(paths.nodeEnv, text);
    rmSync(`${paths.nodeEnv}.tmp`, { force: true });
  }

  async function toggle(l: GatedListener, want: boolean): Promise<void> {
    if (want === l.isOpen()) return;
    if (!want) return l.close();
    try {
      await l.open();
    } catch (err) {
      log(`${name}: cannot reopen ${l.host}:${l.port()} (${(err as Error).message})`);
    }
  }

  function applyListeners(): Promise<void> {
    queue = queue.catch(() => undefined).then(async () => {
      const down = faults.has('down');
      await toggle(ssh, !down);
      await toggle(internal, serve?.loopback ?? false);
      await toggle(external, !down && (serve?.external ?? false));
    });
    return queue;
  }

  function startServe(owner: string, env: Record<string, string>, viaLaunchd: boolean): ServeStartResult {
    if (faults.has('ollama-down')) return 'down';
    if (serve && serve.owner !== owner) return 'in-use';
    const targets = bindTargetsFor(env, options.ip);
    serve = { owner, env: { ...env }, loopback: targets.loopback, external: viaLaunchd && targets.external };
    ollama.setServing(env);
    void applyListeners();
    return 'ok';
  }

  function stopServe(owner: string): void {
    if (serve?.owner !== owner) return;
    serve = undefined;
    ollama.setServing(null);
    void applyListeners();
  }

  const launchd = createLaunchd({
    home: paths.home,
    root: paths.root,
    uid: 501,
    ollamaVersion: SIM_OLLAMA_VERSION,
    startServe: (owner, env) => startServe(owner, env, true),
    stopServe,
    now,
    guiSession: () => !existsSync(join(paths.state, 'no-gui-session')),
    publishDir: join(paths.state, 'launchd'),
  });

  async function manualServe(pid: number, env: Record<string, string>): Promise<CommandResult> {
    const owner = `manual:${pid}`;
    const result = startServe(owner, env, false);
    if (result !== 'ok') {
      const host = env.OLLAMA_HOST ?? '127.0.0.1:11434';
      return { stdout: '', stderr: `Error: listen tcp ${host.includes(':') ? host : `${host}:11434`}: bind: address already in use\n`, code: 1 };
    }
    await applyListeners();
    const timer = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(timer);
        manualWatchers.delete(owner);
        stopServe(owner);
      }
    }, 300);
    timer.unref();
    manualWatchers.set(owner, timer);
    return { stdout: '', stderr: '', code: 0 };
  }

  // First start of this node dir: lay down the preset. Later starts keep what is there (a reboot).
  const fresh = !existsSync(join(paths.state, 'preset'));
  if (fresh) applyPreset(paths, options.preset, SIM_OLLAMA_VERSION, OLLAMA_CLI_PATH);

  // reserve stable ports: open once, close what is not in use yet
  await ssh.open();
  await internal.open();
  try {
    await external.open();
  } catch {
    external = createGatedListener({ host: options.ip, onConnection: toHttp });
    await external.open();
  }
  await internal.close();
  await external.close();

  const control: ControlChannel = await startControlChannel(join(paths.state, 'ctl.sock'), {
    launchctl: async (args, ctx) => {
      const r = launchd.launchctl(args, ctx);
      await applyListeners();
      return r;
    },
    plutil: (args, ctx) => runPlutil(args, ctx.cwd),
    ollamaServe: manualServe,
  });
  writeNodeEnv();

  if (fresh && options.preset.preset === 'provisioned' && options.preset.ollama && options.models.length > 0) {
    try {
      await ollama.seedModels(options.models);
    } catch (err) {
      log(`${name}: could not seed models ${options.models.join(', ')}: ${(err as Error).message}`);
    }
  }
  launchd.loadAtLogin();
  await applyListeners();

  const node: SimNode = {
    name,
    paths,
    ip: options.ip,
    user: options.user,
    ollama,
    launchd,
    sshPort: () => ssh.port(),
    ollamaPort: () => external.port(),
    ollamaInternalPort: () => internal.port(),
    hostKey: () => hostKeyLine,
    presentedHostKey: () => (faults.has('host-key-rotated') ? publicKeyLineOf(ensureKey(paths.rotatedHostKey)) : hostKeyLine),
    commandLog: () => commandLog,
    faults: () => Object.fromEntries(faults),
    serving: () => serve,
    sessionEnv: () => commandEnv() as Record<string, string>,
    zsh,
    now,
    disk,
    settled: () => queue,
    async setFault(kind, params = {}) {
      faults.set(kind, params);
      writeFileSync(join(paths.state, 'faults', kind), renderFaultFile(params));
      switch (kind) {
        case 'down':
          sshFront.closeAll();
          break;
        case 'hang':
          ssh.setHang(true);
          external.setHang(true);
          break;
        case 'slow': {
          const ms = numberParam(params, 'ms', 300);
          ssh.setLatency(ms);
          external.setLatency(ms);
          break;
        }
        case 'ollama-down':
          if (serve) {
            const owner = serve.owner;
            stopServe(owner);
            launchd.markServeDied(owner, 1);
          }
          break;
        case 'ollama-500':
        case 'pull-fail':
          ollama.setFault(kind, { ...params });
          break;
        case 'disk-full':
          diskCache = undefined;
          break;
        case 'host-key-rotated':
          sshFront.setHostKey(ensureKey(paths.rotatedHostKey));
          sshFront.closeAll();
          break;
        case 'sudo-password':
        case 'clock-skew':
          break;
      }
      await applyListeners();
    },
    async clearFault(kind) {
      if (!faults.delete(kind)) return;
      rmSync(join(paths.state, 'faults', kind), { force: true });
      switch (kind) {
        case 'hang':
          ssh.setHang(false);
          external.setHang(false);
          break;
        case 'slow':
          ssh.setLatency(0);
          external.setLatency(0);
          break;
        case 'ollama-down':
          launchd.respawn();
          break;
        case 'ollama-500':
        case 'pull-fail':
          ollama.clearFault(kind);
          break;
        case 'host-key-rotated':
          sshFront.setHostKey(hostKeyPem);
          sshFront.closeAll();
          break;
        case 'disk-full':
          diskCache = undefined;
          break;
        case 'down':
        case 'sudo-password':
        case 'clock-skew':
          break;
      }
      await applyListeners();
    },
    exec(command, execOptions = {}) {
      return new Promise((resolve) => {
        const child = spawnInNode(command, execOptions.env ?? {}, execOptions.shell ? { shell: execOptions.shell } : {});
        let stdout = '';
        let stderr = '';
        child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 }));
        child.stdin?.end(execOptions.stdin ?? '');
      });
    },
    runCron(at) {
      if (faults.has('down')) return;
      let table: string;
      try {
        table = readFileSync(join(paths.state, 'crontab'), 'utf8');
      } catch {
        return;
      }
      for (const line of table.split('\n')) {
        const command = cronDue(line, at);
        if (command === undefined) continue;
        // cron runs the line with /bin/sh and PATH=/usr/bin:/bin (of the simulated userland)
        const child = spawnInNode(command, {}, { cron: true });
        child.stdin?.end();
        child.stdout?.resume();
        child.stderr?.resume();
      }
    },
    async stop() {
      for (const [owner, t] of manualWatchers) {
        clearInterval(t);
        // an `ollama serve` started by hand in a node shell outlives its SSH session; end it with the node
        try {
          process.kill(Number(owner.slice('manual:'.length)), 'SIGTERM');
        } catch {
          // already gone
        }
      }
      for (const child of running) killGroup(child, 'SIGKILL');
      launchd.stopAll();
      sshFront.closeAll();
      await queue;
      await Promise.all([ssh.close(), internal.close(), external.close()]);
      http.closeAllConnections();
      await control.close();
      await ollama.close();
    },
  };
  return node;
}
