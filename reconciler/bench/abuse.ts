// `npm run bench:abuse [-- --seconds 10]`: the registry API under attack,
// through the real HTTP server (bench/abuse-server.ts, a child process) on
// loopback. For the given time: 1,000 heartbeats/s, half signed by 100 nodes
// from their own addresses, half forged (wrong key, unsigned, replayed, from
// attacker addresses); 400 slow-header connections kept open from 20
// addresses; a flood of registrations from unknown nodes. Meanwhile
// /api/health is asked every 20 ms. Prints its latency (p50/p99/max), the
// server's RSS, whether any forged heartbeat changed anything and whether any
// signed one was lost. Exit 0 when all hold (with --no-targets, only the two
// correctness checks: what CI runs, since the figures depend on the machine).
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { signBeat } from '../src/daemon/heartbeat-auth.ts';
import { REPO_ROOT } from './daemon-child.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? undefined : Number(process.argv[i + 1]);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}
const SECONDS = flag('seconds', 10);
const NODES = 100;
const RATE = flag('rate', 1000);
const SLOW = flag('slow', 400);
const REGISTRATIONS_PER_S = flag('registrations', 200);
const TARGETS = !process.argv.includes('--no-targets');
const HEALTH_MAX_MS = 200;
const RSS_MAX_MB = 150;

const keyOf = (i: number): Buffer => Buffer.alloc(32, i);
const nodeAddress = (i: number): string => `127.0.1.${i}`;
const agents = new Map<string, Agent>();
const agentFor = (from: string): Agent => {
  let a = agents.get(from);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: 4, localAddress: from });
    agents.set(from, a);
  }
  return a;
};

let url = '';
function send(method: string, path: string, body: string | undefined, headers: Record<string, string>, from: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { method, agent: agentFor(from), headers: { 'content-type': 'application/json', ...headers }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const child = fork(join(REPO_ROOT, 'reconciler', 'bench', 'abuse-server.ts'), [String(NODES)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const rssSamples: number[] = [];
interface Done { rss: number; beats: { node: string; ip: string; last_seen: string; signed: boolean }[]; onDisk: number; pending: number; addressChanges: number; requests: { labels: Record<string, string>; value: number }[] }
let resolveDone: (d: Done) => void = () => undefined;
const done = new Promise<Done>((r) => { resolveDone = r; });
await new Promise<void>((ready) => {
  child.on('message', (m: { type: string; url?: string; rss?: number } & Partial<Done>) => {
    if (m.type === 'ready') { url = m.url ?? ''; ready(); }
    if (m.type === 'rss' && m.rss !== undefined) rssSamples.push(m.rss);
    if (m.type === 'done') resolveDone(m as unknown as Done);
  });
});

const inflight = new Set<Promise<unknown>>();
const track = <T>(p: Promise<T>): Promise<T> => {
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
  return p;
};

// ---- signed heartbeats: each node from its own address ----
const counts = { signedSent: 0, signedOk: 0, signedOther: new Map<number, number>(), forgedSent: 0, forgedAccepted: 0, registrations: 0 };
const lastSigned = new Map<number, number>();
let seq = 0;
const captured: { body: string; headers: Record<string, string> }[] = [];
function signedBeat(): void {
  const i = (seq % NODES) + 1;
  seq++;
  const body = JSON.stringify({ node_id: `bench${i}`, ip: nodeAddress(i), timestamp: new Date().toISOString(), seq });
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'x-symphony-timestamp': String(ts), 'x-symphony-signature': signBeat(keyOf(i), ts, body) };
  if (captured.length < 50) captured.push({ body, headers });
  counts.signedSent++;
  lastSigned.set(i, Date.now());
  void track(send('POST', '/api/heartbeat', body, headers, nodeAddress(i)).then((status) => {
    if (status === 200) counts.signedOk++;
    else counts.signedOther.set(status, (counts.signedOther.get(status) ?? 0) + 1);
  }));
}

// ---- forged heartbeats from 50 attacker addresses ----
let forged = 0;
function forgedBeat(): void {
  const kind = forged % 3;
  const victim = (forged % NODES) + 1;
  const from = `127.0.66.${(forged % 50) + 1}`;
  forged++;
  counts.forgedSent++;
  let body: string;
  let headers: Record<string, string> = {};
  if (kind === 0) {
    // Unsigned, moving the victim's IP to the attacker (today's 'one POST redirects inference').
    body = JSON.stringify({ node_id: `bench${victim}`, ip: from });
  } else if (kind === 1) {
    // Signed with a guessed key, from the attacker's own address.
    body = JSON.stringify({ node_id: `bench${victim}`, ip: from, seq: forged });
    const ts = Math.floor(Date.now() / 1000);
    headers = { 'x-symphony-timestamp': String(ts), 'x-symphony-signature': signBeat(Buffer.alloc(32, 255), ts, body) };
  } else {
    // A captured genuine heartbeat, replayed from elsewhere.
    const c = captured[forged % Math.max(1, captured.length)];
    body = c?.body ?? '{}';
    headers = c?.headers ?? {};
  }
  void track(send('POST', '/api/heartbeat', body, headers, from).then((status) => {
    if (status === 200) counts.forgedAccepted++;
  }));
}

// ---- registration flood from unknown nodes ----
let registrationSeq = 0;
function registration(): void {
  const n = registrationSeq++;
  counts.registrations++;
  const body = JSON.stringify({ node_id: `flood${n}`, role: 'llm_worker', ip: '10.66.66.66', hostname: `flood${n}.local`, display_name: 'x'.repeat(40) });
  void track(send('POST', '/api/nodes/register', body, {}, `127.0.88.${(n % 50) + 1}`));
}

// ---- slow-header connections: kept at SLOW open, from 20 addresses ----
let stopping = false;
const slow = new Set<Socket>();
let slowOpened = 0;
function openSlow(k: number): void {
  if (stopping) return;
  const s = connect({ host: '127.0.0.1', port: Number(new URL(url).port), localAddress: `127.0.77.${(k % 20) + 1}` });
  slowOpened++;
  slow.add(s);
  s.on('error', () => undefined);
  s.on('connect', () => s.write('GET /api/health HTTP/1.1\r\nHost: bob\r\n'));
  const drip = setInterval(() => { if (!s.destroyed) s.write('X'); }, 500);
  s.on('close', () => {
    clearInterval(drip);
    slow.delete(s);
    // Reopen after a pause: the attacker keeps up the pressure.
    if (!stopping) setTimeout(() => openSlow(k), 50);
  });
}

// ---- /api/health, every 20 ms ----
const latencies: number[] = [];
let healthFailures = 0;
async function probeHealth(): Promise<void> {
  const t0 = performance.now();
  const status = await send('GET', '/api/health', undefined, {}, '127.0.0.1');
  if (status === 200) latencies.push(performance.now() - t0);
  else healthFailures++;
}

for (let k = 0; k < SLOW; k++) openSlow(k);
const started = Date.now();
const tickMs = 10;
const perTick = RATE / (1000 / tickMs);
let owedBeats = 0;
let owedRegistrations = 0;
const ticker = setInterval(() => {
  owedBeats += perTick;
  owedRegistrations += REGISTRATIONS_PER_S / (1000 / tickMs);
  while (owedBeats >= 2) { signedBeat(); forgedBeat(); owedBeats -= 2; }
  while (owedRegistrations >= 1) { registration(); owedRegistrations -= 1; }
}, tickMs);
const healthTimer = setInterval(() => { void track(probeHealth()); }, 20);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
clearInterval(ticker);
clearInterval(healthTimer);
stopping = true;
const elapsed = (Date.now() - started) / 1000;
for (const s of slow) s.destroy();
await Promise.all([...inflight]);
child.send({ type: 'finish' });
const result = await done;
for (const a of agents.values()) a.destroy();

// ---- figures ----
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const rssMaxMb = Math.max(...rssSamples, result.rss) / 2 ** 20;
const wrongIp = result.beats.filter((b) => b.ip !== nodeAddress(Number(b.node.slice(5))));
const unsignedBeats = result.beats.filter((b) => !b.signed);
const forgedChangedNothing = wrongIp.length === 0 && counts.forgedAccepted === 0 && result.addressChanges === NODES && unsignedBeats.length === 0;
const nothingLost = counts.signedOk === counts.signedSent && result.beats.length === NODES && result.onDisk === NODES;
const healthOk = sorted.length > 0 && healthFailures === 0 && (pct(100) < HEALTH_MAX_MS);
const rssOk = rssMaxMb < RSS_MAX_MB;
const ms = (v: number): string => `${v.toFixed(1)} ms`;

const lines = [
  `bench:abuse: ${elapsed.toFixed(1)} s through the real registry API on loopback`,
  `  load: ${counts.signedSent + counts.forgedSent} heartbeats (${((counts.signedSent + counts.forgedSent) / elapsed).toFixed(0)}/s): ${counts.signedSent} signed by ${NODES} nodes, ${counts.forgedSent} forged (unsigned, wrong key, replayed)`,
  `        ${SLOW} slow-header connections held from 20 addresses (${slowOpened} opened in all); ${counts.registrations} registrations from unknown nodes`,
  `  /api/health: ${sorted.length} answers, ${healthFailures} failures; p50 ${ms(pct(50))}, p99 ${ms(pct(99))}, max ${ms(pct(100))} (target: every answer under ${HEALTH_MAX_MS} ms)`,
  `  server RSS: max ${rssMaxMb.toFixed(1)} MB (target < ${RSS_MAX_MB} MB)`,
  `  forged heartbeats changed nothing: ${forgedChangedNothing ? 'yes' : 'NO'} (${counts.forgedAccepted} accepted; ${wrongIp.length} nodes with a wrong IP; ${result.addressChanges} address changes = each node's first)`,
  `  nothing lost: ${nothingLost ? 'yes' : 'NO'} (${counts.signedOk}/${counts.signedSent} signed answered 200${counts.signedOther.size > 0 ? `, others: ${JSON.stringify(Object.fromEntries(counts.signedOther))}` : ''}; ${result.beats.length} nodes in memory, ${result.onDisk} on disk)`,
  `  pending registrations kept: ${result.pending} (bounded)`,
  `  answers by outcome: ${result.requests.map((r) => `${r.labels.route ?? ''}/${r.labels.result ?? ''} ${r.value}`).join(', ')}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const ok = forgedChangedNothing && nothingLost && (!TARGETS || (healthOk && rssOk));
process.exitCode = ok ? 0 : 1;
