// npm run bench:sim: start 50 simulated nodes (provisioned: Ollama serving),
// then time until every node has answered one SSH exec and one /api/tags.
// Target: under 5 s on a 2-core machine. Prints the figures and the RSS.
// The clients (Bob) run in a worker thread, as they would on another machine,
// so the simulator's process is measured alone.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { createGuard, guardedFetch } from '../src/net/guard.ts';
import { startSimFleet } from '../src/sim/fleet.ts';

const NODES = Number(process.env.SIM_BENCH_NODES ?? 50);
process.env.FLEET_LOOPBACK_ONLY = '1';
const fetchGuarded = guardedFetch(createGuard({ loopbackOnly: true }));

function sshExec(host: string, port: number, user: string, privateKey: Buffer, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        let out = '';
        channel.on('data', (d: Buffer) => (out += d.toString('utf8')));
        channel.on('close', () => {
          client.end();
          resolve(out);
        });
      });
    });
    client.connect({ host, port, username: user, privateKey, readyTimeout: 30_000 });
  });
}

/** CPU seconds of this process and of its reaped children (Linux /proc; undefined elsewhere). */
function cpuSeconds(): { self: number; children: number } | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    const tick = 100; // USER_HZ on Linux
    const n = (i: number): number => Number(fields[i - 3] ?? 0) / tick;
    return { self: n(14) + n(15), children: n(16) + n(17) };
  } catch {
    return undefined;
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}


interface Probe {
  name: string;
  ip: string;
  sshPort: number;
  ollamaPort: number;
  user: string;
}

interface ProbeResults {
  sshMs: number[];
  tagsMs: number[];
  failures: number;
}

async function probeAll(nodes: Probe[], keyPath: string): Promise<ProbeResults> {
  const key = readFileSync(keyPath);
  const out: ProbeResults = { sshMs: [], tagsMs: [], failures: 0 };
  await Promise.all(
    nodes.map(async (node) => {
      const a = performance.now();
      const host = await sshExec(node.ip, node.sshPort, node.user, key, 'hostname').catch(() => '');
      out.sshMs.push(performance.now() - a);
      const b = performance.now();
      const res = await fetchGuarded(`http://${node.ip}:${node.ollamaPort}/api/tags`).catch(() => undefined);
      const body = res ? ((await res.json()) as { models?: unknown[] }) : {};
      out.tagsMs.push(performance.now() - b);
      if (host.trim() !== node.name || (body.models?.length ?? 0) === 0) out.failures++;
    }),
  );
  return out;
}

if (!isMainThread) {
  // loaded and waiting before the clock starts, like Bob's reconciler
  parentPort?.once('message', (job: { nodes: Probe[]; keyPath: string }) => {
    void probeAll(job.nodes, job.keyPath).then((r) => parentPort?.postMessage(r));
  });
  parentPort?.postMessage('ready');
} else {
  await runBench();
}

async function runBench(): Promise<void> {
  const worker = new Worker(new URL(import.meta.url));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  const loadBefore = loadAverage();
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const fleet = await startSimFleet({ stateDir: dir, nodes: NODES, preset: 'provisioned', controlEndpoint: false, cron: false });
  const started = performance.now() - t0;
  const probes: Probe[] = fleet.nodes.map((n) => ({ name: n.name, ip: n.ip, sshPort: n.sshPort(), ollamaPort: n.ollamaPort(), user: n.user }));
  worker.postMessage({ nodes: probes, keyPath: fleet.clientKeyPath });
  const { sshMs, tagsMs, failures } = await new Promise<ProbeResults>((resolve, reject) => {
    worker.once('message', (m: ProbeResults) => resolve(m));
    worker.once('error', reject);
  });
  await worker.terminate();
  const total = performance.now() - t0;
  const rss = process.memoryUsage().rss / 2 ** 20;
  await fleet.stop();
  const cpu1 = cpuSeconds();
  rmSync(dir, { recursive: true, force: true });

  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`nodes:                 ${NODES} (provisioned, cold state dir)`);
  console.log(`fleet started:         ${fmt(started)}`);
  console.log(`all answered:          ${fmt(total)}  (SSH exec + /api/tags on every node; target < 5 s)`);
  console.log(`ssh exec per node:     p50 ${percentile(sshMs, 50).toFixed(0)} ms, p95 ${percentile(sshMs, 95).toFixed(0)} ms`);
  console.log(`/api/tags per node:    p50 ${percentile(tagsMs, 50).toFixed(0)} ms, p95 ${percentile(tagsMs, 95).toFixed(0)} ms`);
  console.log(`sim process RSS:       ${rss.toFixed(0)} MB`);
  if (cpu0 && cpu1) {
    // CPU time hardly depends on what else the machine runs; wall time does
    console.log(`CPU used:              sim process ${(cpu1.self - cpu0.self).toFixed(2)} s (clients' worker included), node commands ${(cpu1.children - cpu0.children).toFixed(2)} s`);
  }
  console.log(`load average:          ${loadBefore} before, ${loadAverage()} after (2 cores: above 2 the figures are inflated)`);
  console.log(`failures:              ${failures}`);
  process.exitCode = failures === 0 ? 0 : 1;
}
