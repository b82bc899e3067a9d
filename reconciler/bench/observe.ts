// npm run bench:observe: the headline figure of issue 5. On N simulated nodes
// served by real OpenSSH sshd processes on loopback, time
//   (a) a hand-written baseline: bash runs the same probe with plain `ssh` to
//       every node in parallel (& + wait), plus one `curl /api/tags` each;
//   (b) `fleet plan`, cold, as a whole process (reconciler/bin/fleet.mjs);
//   (c) ansible-playbook, forks=N and pipelining, only when it is installed;
// then observe with connections kept open (in a worker thread, as Bob would
// be another machine), a cold `fleet plan` on 200 ssh2-simulated nodes, and
// what a hung and a dead node cost an observe of six (in process).
// Loopback only; everything started here is stopped on the way out.
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { loadFleet } from '../src/load/load-fleet.ts';
import { createGuard } from '../src/net/guard.ts';
import { createConnectionPool } from '../src/observe/connections.ts';
import { observeFleet } from '../src/observe/observe-fleet.ts';
import { buildProbe } from '../src/observe/probe.ts';
import { readTargets } from '../src/observe/read-targets.ts';
import type { Targets } from '../src/schema/targets.ts';
import { startSimFleet, type SimFleet } from '../src/sim/fleet.ts';
import { opensshUnavailableReason, procStatFields, startOpenSshTier, type OpenSshTier } from '../src/sim/openssh.ts';
import { quote } from '../src/shell/quote.ts';

process.env.FLEET_LOOPBACK_ONLY = '1';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// bin/fleet.mjs does nothing under Node 24 (main.ts runs only when import.meta.main), so run main.ts as `npm run fleet` does.
const FLEET_BIN = join(repo, 'reconciler', 'src', 'cli', 'main.ts');
const NODES = Number(process.env.BENCH_NODES ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BIG_NODES = Number(process.env.BENCH_BIG_NODES ?? 200);
const BIG_FALLBACK = 100;
const BIG_LIMIT_MS = 60_000;
const CHILD_TIMEOUT_MS = 120_000;
const TODAY = '2026-11-25';

/** bob (hq) plus count-1 full workers; concurrency as given; routing rules pointed at real workers. */
function writeBenchFleet(dir: string, count: number, concurrency: number): void {
  cpSync(join(repo, 'fleet'), dir, { recursive: true });
  rmSync(join(dir, 'nodes'), { recursive: true, force: true });
  cpSync(join(repo, 'fleet/nodes/bob.yaml'), join(dir, 'nodes/bob.yaml'));
  const names = Array.from({ length: count - 1 }, (_, i) => `worker${String(i + 1).padStart(3, '0')}`);
  for (const name of names) {
    writeFileSync(join(dir, 'nodes', `${name}.yaml`), `name: ${name}\nrole: full_worker\nhardware: mac-mini-m4-24gb\naddresses: [${name}.local]\nstatus: active\n`);
  }
  const settings = readFileSync(join(dir, 'fleet.yaml'), 'utf8')
    .replaceAll('maestro_', `${names[0] ?? 'bob'}_`)
    .replaceAll('stagehand_', `${names[1] ?? 'bob'}_`)
    .replace(/concurrency: \d+/, `concurrency: ${concurrency}`);
  writeFileSync(join(dir, 'fleet.yaml'), settings);
  writeFileSync(join(dir, 'known_hosts'), '');
}

/** The sim's targets, with SSH pointed at each node's sshd instead of its ssh2 server. */
function targetsThroughSshd(sim: SimFleet, tier: OpenSshTier): Targets {
  const nodes: Targets['nodes'] = {};
  for (const s of tier.nodes) {
    const base = sim.targets.nodes[s.name];
    if (!base) throw new Error(`the sim has no target for ${s.name}`);
    nodes[s.name] = { ...base, addresses: [s.host], ssh_port: s.port, user: s.user, host_key: s.hostKey };
  }
  return { ...sim.targets, nodes };
}

interface Run { ms: number; code: number | null; stdout: string; stderr: string; /** CPU of the tool's whole process tree (user + sys), from bash's `times`. */ cpuMs: number }

let timesSeq = 0;

/** `times`' second line, the children's "0m1.234s 0m0.056s", as milliseconds. */
function childTimesMs(file: string): number {
  try {
    const line = readFileSync(file, 'utf8').trim().split('\n')[1] ?? '';
    return line.split(/\s+/).reduce((sum, t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? sum + (Number(m[1]) * 60 + Number(m[2])) * 1000 : sum;
    }, 0);
  } catch {
    return Number.NaN;
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * A whole process, async (the simulator shares this event loop), killed past
 * the timeout. It runs under a bash that prints `times` when it ends, so the
 * tool's own CPU is known apart from the simulated Macs' (on this machine
 * both share the same cores).
 */
function timeProcess(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  const timesFile = join(tmpdir(), `observe-bench-times-${process.pid}-${++timesSeq}`);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('/bin/bash', ['-c', '"$@"; s=$?; times > "$BENCH_TIMES_FILE"; exit $s', 'bench', cmd, ...args], {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), BENCH_TIMES_FILE: timesFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code, stdout, stderr, cpuMs: childTimesMs(timesFile) });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code: null, stdout, stderr: `${stderr}${err.message}`, cpuMs: Number.NaN });
    });
  });
}

/** The hand-written baseline: the probe over plain ssh and curl /api/tags, every node at once. */
function writeBaselineScript(dir: string, targets: Targets, keyPath: string, knownHostsFile: string): string {
  const out = join(dir, 'baseline-out');
  const lines = ['#!/bin/bash', `mkdir -p ${quote(out)}`, `rm -f ${quote(out)}/*`];
  for (const [name, t] of Object.entries(targets.nodes)) {
    const probe = buildProbe({ ollamaPort: t.ollama_port ?? 11434 });
    const probeFile = join(dir, `probe-${name}.sh`);
    writeFileSync(probeFile, probe.script.__shell);
    const ssh = [
      'ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', '-i', keyPath, '-p', String(t.ssh_port),
      `${t.user}@${t.addresses[0] ?? '127.0.0.1'}`,
    ].map((a) => quote(a)).join(' ');
    lines.push(`${ssh} "$(cat ${quote(probeFile)})" </dev/null >${quote(join(out, `${name}.probe`))} 2>${quote(join(out, `${name}.err`))} &`);
    lines.push(`curl -s --connect-timeout 5 -m 10 ${quote(`${t.ollama_url.replace(/\/+$/, '')}/api/tags`)} >${quote(join(out, `${name}.tags`))} &`);
  }
  lines.push('wait', '');
  const file = join(dir, 'baseline.sh');
  writeFileSync(file, lines.join('\n'));
  chmodSync(file, 0o755);
  return out;
}

/** Nodes whose baseline output is complete: the probe's last section and a models list. */
function countBaselineComplete(out: string, names: readonly string[]): number {
  let ok = 0;
  for (const name of names) {
    try {
      const probe = readFileSync(join(out, `${name}.probe`), 'utf8');
      const tags = JSON.parse(readFileSync(join(out, `${name}.tags`), 'utf8')) as { models?: unknown[] };
      if (/ end\n[\s\S]* = 0\n?$/.test(probe) && Array.isArray(tags.models)) ok++;
    } catch {
      // missing or unparsable output: not complete
    }
  }
  return ok;
}

function writeAnsible(dir: string, targets: Targets, keyPath: string, knownHostsFile: string): { inventory: string; playbook: string } {
  const inv = ['[nodes]'];
  for (const [name, t] of Object.entries(targets.nodes)) {
    inv.push(`${name} ansible_host=${t.addresses[0] ?? '127.0.0.1'} ansible_port=${t.ssh_port} ansible_user=${t.user} ansible_ssh_private_key_file=${keyPath} ollama_url=${t.ollama_url.replace(/\/+$/, '')} probe_file=${join(dir, `probe-${name}.sh`)}`);
  }
  inv.push('', '[nodes:vars]', `ansible_ssh_common_args='-F /dev/null -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHostsFile} -o GlobalKnownHostsFile=/dev/null'`, 'ansible_python_interpreter=/usr/bin/python3', '');
  const play = [
    '- hosts: nodes',
    '  gather_facts: false',
    '  tasks:',
    '    - name: probe',
    '      ansible.builtin.shell: "{{ lookup(\'file\', probe_file) }}"',
    '      changed_when: false',
    '    - name: ollama tags',
    '      ansible.builtin.uri:',
    '        url: "{{ ollama_url }}/api/tags"',
    '      delegate_to: localhost',
    '',
  ];
  const inventory = join(dir, 'inventory.ini');
  const playbook = join(dir, 'observe.yml');
  writeFileSync(inventory, inv.join('\n'));
  writeFileSync(playbook, play.join('\n'));
  return { inventory, playbook };
}

const TICKS_PER_S = 100; // Linux USER_HZ

/** CPU (ms) of everything the sshd listeners have reaped: the node side of finished connections. */
function sshdReapedCpuMs(tier: OpenSshTier): number {
  let ticks = 0;
  for (const n of tier.nodes) {
    const f = procStatFields(n.pid);
    if (!f) return Number.NaN;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return (ticks * 1000) / TICKS_PER_S;
}

/** Node-side CPU of one timed run: waits for sshd to reap the run's connections first. */
async function nodeCpuOf<T>(tier: OpenSshTier, run: () => Promise<T>): Promise<{ result: T; nodeCpuMs: number }> {
  const before = sshdReapedCpuMs(tier);
  const result = await run();
  await new Promise((r) => setTimeout(r, 300));
  return { result, nodeCpuMs: sshdReapedCpuMs(tier) - before };
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      readFileSync(join(d, program));
      return true;
    } catch {
      return false;
    }
  });
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** `fleet plan --format json` statuses, "bob:in_sync ..." summarised as counts. */
function statusCounts(stdout: string): string {
  try {
    const plan = JSON.parse(stdout) as { nodes: { status: string }[] };
    const counts = new Map<string, number>();
    for (const n of plan.nodes) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
    return [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
  } catch {
    return `unparsable plan output: ${stdout.slice(0, 200)}`;
  }
}

function runFleetPlan(root: string, fleetDir: string, targetsFile: string): Promise<Run> {
  return timeProcess(process.execPath, [FLEET_BIN, 'plan', '--fleet', fleetDir, '--targets', targetsFile, '--format', 'json', '--out', join(root, 'generated')], { cwd: root });
}

/** Six ssh2-simulated nodes, one hung and one down: what each costs against the fleet's connect timeout. */
async function observeWithFaults(root: string, fmt: (ms: number) => string): Promise<string> {
  const dir = join(root, 'fleet-faults');
  writeBenchFleet(dir, 6, 6);
  const faulted = await startSimFleet({ stateDir: join(root, 'sim-faults'), fromDir: dir, preset: 'provisioned', controlEndpoint: false, cron: false });
  try {
    const loaded = await loadFleet(dir, { today: TODAY });
    if (!loaded.desired) throw new Error('the faults bench fleet is invalid');
    await faulted.control.setFault('worker001', 'hang');
    await faulted.control.setFault('worker002', 'down');
    const guard = createGuard({ loopbackOnly: true });
    const pool = createConnectionPool(loaded.desired, { targets: faulted.targets, guard });
    try {
      const t0 = performance.now();
      const observed = await observeFleet(loaded.desired, pool, { guard });
      const wallMs = performance.now() - t0;
      const cost = (node: string): string => {
        const o = observed.find((x) => x.node === node);
        return `${fmt(o?.duration_ms ?? Number.NaN)} (${o?.reach.status ?? 'missing'})`;
      };
      const healthy = observed.filter((o) => o.facts !== undefined).map((o) => o.duration_ms ?? Number.NaN);
      return `hung node ${cost('worker001')}, connect timeout ${loaded.desired.settings.ssh.connect_timeout_s} s; dead node ${cost('worker002')}; ${healthy.length} healthy nodes, median ${fmt(median(healthy))}; whole observe ${fmt(wallMs)}`;
    } finally {
      pool.close();
    }
  } finally {
    await faulted.stop();
  }
}

// ---- worker: Bob's side of the kept-open observe ----

interface WarmJob { fleetDir: string; targetsFile: string; runs: number }
interface WarmResult { firstMs: number; warmMs: number[]; bobCpuMs: number[]; reachable: number; total: number }

async function observeWarm(job: WarmJob): Promise<WarmResult> {
  const loaded = await loadFleet(job.fleetDir, { today: TODAY });
  if (!loaded.desired) throw new Error('the bench fleet is invalid');
  const guard = createGuard({ loopbackOnly: true });
  const pool = createConnectionPool(loaded.desired, { targets: await readTargets(job.targetsFile), guard });
  try {
    let t0 = performance.now();
    await observeFleet(loaded.desired, pool, { guard });
    const firstMs = performance.now() - t0;
    const warmMs: number[] = [];
    const bobCpuMs: number[] = [];
    let last: Awaited<ReturnType<typeof observeFleet>> = [];
    for (let i = 0; i < job.runs; i++) {
      const cpu0 = process.threadCpuUsage();
      t0 = performance.now();
      last = await observeFleet(loaded.desired, pool, { guard });
      warmMs.push(performance.now() - t0);
      const cpu = process.threadCpuUsage(cpu0);
      bobCpuMs.push((cpu.user + cpu.system) / 1000);
    }
    return { firstMs, warmMs, bobCpuMs, reachable: last.filter((o) => o.facts !== undefined).length, total: last.length };
  } finally {
    pool.close();
  }
}

if (!isMainThread) {
  parentPort?.once('message', (job: WarmJob) => {
    observeWarm(job).then((r) => parentPort?.postMessage(r), (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }));
  });
} else {
  await runBench();
}

async function observeWarmInWorker(job: WarmJob): Promise<WarmResult> {
  const worker = new Worker(new URL(import.meta.url));
  try {
    return await new Promise<WarmResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('kept-open observe did not finish within 120 s')), CHILD_TIMEOUT_MS);
      worker.once('message', (m: WarmResult | { error: string }) => {
        clearTimeout(timer);
        if ('error' in m) reject(new Error(m.error));
        else resolve(m);
      });
      worker.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      worker.postMessage(job);
    });
  } finally {
    await worker.terminate();
  }
}

// ---- main ----

async function runBench(): Promise<void> {
  const unavailable = opensshUnavailableReason();
  if (unavailable) {
    console.error(`bench:observe needs the real OpenSSH tier: ${unavailable}`);
    process.exitCode = 1;
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'observe-bench-'));
  const fmt = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(3)} s`);
  const rows: [string, string][] = [];
  let sim: SimFleet | undefined;
  let tier: OpenSshTier | undefined;
  let big: SimFleet | undefined;
  let stopping = false;
  const tStart = performance.now();
  const progress = (what: string): void => console.error(`[${((performance.now() - tStart) / 1000).toFixed(1)} s] ${what}`);
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await tier?.stop().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    await big?.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- 20 nodes on real sshd ----
    const fleetDir = join(root, 'fleet');
    writeBenchFleet(fleetDir, NODES, NODES);
    let t0 = performance.now();
    sim = await startSimFleet({ stateDir: join(root, 'sim'), fromDir: fleetDir, preset: 'provisioned', controlEndpoint: false, cron: false });
    tier = await startOpenSshTier(sim.nodes, readFileSync(sim.paths.clientPublicKey, 'utf8').trim());
    const setupMs = performance.now() - t0;
    progress(`${NODES} nodes and their sshd up`);
    const targets = targetsThroughSshd(sim, tier);
    const targetsFile = join(root, 'targets-sshd.json');
    writeFileSync(targetsFile, `${JSON.stringify(targets, null, 2)}\n`);
    const knownHostsFile = join(root, 'known_hosts_sshd');
    writeFileSync(knownHostsFile, tier.knownHosts());
    const names = Object.keys(targets.nodes);

    const baselineOut = writeBaselineScript(root, targets, sim.clientKeyPath, knownHostsFile);
    const baselineScript = join(root, 'baseline.sh');
    const ansible = onPath('ansible-playbook') ? writeAnsible(root, targets, sim.clientKeyPath, knownHostsFile) : undefined;

    // one untimed round of each, so the first timed run does not pay for cold disk caches alone
    await timeProcess('/bin/bash', [baselineScript]);
    const warmupPlan = await runFleetPlan(root, fleetDir, targetsFile);
    if (warmupPlan.code !== 0 && warmupPlan.code !== 2) throw new Error(`fleet plan failed (exit ${String(warmupPlan.code)}): ${warmupPlan.stderr.trim()}`);

    progress(`warm-up done (baseline ${fmt(0)}; plan ${fmt(warmupPlan.ms)})`);
    interface Figures { wall: number[]; cpu: number[]; nodeCpu: number[] }
    const figures = (): Figures => ({ wall: [], cpu: [], nodeCpu: [] });
    const baseline = figures();
    const plans = figures();
    const ansibles = figures();
    const record = (f: Figures, r: { result: Run; nodeCpuMs: number }): Run => {
      f.wall.push(r.result.ms);
      f.cpu.push(r.result.cpuMs);
      f.nodeCpu.push(r.nodeCpuMs);
      return r.result;
    };
    const liveTier = tier;
    let baselineComplete = names.length;
    let planStatuses = '';
    let planExit: number | null = 0;
    let ansibleFailed = '';
    // interleaved, so drift in machine load hits all three alike
    for (let i = 0; i < RUNS; i++) {
      const b = record(baseline, await nodeCpuOf(liveTier, () => timeProcess('/bin/bash', [baselineScript])));
      baselineComplete = Math.min(baselineComplete, countBaselineComplete(baselineOut, names));
      const p = record(plans, await nodeCpuOf(liveTier, () => runFleetPlan(root, fleetDir, targetsFile)));
      planExit = p.code;
      planStatuses = statusCounts(p.stdout);
      progress(`run ${i + 1}: baseline ${fmt(b.ms)}, plan ${fmt(p.ms)}`);
      if (ansible) {
        const a = record(ansibles, await nodeCpuOf(liveTier, () => timeProcess('ansible-playbook', ['-i', ansible.inventory, '-f', String(NODES), ansible.playbook], {
          cwd: root,
          env: { ...process.env, ANSIBLE_PIPELINING: 'True', ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_RETRY_FILES_ENABLED: 'False' },
        })));
        if (a.code !== 0) ansibleFailed = `exit ${String(a.code)}: ${a.stdout.split('\n').filter((l) => /fatal|FAILED|UNREACHABLE/.test(l)).slice(0, 2).join(' | ')}`;
      }
    }

    progress('kept-open observe');
    const warm = await observeWarmInWorker({ fleetDir, targetsFile, runs: RUNS });
    await tier.stop();
    tier = undefined;
    await sim.stop();
    sim = undefined;

    // A connection still open when the run ends (ansible's ssh ControlPersist) is not reaped yet: its node CPU is unknown.
    const nodeCpu = (f: Figures): string => (median(f.nodeCpu) > 0 ? fmt(median(f.nodeCpu)) : 'n/a (connections left open)');
    const cells = (f: Figures): string =>
      `${fmt(median(f.wall))} wall  [${f.wall.map((x) => (x / 1000).toFixed(3)).join(' ')}]; CPU: tool ${fmt(median(f.cpu))}, nodes (sshd + probe) ${nodeCpu(f)}`;
    const mb = median(baseline.wall);
    const mp = median(plans.wall);
    const ma = median(ansibles.wall);
    rows.push(
      ['nodes (real sshd tier)', `${NODES} (bob + ${NODES - 1} full workers, preset provisioned = the seed's hand-made files, so every node drifts; concurrency ${NODES}); set-up ${fmt(setupMs)}`],
      ['runs per figure', `${RUNS} (+1 untimed warm-up), medians; ${availableParallelism()} cores shared by Bob's side and all ${NODES} simulated Macs`],
      ['(a) baseline ssh+curl', `${cells(baseline)}; complete nodes: ${baselineComplete}/${names.length}`],
      ['(b) fleet plan, cold', `${cells(plans)}; exit ${String(planExit)}; ${planStatuses}`],
      ['(c) ansible-playbook', ansible ? `${cells(ansibles)}; forks=${NODES}, pipelining${ansibleFailed ? `; FAILED ${ansibleFailed}` : ''}` : 'ansible: not installed, skipped (apt-get install ansible-core)'],
      ['plan / baseline', `${(mp / mb).toFixed(2)}x wall  (target <= 1.00x); tool CPU ${(median(plans.cpu) / median(baseline.cpu)).toFixed(2)}x`],
      ['ansible / plan', ansible ? `${(ma / mp).toFixed(1)}x wall  (target >= 25x); tool CPU ${(median(ansibles.cpu) / median(plans.cpu)).toFixed(1)}x` : 'n/a (ansible not installed)'],
      ['observe, kept open', `${fmt(median(warm.warmMs))} wall, median of ${RUNS} (first, connecting: ${fmt(warm.firstMs)}); Bob's CPU ${fmt(median(warm.bobCpuMs))}; ${warm.reachable}/${warm.total} with facts  (target < 0.150 s)`],
    );

    // ---- many nodes on the ssh2 tier ----
    let bigRow: string | undefined;
    for (const count of [BIG_NODES, BIG_FALLBACK]) {
      const bigDir = join(root, `fleet-${count}`);
      const concurrency = Math.min(count, 64);
      writeBenchFleet(bigDir, count, concurrency);
      t0 = performance.now();
      big = await startSimFleet({ stateDir: join(root, `sim-${count}`), fromDir: bigDir, preset: 'provisioned', controlEndpoint: false, cron: false });
      const startMs = performance.now() - t0;
      progress(`${count} ssh2-simulated nodes up in ${fmt(startMs)}`);
      const first = await timeProcess(process.execPath, [FLEET_BIN, 'plan', '--fleet', bigDir, '--targets', big.targetsPath, '--format', 'json', '--out', join(root, 'generated')], { cwd: root, timeoutMs: BIG_LIMIT_MS });
      const tooSlow = first.code === null || first.ms > BIG_LIMIT_MS;
      let line = `${count} nodes: ${fmt(first.ms)} (first), exit ${String(first.code)}; ${statusCounts(first.stdout)}; sim start ${fmt(startMs)}; concurrency ${concurrency}`;
      if (!tooSlow) {
        const more: number[] = [first.ms];
        const cpu: number[] = [first.cpuMs];
        for (let i = 1; i < Math.min(RUNS, 3); i++) {
          const again = await runFleetPlan(root, bigDir, big.targetsPath);
          more.push(again.ms);
          cpu.push(again.cpuMs);
        }
        line = `${fmt(median(more))} wall, median of ${more.length} [${more.map((x) => (x / 1000).toFixed(3)).join(' ')}]; fleet plan's CPU ${fmt(median(cpu))}; ${count} nodes, exit ${String(first.code)}; ${statusCounts(first.stdout)}; sim start ${fmt(startMs)}; concurrency ${concurrency}  (target < 5 s)`;
      }
      await big.stop();
      big = undefined;
      if (!tooSlow || count === BIG_FALLBACK) {
        bigRow = count === BIG_NODES ? line : `${line}  (${BIG_NODES} nodes took over ${BIG_LIMIT_MS / 1000} s: fell back to ${BIG_FALLBACK})`;
        break;
      }
    }
    rows.push(['fleet plan, ssh2 sim', bigRow ?? 'n/a']);

    progress('a hung and a dead node');
    rows.push(['hung + dead node', await observeWithFaults(root, fmt)]);

    const width = Math.max(...rows.map(([k]) => k.length));
    console.log('bench:observe figures');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    // Figures are for reading; the exit status says only whether every run worked.
    process.exitCode = (planExit === 0 || planExit === 2) && baselineComplete === names.length && warm.reachable === warm.total ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopAll();
  }
}
