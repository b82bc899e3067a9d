// The simulated fleet for apply's end-to-end tests: a temporary fleet/
// directory (the repo's settings, roles and catalogs plus the nodes of a
// fixture), the simulated fleet with its simulated Bob (the registry API the
// nodes and the register step call, on loopback), and ways to run `fleet apply`
// in-process or as a child process that can be killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ollama } from 'ollama';
import { applyFleet, type ApplyFleetOptions, type ApplyFleetResult } from '../../reconciler/src/cli/apply-fleet.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import { resolveNodes, type Desired } from '../../reconciler/src/model/desired.ts';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import type { SimNodeInput } from '../../reconciler/src/sim/fleet-source.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NODE_BIN = join(REPO, 'node_modules/.bin/node');
export const FLEET_CLI = join(REPO, 'reconciler/src/cli/main.ts');
export const TODAY = '2026-11-25';

/** A fleet directory: the repo's fleet.yaml/roles/catalog with the fixture's nodes (routing rules renamed to them). */
export async function makeFleetDir(root: string, fixture: string, rename: Record<string, string> = { maestro: 'crescendo' }): Promise<string> {
  const dir = join(root, 'fleet');
  await mkdir(join(dir, 'nodes'), { recursive: true });
  for (const part of ['roles', 'catalog', 'retired.yaml']) await cp(join(REPO, 'fleet', part), join(dir, part), { recursive: true });
  let settings = await readFile(join(REPO, 'fleet/fleet.yaml'), 'utf8');
  for (const [from, to] of Object.entries(rename)) settings = settings.replaceAll(`${from}_`, `${to}_`);
  await writeFile(join(dir, 'fleet.yaml'), settings);
  await writeFile(join(dir, 'known_hosts'), '');
  const nodesDir = join(REPO, 'test/fixtures/apply', fixture, 'nodes');
  for (const f of await readdir(nodesDir)) await cp(join(nodesDir, f), join(dir, 'nodes', f));
  return dir;
}

export async function loadDesired(dir: string): Promise<Desired> {
  const r = await loadFleet(dir, { today: TODAY });
  if (!r.desired) throw new Error(`fixture fleet invalid: ${JSON.stringify(r.problems.slice(0, 3))}`);
  return r.desired;
}

export function desiredModels(desired: Desired): Record<string, string[]> {
  return Object.fromEntries(resolveNodes(desired).map((n) => [n.name, n.models]));
}

export interface TestFleet {
  root: string;
  fleetDir: string;
  desired: Desired;
  sim: SimFleet;
  generatedDir: string;
  bobHome: string;
  stop(): Promise<void>;
}

export async function startTestFleet(fixture: string, options: { specs?: (input: SimNodeInput) => SimNodeInput; prefix?: string; rename?: Record<string, string>; cron?: boolean } = {}): Promise<TestFleet> {
  const root = await mkdtemp(join(tmpdir(), options.prefix ?? 'apply-e2e-'));
  const fleetDir = await makeFleetDir(root, fixture, options.rename);
  const desired = await loadDesired(fleetDir);
  const { readFleetSource } = await import('../../reconciler/src/sim/fleet-source.ts');
  const source = readFleetSource(fleetDir);
  const specs = options.specs ? source.nodes.map(options.specs) : undefined;
  const sim = await startSimFleet({
    stateDir: join(root, 'sim'),
    fromDir: fleetDir,
    ...(specs ? { specs } : {}),
    preset: 'fresh',
    cron: options.cron ?? false,
    controlEndpoint: false,
    // Small simulated pulls: real sizes on disk (sparse), at a fast simulated line rate.
    ollama: { pullBytesPerSecond: 100e9, progressIntervalMs: 10 },
  });
  return {
    root, fleetDir, desired, sim,
    generatedDir: join(root, 'generated'),
    bobHome: join(root, 'sim', 'bob'),
    async stop() {
      await sim.stop();
    },
  };
}

/** `fleet apply --yes` in this process; output collected. */
export async function applyOnce(f: TestFleet, extra: Partial<ApplyFleetOptions> = {}): Promise<ApplyFleetResult & { output: string }> {
  const out: string[] = [];
  const result = await applyFleet({
    fleetDir: f.fleetDir,
    targetsFile: f.sim.targetsPath,
    yes: true,
    prune: false,
    dryRun: false,
    generatedDir: f.generatedDir,
    today: TODAY,
    tty: false,
    write: (t) => void out.push(t),
    confirm: () => Promise.resolve(false),
    backoffBaseMs: 100,
    ...extra,
  });
  return { ...result, output: out.join('') };
}

/** What the simulated Bob's registry received on POST /api/nodes/register. */
export function registrations(f: TestFleet): Record<string, unknown>[] {
  return f.sim.registryCalls().filter((c) => c.path === '/api/nodes/register').map((c) => c.body as Record<string, unknown>);
}

/** The node's models as the official ollama client lists them from Bob. */
export async function listModels(f: TestFleet, node: string): Promise<string[]> {
  const target = f.sim.targets.nodes[node];
  if (!target) throw new Error(`no target ${node}`);
  const client = new Ollama({ host: target.ollama_url, fetch: guardedFetch(createGuard({ loopbackOnly: true })) });
  return (await client.list()).models.map((m) => m.name).sort();
}

/** The observe probe is the only command a converged node may see. */
export function isProbe(command: string): boolean {
  return command.startsWith('_fm=@@fleet-probe-');
}

/** Command lines that change a node (what a no-op apply must never send). */
export function isStateChanging(command: string): boolean {
  if (isProbe(command)) return false;
  return /scutil --set|\/bin\/brew'? (install|uninstall|services stop)|install\.sh|mkdir -p|mv -f|\| crontab -|launchctl (bootstrap|bootout|kickstart)|rm -f|chmod/.test(command);
}

export function newCommands(f: TestFleet, node: string, since: number): string[] {
  return f.sim.commandLog(node).slice(since);
}

export function logSizes(f: TestFleet): Record<string, number> {
  return Object.fromEntries(f.sim.nodes.map((n) => [n.name, f.sim.commandLog(n.name).length]));
}

export interface ChildApply {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** `fleet apply` as a separate process (so it can be killed like a person's Ctrl-C or a crash). */
export function spawnApply(f: TestFleet, args: string[] = ['--yes']): ChildApply {
  const child = spawn(NODE_BIN, [FLEET_CLI, 'apply', '--fleet', f.fleetDir, '--targets', f.sim.targetsPath, '--out', f.generatedDir, '--today', TODAY, ...args], {
    cwd: f.root,
    env: { ...process.env, FLEET_LOOPBACK_ONLY: '1', HOME: join(f.root, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => chunks.join(''), exit };
}
