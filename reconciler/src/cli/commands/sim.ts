// `fleet sim up|status|fault|down`: a simulated fleet of Macs on loopback that
// speaks real SSH and the real Ollama API. `up` runs in the background by
// default: it starts a detached `fleet sim up --foreground` with this Node
// binary, waits for targets.json and prints the nodes. The foreground process
// owns <state-dir>/sim.pid; `down` stops exactly that process.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import type { Targets } from '../../schema/targets.ts';
import type { NodeStatus } from '../../sim/control-endpoint.ts';
import { FAULT_HELP, FAULT_KINDS, parseFaultKind, parseFaultParams } from '../../sim/faults.ts';
import { startSimFleet } from '../../sim/fleet.ts';
import { fleetPathsOf, type FleetPaths } from '../../sim/layout.ts';

const DEFAULT_STATE_DIR = '.sim';
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

interface UpFlags {
  nodes?: string;
  from?: string;
  stateDir: string;
  preset: 'fresh' | 'provisioned';
  foreground?: boolean;
  user?: string;
  registryUrl?: string;
  pullRate: string;
  internetMbps?: string;
  lanScale?: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(paths: FleetPaths): number | undefined {
  if (!existsSync(paths.pidFile)) return undefined;
  const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function readControlUrl(paths: FleetPaths): string {
  if (!existsSync(paths.control)) {
    throw new FleetError('not-found', `no simulated fleet is running in ${paths.stateDir} (no control.json); start one with "fleet sim up --state-dir ${paths.stateDir}"`);
  }
  const doc = JSON.parse(readFileSync(paths.control, 'utf8')) as { url?: string };
  if (typeof doc.url !== 'string' || !/^http:\/\/127\.0\.0\.1:\d+$/.test(doc.url)) {
    throw new FleetError('invalid-input', `${paths.control} does not name a loopback control endpoint`);
  }
  return doc.url;
}

async function callControl(paths: FleetPaths, method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
  const url = readControlUrl(paths);
  let res: Response;
  try {
    res = await fetch(`${url}${route}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  } catch (err) {
    throw new FleetError('unreachable', `the simulated fleet in ${paths.stateDir} does not answer at ${url}; it may have stopped (run "fleet sim up" again)`, { cause: err });
  }
  const doc = (await res.json()) as { error?: string };
  if (!res.ok) throw new FleetError(res.status === 404 ? 'not-found' : 'invalid-input', doc.error ?? `control endpoint answered ${res.status}`);
  return doc;
}

function renderTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

function renderTargets(targets: Targets, paths: FleetPaths): string {
  const rows = [['NODE', 'ADDRESS', 'SSH', 'OLLAMA']];
  for (const [name, t] of Object.entries(targets.nodes)) rows.push([name, t.addresses[0] ?? '', String(t.ssh_port), t.ollama_url]);
  const first = Object.values(targets.nodes)[0];
  const hint = first
    ? `try:     ssh -o UserKnownHostsFile=${join(paths.stateDir, 'known_hosts')} -i ${first.key_path} -p ${first.ssh_port} ${first.user}@${first.addresses[0] ?? ''} 'hostname'\n`
    : '';
  return `${renderTable(rows)}\ntargets: ${paths.targets}\n${hint}stop:    fleet sim down --state-dir ${paths.stateDir}\n`;
}

async function runForeground(flags: UpFlags, paths: FleetPaths): Promise<void> {
  mkdirSync(paths.stateDir, { recursive: true });
  writeFileSync(paths.pidFile, `${process.pid}\n`);
  const cleanup = (): void => {
    if (readPid(paths) === process.pid) rmSync(paths.pidFile, { force: true });
    rmSync(paths.control, { force: true });
  };
  let fleet;
  try {
    fleet = await startSimFleet({
      stateDir: paths.stateDir,
      ...(flags.from ? { fromDir: flags.from } : {}),
      ...(flags.nodes ? { nodes: Number(flags.nodes) } : {}),
      preset: flags.preset,
      ...(flags.user ? { user: flags.user } : {}),
      ...(flags.registryUrl ? { registryUrl: flags.registryUrl } : {}),
      ollama: { pullBytesPerSecond: Number(flags.pullRate) * 1e6 },
      // One internet line for the whole fleet and a LAN link per Mac, instead of a pull rate per node.
      ...(flags.internetMbps !== undefined ? { network: { internetBytesPerSecond: (Number(flags.internetMbps) * 1e6) / 8, lanScale: Number(flags.lanScale ?? 1) } } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  process.stdout.write(renderTargets(fleet.targets, paths));
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void fleet.stop().finally(() => {
        cleanup();
        done();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function runBackground(flags: UpFlags, paths: FleetPaths): Promise<void> {
  const running = readPid(paths);
  if (running !== undefined && isAlive(running)) {
    throw new FleetError('lock-held', `a simulated fleet is already running from ${paths.stateDir} (pid ${running}); stop it with "fleet sim down --state-dir ${paths.stateDir}"`);
  }
  mkdirSync(paths.stateDir, { recursive: true });
  rmSync(paths.targets, { force: true });
  const args = [MAIN, 'sim', 'up', '--foreground', '--state-dir', paths.stateDir, '--preset', flags.preset];
  if (flags.from) args.push('--from', resolve(flags.from));
  if (flags.nodes) args.push('--nodes', flags.nodes);
  if (flags.user) args.push('--user', flags.user);
  if (flags.registryUrl) args.push('--registry-url', flags.registryUrl);
  args.push('--pull-rate', flags.pullRate);
  if (flags.internetMbps !== undefined) args.push('--internet-mbps', flags.internetMbps);
  if (flags.lanScale !== undefined) args.push('--lan-scale', flags.lanScale);
  const logFd = openSync(paths.log, 'w');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd], cwd: process.cwd(), env: process.env });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + 120_000;
  while (!existsSync(paths.targets)) {
    if (exited !== undefined || Date.now() > deadline) {
      const tail = existsSync(paths.log) ? readFileSync(paths.log, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
      if (exited === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      throw new FleetError('internal', `the simulated fleet did not start (log: ${paths.log})${tail ? `\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const targets = JSON.parse(readFileSync(paths.targets, 'utf8')) as Targets;
  process.stdout.write(renderTargets(targets, paths));
  process.stdout.write(`pid:     ${child.pid ?? '?'} (log: ${paths.log})\n`);
}

async function runDown(paths: FleetPaths): Promise<void> {
  const pid = readPid(paths);
  if (pid === undefined || !isAlive(pid)) {
    rmSync(paths.pidFile, { force: true });
    rmSync(paths.control, { force: true });
    process.stdout.write(`no simulated fleet running in ${paths.stateDir}\n`);
    return;
  }
  // the pid must belong to the fleet we started: its control.json names it and its endpoint answers
  const control = existsSync(paths.control) ? (JSON.parse(readFileSync(paths.control, 'utf8')) as { pid?: number }) : {};
  if (control.pid !== pid) {
    throw new FleetError('invalid-input', `${paths.pidFile} names pid ${pid}, which ${paths.control} does not confirm as the simulator; not stopping it. Remove the pid file if that process is not yours.`);
  }
  await callControl(paths, 'GET', '/status');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) throw new FleetError('internal', `the simulator (pid ${pid}) did not stop within 15 s`);
  process.stdout.write(`stopped the simulated fleet (pid ${pid})\n`);
}

export function register(program: Command): void {
  const sim = program.command('sim').description('a simulated fleet of Macs on loopback (real SSH, real Ollama API)');
  sim
    .command('up')
    .description('start simulated nodes and write <state-dir>/targets.json')
    .option('--nodes <n>', 'number of made-up nodes (default 3)')
    .option('--from <dir>', 'one node per fleet/nodes/*.yaml (not with --nodes)')
    .option('--state-dir <dir>', 'where nodes, keys and targets.json live', DEFAULT_STATE_DIR)
    .addOption(new Option('--preset <preset>', 'starting point of every node').choices(['fresh', 'provisioned']).default('fresh'))
    .option('--user <name>', 'SSH login name (default: fleet.yaml ssh.user, else admin)')
    .option('--registry-url <url>', "Bob's registry API (loopback) the nodes' heartbeats go to")
    .option('--foreground', 'run in this process until interrupted')
    .option('--pull-rate <MB/s>', 'simulated download speed of model pulls, per node (110: a fast home line)', '110')
    .option('--internet-mbps <Mbit/s>', 'model the network instead: one internet line this fast for the whole fleet (e.g. 100), and a LAN link per Mac (1 GbE, 10 GbE on a Mac Studio)')
    .option('--lan-scale <x>', 'with --internet-mbps: multiply every LAN link by this', '1')
    .action(async (flags: UpFlags) => {
      if (!(Number(flags.pullRate) > 0)) throw new FleetError('invalid-input', `--pull-rate ${JSON.stringify(flags.pullRate)}: give megabytes per second, e.g. 110`);
      if (flags.internetMbps !== undefined && !(Number(flags.internetMbps) > 0)) throw new FleetError('invalid-input', `--internet-mbps ${JSON.stringify(flags.internetMbps)}: give the line's rate in Mbit/s, e.g. 100`);
      if (!(Number(flags.lanScale ?? 1) > 0)) throw new FleetError('invalid-input', `--lan-scale ${JSON.stringify(flags.lanScale)}: give a positive number, e.g. 1`);
      if (flags.nodes !== undefined && flags.from !== undefined) throw new FleetError('invalid-input', 'use either --nodes or --from, not both');
      if (flags.nodes !== undefined && !/^[1-9][0-9]{0,3}$/.test(flags.nodes)) throw new FleetError('invalid-input', `--nodes ${flags.nodes}: give a number from 1 to 9999`);
      const paths = fleetPathsOf(resolve(flags.stateDir));
      if (flags.foreground) await runForeground(flags, paths);
      else await runBackground(flags, paths);
    });
  sim
    .command('status')
    .description('show the running simulated nodes and their faults')
    .option('--state-dir <dir>', 'state directory of the fleet', DEFAULT_STATE_DIR)
    .option('--json', 'print JSON')
    .action(async (flags: { stateDir: string; json?: boolean }) => {
      const paths = fleetPathsOf(resolve(flags.stateDir));
      const doc = (await callControl(paths, 'GET', '/status')) as { nodes: NodeStatus[] };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        return;
      }
      const rows = [['NODE', 'ADDRESS', 'SSH', 'OLLAMA', 'SERVING', 'FAULTS']];
      for (const n of doc.nodes) rows.push([n.name, n.ip, String(n.ssh_port), n.ollama_url, n.ollama, Object.keys(n.faults).join(',') || '-']);
      process.stdout.write(renderTable(rows));
    });
  sim
    .command('fault')
    .description(`switch a fault on (or off with --clear): ${FAULT_KINDS.join(', ')}`)
    .argument('<node>', 'node name')
    .argument('<kind>', 'fault kind')
    .option('--clear', 'switch the fault off')
    .option('--param <key=value...>', 'fault parameters, e.g. ms=500, seconds=-3600, afterFraction=0.5')
    .option('--state-dir <dir>', 'state directory of the fleet', DEFAULT_STATE_DIR)
    .addHelpText('after', `\nFaults:\n${FAULT_KINDS.map((k) => `  ${k.padEnd(17)} ${FAULT_HELP[k]}`).join('\n')}\n`)
    .action(async (node: string, kind: string, flags: { clear?: boolean; param?: string[]; stateDir: string }) => {
      const paths = fleetPathsOf(resolve(flags.stateDir));
      const k = parseFaultKind(kind);
      const params = parseFaultParams(flags.param ?? []);
      await callControl(paths, 'POST', '/fault', { node, kind: k, params, clear: flags.clear === true });
      process.stdout.write(`${node}: ${k} ${flags.clear ? 'cleared' : 'on'}\n`);
    });
  sim
    .command('down')
    .description('stop the simulated fleet started from this state directory')
    .option('--state-dir <dir>', 'state directory of the fleet', DEFAULT_STATE_DIR)
    .action(async (flags: { stateDir: string }) => {
      await runDown(fleetPathsOf(resolve(flags.stateDir)));
    });
}
