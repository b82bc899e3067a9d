// Hostile corpus, group 2 of 4: HTTP (issue 11). A device on the LAN talks to
// Bob's real registry API on loopback: forged, replayed, downgraded and
// misdirected heartbeats, registration floods, slow and greedy clients,
// replayed webhooks. Each case states what the server must answer and what it
// may (or may not) change in the store.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signBeat } from '../../reconciler/src/daemon/heartbeat-auth.ts';
import { openHeartbeatStore, type HeartbeatStore } from '../../reconciler/src/daemon/heartbeats.ts';
import { startHttpServer, type RunningHttpServer } from '../../reconciler/src/daemon/http.ts';
import { redactUrls } from '../../reconciler/src/daemon/git.ts';
import { createMetrics } from '../../reconciler/src/daemon/metrics.ts';
import { signGithubBody } from '../../reconciler/src/daemon/webhook.ts';

const NOW_S = Date.parse('2026-11-24T10:00:00Z') / 1000;
const KEY = { virtuoso: Buffer.alloc(32, 7), maestro: Buffer.alloc(32, 9), old: Buffer.alloc(32, 3) };
const HOOK_SECRET = 'hook-secret';

let tmp: string;
let store: HeartbeatStore;
let server: RunningHttpServer;
let pushes: string[];
let changes: string[];
let maestroKeys: Buffer[];

interface Reply { status: number; json: Record<string, unknown> }

function call(path: string, body: string | undefined, headers: Record<string, string> = {}, from = '127.0.0.1', method = 'POST'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, localAddress: from, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface BeatOptions { key?: Buffer | null; ts?: number; from?: string; body?: string; headers?: Record<string, string>; extra?: Record<string, unknown> }

/** A heartbeat for `node` claiming `ip`; signed with its key unless told otherwise. */
function beat(node: string, ip: string, o: BeatOptions = {}): Promise<Reply> {
  const body = o.body ?? JSON.stringify({ node_id: node, ip, ...o.extra });
  const ts = o.ts ?? NOW_S;
  const key = o.key === undefined ? KEY[node as keyof typeof KEY] : o.key;
  const sig = key ? { 'x-symphony-timestamp': String(ts), 'x-symphony-signature': signBeat(key, ts, body) } : {};
  return call('/api/heartbeat', body, { ...sig, ...o.headers }, o.from ?? ip);
}

const health = (from = '127.0.0.1'): Promise<Reply> => call('/api/health', undefined, {}, from, 'GET');
const registration = (node: string, ip: string) => ({ node_id: node, role: 'llm_worker', ip, hostname: `${node}.local` });

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-hostile-http-'));
  store = await openHeartbeatStore(join(tmp, 'heartbeats.json'), { limits: { pendingMax: 32 } });
  pushes = [];
  changes = [];
  maestroKeys = [KEY.maestro];
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    heartbeats: store,
    registry: {
      isKnownNode: (n) => ['bob', 'maestro', 'virtuoso'].includes(n),
      addressesOf: (n) => (n === 'maestro' ? ['127.0.0.20'] : n === 'bob' ? ['127.0.0.10'] : []),
      keysOf: (n) => (n === 'virtuoso' ? [KEY.virtuoso] : n === 'maestro' ? maestroKeys : []),
    },
    allowLoopback: true,
    metrics: createMetrics({ processMetrics: false }),
    webhook: { secret: HOOK_SECRET, branch: 'main', onPush: (p) => pushes.push(p.delivery ?? '') },
    onAddressChange: (node, _from, to) => changes.push(`${node}->${to}`),
    now: () => new Date(NOW_S * 1000),
    limits: { requestTimeoutMs: 800, headersTimeoutMs: 300, timeoutCheckIntervalMs: 50, idleTimeoutMs: 400, perClientConnections: 8, ratePerSecond: 20, rateBurst: 40, bodyBytes: 4096 },
  });
});

afterEach(async () => {
  await server.close(100);
  store.close();
  await rm(tmp, { recursive: true, force: true });
});

/** virtuoso has sent one good heartbeat from 127.0.0.42. */
async function established(): Promise<void> {
  expect((await beat('virtuoso', '127.0.0.42')).status).toBe(200);
  changes = [];
}

interface HttpCase { id: string; run: () => Promise<void> }

const ipStays = async (attack: () => Promise<Reply>, status: number, why?: RegExp): Promise<void> => {
  await established();
  const reply = await attack();
  expect(reply.status).toBe(status);
  if (why) expect(String(reply.json.error ?? reply.json.reason)).toMatch(why);
  expect(store.get('virtuoso')?.ip).toBe('127.0.0.42');
  expect(changes).toEqual([]);
};

const HEARTBEATS: HttpCase[] = [
  { id: 'forged: signed with a key that is not the node\'s', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: Buffer.alloc(32, 1) }), 401, /does not match/) },
  { id: 'forged: another node\'s key', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: KEY.maestro }), 401) },
  { id: 'forged: a valid signature of a different body', run: () => ipStays(() => call('/api/heartbeat', JSON.stringify({ node_id: 'virtuoso', ip: '127.0.0.66' }), { 'x-symphony-timestamp': String(NOW_S), 'x-symphony-signature': signBeat(KEY.virtuoso, NOW_S, '{}') }, '127.0.0.66'), 401) },
  { id: 'forged: signature without timestamp', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: null, headers: { 'x-symphony-signature': `v1=${'a'.repeat(64)}` } }), 401, /both/) },
  { id: 'forged: timestamp without signature', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: null, headers: { 'x-symphony-timestamp': String(NOW_S) } }), 401) },
  { id: 'stale: signed 10 minutes ago', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { ts: NOW_S - 600 }), 401, /window/) },
  { id: 'future: signed 10 minutes ahead', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { ts: NOW_S + 600 }), 401, /window/) },
  { id: 'timestamp not a number', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: null, headers: { 'x-symphony-timestamp': 'yesterday', 'x-symphony-signature': `v1=${'a'.repeat(64)}` } }), 401, /unix seconds/) },
  { id: 'signature not hex', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: null, headers: { 'x-symphony-timestamp': String(NOW_S), 'x-symphony-signature': 'v1=zz' } }), 401) },
  { id: 'signature upper-case hex', run: () => ipStays(() => beat('virtuoso', '127.0.0.66', { key: null, headers: { 'x-symphony-timestamp': String(NOW_S), 'x-symphony-signature': signBeat(KEY.virtuoso, NOW_S, JSON.stringify({ node_id: 'virtuoso', ip: '127.0.0.66' })).toUpperCase() } }), 401) },
  {
    id: 'replay: the same signed heartbeat twice',
    run: async () => {
      await established();
      const body = JSON.stringify({ node_id: 'virtuoso', ip: '127.0.0.43' });
      expect((await beat('virtuoso', '127.0.0.43', { body })).status).toBe(200);
      const again = await beat('virtuoso', '127.0.0.43', { body });
      expect(again.status).toBe(401);
      expect(String(again.json.error)).toMatch(/replay/);
    },
  },
  { id: 'implausible: 0.0.0.0', run: () => ipStays(() => beat('virtuoso', '0.0.0.0', { from: '127.0.0.42' }), 422, /this network/) },
  { id: 'implausible: 255.255.255.255', run: () => ipStays(() => beat('virtuoso', '255.255.255.255', { from: '127.0.0.42' }), 422, /broadcast/) },
  { id: 'implausible: multicast 224.0.0.1', run: () => ipStays(() => beat('virtuoso', '224.0.0.1', { from: '127.0.0.42' }), 422, /multicast/) },
  { id: 'implausible: link-local 169.254.1.1', run: () => ipStays(() => beat('virtuoso', '169.254.1.1', { from: '127.0.0.42' }), 422, /link-local/) },
  { id: 'implausible: reserved 240.0.0.1', run: () => ipStays(() => beat('virtuoso', '240.0.0.1', { from: '127.0.0.42' }), 422, /reserved/) },
  { id: 'misdirect: signed 10.66.66.66 sent from another address (finding: one POST redirects inference)', run: () => ipStays(() => beat('virtuoso', '10.66.66.66', { from: '127.0.0.42' }), 422, /came from 127\.0\.0\.42/) },
  { id: 'non-canonical: 3232235796', run: () => ipStays(() => beat('virtuoso', '3232235796', { from: '127.0.0.42' }), 400) },
  { id: 'non-canonical: 0300.0250.1.20', run: () => ipStays(() => beat('virtuoso', '0300.0250.1.20', { from: '127.0.0.42' }), 400) },
  {
    id: 'genuine move: signed, plausible, from the new address',
    run: async () => {
      await established();
      expect((await beat('virtuoso', '127.0.0.77')).status).toBe(200);
      expect(store.get('virtuoso')?.ip).toBe('127.0.0.77');
      expect(changes).toEqual(['virtuoso->127.0.0.77']);
    },
  },
  { id: 'downgrade: unsigned after the node signed', run: () => ipStays(() => beat('virtuoso', '127.0.0.42', { key: null }), 401, /downgrade/) },
  {
    id: 'unsigned from an address that is not the node\'s (old node, no key)',
    run: async () => {
      const r = await beat('maestro', '127.0.0.66', { key: null });
      expect(r.status).toBe(403);
      expect(store.get('maestro')).toBeUndefined();
    },
  },
  {
    id: 'unsigned from the node\'s fleet address: liveness only',
    run: async () => {
      const r = await beat('maestro', '127.0.0.20', { key: null });
      expect(r.status).toBe(200);
      expect(store.get('maestro')).toMatchObject({ ip: '127.0.0.20', signed: false, source_ip: '127.0.0.20' });
    },
  },
  {
    id: 'unsigned claiming a new IP from the known source: liveness, IP kept',
    run: async () => {
      await beat('maestro', '127.0.0.20', { key: null });
      const r = await beat('maestro', '127.0.0.99', { key: null, from: '127.0.0.20' });
      expect(r.status).toBe(200);
      expect(store.get('maestro')?.ip).toBe('127.0.0.20');
    },
  },
  {
    id: 'unsigned from a second address after the first was learned',
    run: async () => {
      await beat('maestro', '127.0.0.20', { key: null });
      expect((await beat('maestro', '127.0.0.21', { key: null })).status).toBe(403);
      expect(store.get('maestro')?.ip).toBe('127.0.0.20');
    },
  },
  {
    id: 'signed for a node Bob holds no key for',
    run: async () => {
      const r = await beat('bob', '127.0.0.10', { key: Buffer.alloc(32, 5) });
      expect(r.status).toBe(401);
      expect(String(r.json.error)).toMatch(/holds no key/);
    },
  },
  {
    id: 'unknown node: 404, nothing stored',
    run: async () => {
      expect((await beat('intruder', '127.0.0.66', { key: Buffer.alloc(32, 2) })).status).toBe(404);
      expect(store.listBeats()).toEqual([]);
    },
  },
  { id: 'extra fields in a signed body are tolerated', run: async () => { expect((await beat('virtuoso', '127.0.0.42', { extra: { uptime: 5 } })).status).toBe(200); } },
  {
    id: 'rotation: the previous key is accepted until the new one is installed',
    run: async () => {
      maestroKeys = [KEY.maestro, KEY.old];
      expect((await beat('maestro', '127.0.0.20', { key: KEY.old })).status).toBe(200);
      maestroKeys = [KEY.maestro];
      expect((await beat('maestro', '127.0.0.20', { key: KEY.old, ts: NOW_S + 1 })).status).toBe(401);
    },
  },
];

const REGISTRATIONS: HttpCase[] = [
  {
    id: 'unknown node: held as pending, never in heartbeats or registrations',
    run: async () => {
      const r = await call('/api/nodes/register', JSON.stringify(registration('stranger', '127.0.0.66')), {}, '127.0.0.66');
      expect(r.status).toBe(202);
      expect(store.listPending().map((p) => p.node_id)).toEqual(['stranger']);
      expect(store.list()).toEqual([]);
      expect(store.listRegistrations()).toEqual([]);
    },
  },
  {
    id: 'registration flood from many addresses (finding: 66 MB, 454 MB RSS): the pending list stays at its cap',
    run: async () => {
      for (let i = 0; i < 80; i++) await call('/api/nodes/register', JSON.stringify(registration(`flood${i}`, '127.0.0.66')), {}, `127.0.3.${(i % 200) + 1}`);
      expect(store.listPending()).toHaveLength(32);
      expect(store.listPending().at(-1)?.node_id).toBe('flood79');
      expect(store.list()).toEqual([]);
    },
  },
  {
    id: 'known node, unsigned: noted, IP not taken',
    run: async () => {
      const r = await call('/api/nodes/register', JSON.stringify(registration('virtuoso', '10.66.66.66')), {}, '127.0.0.66');
      expect(r.status).toBe(201);
      expect(r.json.ip_accepted).toBe(false);
      expect(store.get('virtuoso')).toBeUndefined();
    },
  },
  {
    id: 'known node, signed from its address: the IP is taken',
    run: async () => {
      const body = JSON.stringify(registration('virtuoso', '127.0.0.55'));
      const r = await call('/api/nodes/register', body, { 'x-symphony-timestamp': String(NOW_S), 'x-symphony-signature': signBeat(KEY.virtuoso, NOW_S, body) }, '127.0.0.55');
      expect(r.status).toBe(201);
      expect(r.json.ip_accepted).toBe(true);
      expect(store.get('virtuoso')?.ip).toBe('127.0.0.55');
    },
  },
  {
    id: 'known node, forged signature: refused',
    run: async () => {
      const body = JSON.stringify(registration('virtuoso', '127.0.0.55'));
      const r = await call('/api/nodes/register', body, { 'x-symphony-timestamp': String(NOW_S), 'x-symphony-signature': signBeat(Buffer.alloc(32, 1), NOW_S, body) }, '127.0.0.55');
      expect(r.status).toBe(401);
      expect(store.get('virtuoso')).toBeUndefined();
    },
  },
  {
    id: 'a registration bigger than the body limit: 413',
    run: async () => {
      const r = await call('/api/nodes/register', JSON.stringify({ ...registration('stranger', '127.0.0.66'), display_name: 'x'.repeat(5000) }), {}, '127.0.0.66');
      expect(r.status).toBe(413);
      expect(store.listPending()).toEqual([]);
    },
  },
];

function openSockets(n: number, from: string): Promise<Socket[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<Socket>((resolve) => {
    const s = connect({ port: server.port, host: '127.0.0.1', localAddress: from });
    s.on('error', () => undefined);
    s.on('connect', () => resolve(s));
  })));
}

const closedWithin = (s: Socket): Promise<string> => new Promise((resolve) => {
  let data = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => { data += d; });
  s.on('close', () => resolve(data));
});

const LIMITS: HttpCase[] = [
  {
    id: 'a client over its rate gets 429; /api/health is exempt from the limit',
    run: async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await call('/api/status', undefined, {}, '127.0.4.1', 'GET')).status);
      expect(statuses.filter((st) => st === 429).length).toBeGreaterThan(0);
      expect((await health('127.0.4.1')).status).toBe(200);
    },
  },
  {
    id: 'one client\'s limit does not touch another client',
    run: async () => {
      for (let i = 0; i < 60; i++) await call('/api/status', undefined, {}, '127.0.4.2', 'GET');
      expect((await call('/api/status', undefined, {}, '127.0.4.3', 'GET')).status).not.toBe(429);
    },
  },
  {
    id: 'connections over the per-client cap are closed at once; another client is served',
    run: async () => {
      const held = await openSockets(8, '127.0.5.1');
      const [extra] = await openSockets(1, '127.0.5.1');
      await closedWithin(extra!);
      expect((await health('127.0.5.2')).status).toBe(200);
      for (const s of held) s.destroy();
    },
  },
  {
    id: 'slow headers (slowloris) are cut with 408',
    run: async () => {
      const [s] = await openSockets(1, '127.0.5.3');
      s!.write('GET /api/health HTTP/1.1\r\nHost: bob\r\n');
      expect(await closedWithin(s!)).toMatch(/408/);
    },
  },
  {
    id: 'an idle connection that sends nothing is closed',
    run: async () => {
      const [s] = await openSockets(1, '127.0.5.4');
      // Closed by the server (with a 408 when the header timer fires first), never left open.
      expect(await closedWithin(s!)).toMatch(/^$|^HTTP\/1\.1 408/);
    },
  },
  {
    id: 'headers over 8 KiB: 431',
    run: async () => {
      const [s] = await openSockets(1, '127.0.5.5');
      s!.write(`GET /api/health HTTP/1.1\r\nHost: bob\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`);
      expect(await closedWithin(s!)).toMatch(/431/);
    },
  },
  {
    id: '300 half-open connections from 100 addresses: /api/health still answers',
    run: async () => {
      const sockets = (await Promise.all(Array.from({ length: 100 }, (_, i) => openSockets(3, `127.0.6.${i + 1}`)))).flat();
      for (const s of sockets) s.write('GET /api/health HTTP/1.1\r\n');
      expect((await health('127.0.0.1')).status).toBe(200);
      for (const s of sockets) s.destroy();
    },
  },
];

const push = JSON.stringify({ ref: 'refs/heads/main', after: 'b'.repeat(40) });
const hook = (delivery: string, body = push, secret = HOOK_SECRET): Promise<Reply> => call('/hooks/github', body, { 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': signGithubBody(secret, body) });

const WEBHOOKS: HttpCase[] = [
  {
    id: 'the same delivery twice (a replay): accepted once',
    run: async () => {
      expect((await hook('d-1')).status).toBe(202);
      const again = await hook('d-1');
      expect(again.status).toBe(200);
      expect(again.json.status).toBe('duplicate');
      expect(pushes).toEqual(['d-1']);
    },
  },
  {
    id: 'a replayed delivery with a forged signature is refused before it is remembered',
    run: async () => {
      expect((await hook('d-2', push, 'wrong')).status).toBe(401);
      expect((await hook('d-2')).status).toBe(202);
      expect(pushes).toEqual(['d-2']);
    },
  },
  {
    id: 'a burst of distinct deliveries all reach the daemon (it collapses same-head pushes itself)',
    run: async () => {
      for (const d of ['a', 'b', 'c']) expect((await hook(`burst-${d}`)).status).toBe(202);
      expect(pushes).toEqual(['burst-a', 'burst-b', 'burst-c']);
    },
  },
];

const OUTPUT: HttpCase[] = [
  { id: 'redaction: https user and token', run: () => { expect(redactUrls('fatal: unable to access \'https://alice:ghp_s3cret@github.com/x/fleet.git/\'')).toBe('fatal: unable to access \'https://***@github.com/x/fleet.git/\''); return Promise.resolve(); } },
  { id: 'redaction: a token as the user name', run: () => { expect(redactUrls('https://ghp_s3cret@github.com/x.git')).not.toContain('ghp_s3cret'); return Promise.resolve(); } },
  { id: 'redaction: a URL without credentials is left alone', run: () => { expect(redactUrls('https://github.com/x.git and /srv/fleet.git')).toBe('https://github.com/x.git and /srv/fleet.git'); return Promise.resolve(); } },
];

describe.each([
  ['heartbeats', HEARTBEATS],
  ['registrations', REGISTRATIONS],
  ['server limits', LIMITS],
  ['webhook', WEBHOOKS],
  ['output', OUTPUT],
] as const)('hostile HTTP: %s', (_group, cases) => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    await c.run();
    // Whatever was thrown at it, the server still answers its health check.
    expect((await health('127.0.0.2')).status).toBe(200);
  });
});
