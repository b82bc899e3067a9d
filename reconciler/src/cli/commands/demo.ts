// `fleet demo` (npm start): the product's main job on the embedded default.
// A simulated fleet of factory-fresh Macs (real SSH and Ollama APIs on
// 127.0.1.x) and a local bare repository as origin; the daemon provisions the
// fleet, a commit adds a node as a merged pull request would, the daemon
// converges it, a drift is introduced and healed; then everything stops.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Ollama } from 'ollama';
import { simpleGit } from 'simple-git';
import { FleetError } from '../../errors.ts';
import { createLogger, isLogLevel } from '../../daemon/logger.ts';
import { startDaemon, type RunningDaemon } from '../../daemon/run-daemon.ts';
import type { DaemonStatus } from '../../daemon/status.ts';
import { signGithubBody } from '../../daemon/webhook.ts';
import { freePort } from '../../net/free-port.ts';
import { createGuard, guardedFetch } from '../../net/guard.ts';
import { startSimFleet, type SimFleet } from '../../sim/fleet.ts';
import { createOrigin, pushCommit } from '../../sim/origin.ts';
import type { SimNodeInput } from '../../sim/fleet-source.ts';

const REPO_FLEET = fileURLToPath(new URL('../../../../fleet', import.meta.url));

interface DemoFlags {
  keepRunning?: boolean;
  stateDir?: string;
  logLevel: string;
  timeout: string;
}

/** The fleet of today, all factory-fresh, plus the Mac a person will add. */
const INITIAL_NODES: SimNodeInput[] = [
  { name: 'bob', hardware: 'mac-mini-m4-16gb', role: 'hq', preset: 'fresh' },
  { name: 'maestro', hardware: 'imac-27-2019-i9-64gb', role: 'llm_worker', preset: 'fresh' },
  { name: 'stagehand', hardware: 'imac-intel-i5-8gb', role: 'browser_node', preset: 'fresh' },
  { name: 'virtuoso', hardware: 'mac-mini-m4-24gb', role: 'full_worker', preset: 'fresh' },
];

const VIRTUOSO_YAML = `# yaml-language-server: $schema=../../schemas/node.schema.json
#
# Virtuoso: the new Mac mini M4 24 GB general-purpose worker (the next orchestral name).
name: virtuoso
role: full_worker              # llama3.2:3b, llama3.1:8b, nomic-embed-text
hardware: mac-mini-m4-24gb
addresses:
  - virtuoso.local
status: active
models:
  - mistral:7b                 # 24 GB runs llama3.1:8b + mistral:7b at once
notes: Added by the demo as a merged pull request would.
`;


function say(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

function table(status: DaemonStatus): string {
  return status.nodes.map((n) => `   ${n.node.padEnd(11)} ${n.status.padEnd(12)} ${n.summary}`).join('\n');
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new FleetError('internal', `demo: timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}

const settled = (d: RunningDaemon, after: number): boolean => {
  const s = d.status();
  return s.reconciles > after && s.last?.result !== 'running';
};

const allInSync = (d: RunningDaemon, names: string[]): boolean => {
  const nodes = d.status().nodes;
  return names.every((n) => nodes.some((x) => x.node === n && x.status === 'in-sync'));
};

async function runDemo(flags: DemoFlags): Promise<void> {
  // The demo only ever talks to the simulated fleet on loopback.
  process.env.FLEET_LOOPBACK_ONLY = '1';
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new FleetError('invalid-input', `--timeout ${JSON.stringify(flags.timeout)} must be a positive number of seconds`);
  if (!isLogLevel(flags.logLevel)) throw new FleetError('invalid-input', `--log-level ${flags.logLevel} is not a pino level`);
  // A directory of its own is removed at the end (a run leaves nothing in /tmp); one given with --state-dir is kept.
  const ownState = flags.stateDir === undefined;
  const state = flags.stateDir ? resolve(flags.stateDir) : await mkdtemp(join(tmpdir(), 'symphony-demo-'));
  await mkdir(state, { recursive: true });
  let sim: SimFleet | undefined;
  let daemon: RunningDaemon | undefined;
  try {
    say(`Symphony Fleet demo in ${state} (loopback only)`);
    const port = await freePort();
    sim = await startSimFleet({
      stateDir: join(state, 'sim'),
      specs: INITIAL_NODES,
      preset: 'fresh',
      registryUrl: `http://127.0.0.1:${port}`,
      ollama: { pullBytesPerSecond: 20e9, progressIntervalMs: 50 },
    });
    for (const n of sim.nodes) {
      const t = sim.targets.nodes[n.name];
      process.stdout.write(`   simulated Mac ${n.name.padEnd(10)} ssh ${t?.addresses[0] ?? '?'}:${t?.ssh_port ?? '?'}  ollama ${t?.ollama_url ?? '?'}  (factory-fresh)\n`);
    }

    say('origin: a bare git repository holding fleet/ (bob, maestro, stagehand)');
    const { origin, person } = await createOrigin(state, REPO_FLEET);

    const secret = 'demo-webhook-secret';
    say('fleet daemon: first reconcile provisions the factory-fresh Macs');
    const log = createLogger({ level: flags.logLevel as 'warn', pretty: 'auto' });
    daemon = await startDaemon({
      repo: origin,
      branch: 'main',
      workdir: join(state, 'fleetd'),
      targetsFile: sim.targetsPath,
      http: { host: '127.0.0.1', port },
      log,
      pollIntervalMs: 2000,
      driftCron: '*/5 * * * * *',
      bobHome: join(state, 'bob'),
      webhookSecret: secret,
      backoffBaseMs: 200,
    });
    const d = daemon;
    const first = await waitFor('the first reconcile', timeoutMs, () => allInSync(d, ['bob', 'maestro', 'stagehand']));
    process.stdout.write(`   converged in ${(first / 1000).toFixed(1)} s\n${table(d.status())}\n`);

    say('a person merges a pull request adding virtuoso (fleet/nodes/virtuoso.yaml)');
    const pushedAt = Date.now();
    await pushCommit(person, 'fleet: add virtuoso, Mac mini M4 24 GB full_worker', async () => {
      await writeFile(join(person, 'fleet', 'nodes', 'virtuoso.yaml'), VIRTUOSO_YAML);
    });
    // GitHub would send this push webhook; the daemon also polls every 2 s.
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'demo' });
    const res = await guardedFetch(createGuard({ loopbackOnly: true }))(`${d.url}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithubBody(secret, body) },
      body,
    });
    process.stdout.write(`   webhook answered ${res.status}\n`);
    await waitFor('virtuoso to converge', timeoutMs, () => allInSync(d, ['virtuoso']));
    process.stdout.write(`   virtuoso converged ${((Date.now() - pushedAt) / 1000).toFixed(1)} s after the push\n${table(d.status())}\n`);
    // What OpenClaw reads: the generated file as the daemon pushed it to origin.
    type Workers = { workers: { worker_id: string; enabled: boolean; models_available: string[] }[] };
    const pushedWorker = async (): Promise<Workers['workers'][number] | undefined> => {
      const text = await simpleGit(origin).show(['main:generated/openclaw_workers.json']).catch(() => '{"workers":[]}');
      return (JSON.parse(text) as Workers).workers.find((w) => w.worker_id === 'virtuoso_ollama');
    };
    await waitFor('virtuoso in the pushed openclaw_workers.json', timeoutMs, async () => (await pushedWorker())?.enabled === true);
    const v = await pushedWorker();
    process.stdout.write(`   OpenClaw routes to virtuoso_ollama: enabled=${String(v?.enabled)} models=${v?.models_available.join(' ') ?? ''}\n`);

    say('drift: someone deletes mistral:7b on maestro by hand');
    const maestroUrl = sim.targets.nodes.maestro?.ollama_url;
    if (!maestroUrl) throw new FleetError('internal', 'demo: maestro has no Ollama URL');
    const ollama = new Ollama({ host: maestroUrl, fetch: guardedFetch(createGuard({ loopbackOnly: true })) });
    await ollama.delete({ model: 'mistral:7b' });
    const before = d.status().reconciles;
    await waitFor('the drift run', timeoutMs, () => settled(d, before));
    await waitFor('maestro to be healed', timeoutMs, async () => (await ollama.list()).models.some((m) => m.name === 'mistral:7b') && allInSync(d, ['maestro']));
    process.stdout.write('   healed: mistral:7b is back on maestro\n');

    say('origin now holds the daemon\'s commits of generated/');
    const logText = await simpleGit(origin).raw(['log', '--format=   %h %an: %s', 'main']);
    process.stdout.write(logText);
    process.stdout.write(`\n   generated files: ${join(d.git.dir, 'generated')}\n   dashboard: ${d.url}/   status and metrics: ${d.url}/api/status ${d.url}/metrics\n`);

    if (flags.keepRunning) {
      say(`daemon keeps running (Ctrl-C stops it); open ${d.url}/ in a browser, or try: fleet status --url ${d.url}`);
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
    }
    say('demo finished: stopping the daemon and the simulated fleet');
  } finally {
    await daemon?.stop();
    await sim?.stop();
    if (ownState) await rm(state, { recursive: true, force: true });
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the daemon on a simulated fleet of factory-fresh Macs and a local git origin (what `npm start` runs)')
    .option('--keep-running', 'leave the daemon and the simulated fleet running until Ctrl-C')
    .option('--state-dir <dir>', 'where the simulated fleet, origin and daemon live, kept afterwards (default: a temp dir, removed at the end)')
    .option('--log-level <level>', 'daemon log level (info shows every step)', 'error')
    .option('--timeout <seconds>', 'give up on a phase after this long', '180')
    .action(async (flags: DemoFlags) => {
      await runDemo(flags);
    });
}
