// Bob's HTTP side with real sockets on 127.0.0.1: the registry API, the
// webhook, status and metrics, and every kind of bad input from the issue.
// After each bad request the server must still answer.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHeartbeatStore } from '../../reconciler/src/daemon/heartbeats.ts';
import type { HeartbeatStore } from '../../reconciler/src/daemon/heartbeats.ts';
import { startHttpServer } from '../../reconciler/src/daemon/http.ts';
import type { HttpServerOptions, RunningHttpServer } from '../../reconciler/src/daemon/http.ts';
import { createMetrics, recordReconcile } from '../../reconciler/src/daemon/metrics.ts';
import { signGithubBody } from '../../reconciler/src/daemon/webhook.ts';
import { signBeat } from '../../reconciler/src/daemon/heartbeat-auth.ts';
import type { PushEvent } from '../../reconciler/src/daemon/webhook.ts';

const SECRET = 'It\'s a Secret to Everybody';
const KNOWN = new Set(['bob', 'maestro', 'virtuoso']);
const KEYS: Record<string, Buffer> = { virtuoso: Buffer.alloc(32, 7), maestro: Buffer.alloc(32, 9) };
const NOW_S = Date.parse('2026-11-24T10:00:00Z') / 1000;

/** A heartbeat as heartbeat.sh sends it: signed with the node's key, from the node's address. */
function beat(node: string, ip: string, from: string, extra: Record<string, unknown> = {}, ts = NOW_S): Promise<Reply> {
  const body = JSON.stringify({ node_id: node, ip, ...extra });
  const key = KEYS[node] ?? Buffer.alloc(32);
  return call(server.url, 'POST', '/api/heartbeat', body, { 'x-symphony-timestamp': String(ts), 'x-symphony-signature': signBeat(key, ts, body) }, from);
}

interface Reply { status: number; headers: IncomingHttpHeaders; text: string; json: unknown }

function call(url: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, localAddress?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, ...(localAddress ? { localAddress } : {}), headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Writes raw bytes on a socket and collects everything until the server closes; `sent`: steps written by then. */
function raw(port: number, steps: { data: string; delayMs?: number }[]): Promise<{ text: string; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let stopped = false;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { text += d; });
    socket.on('error', () => undefined);
    socket.on('close', () => { stopped = true; resolve({ text, sent }); });
    void (async () => {
      for (const step of steps) {
        if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
        if (stopped) return;
        socket.write(step.data);
        sent++;
      }
    })();
  });
}

let tmp: string;
let store: HeartbeatStore;
let server: RunningHttpServer;
let pushes: (PushEvent & { delivery: string | null })[];
let addressChanges: [string, string | null, string][];
let logLines: { level: string; message: string; fields: object }[];

async function start(overrides: Partial<HttpServerOptions> = {}): Promise<RunningHttpServer> {
  const metrics = createMetrics({ processMetrics: false });
  recordReconcile(metrics, 'ok', 1.5);
  const log = {
    debug: () => undefined,
    info: (fields: object, message: string) => logLines.push({ level: 'info', message, fields }),
    warn: (fields: object, message: string) => logLines.push({ level: 'warn', message, fields }),
    error: (fields: object, message: string) => logLines.push({ level: 'error', message, fields }),
  };
  return startHttpServer({
    host: '127.0.0.1',
    port: 0,
    heartbeats: store,
    registry: {
      isKnownNode: (id) => KNOWN.has(id),
      addressesOf: (id) => (id === 'maestro' ? ['127.0.0.1'] : []),
      keysOf: (id) => (KEYS[id] ? [KEYS[id]] : []),
    },
    allowLoopback: true,
    metrics,
    getStatus: () => ({ revision: 'abc123', last_reconcile: { result: 'ok' } }),
    webhook: { secret: SECRET, branch: 'main', onPush: (e) => pushes.push(e) },
    onAddressChange: (node, from, to) => addressChanges.push([node, from, to]),
    log,
    now: () => new Date('2026-11-24T10:00:00Z'),
    limits: { bodyBytes: 1024, webhookBodyBytes: 64 * 1024, requestTimeoutMs: 600, headersTimeoutMs: 400, timeoutCheckIntervalMs: 50 },
    ...overrides,
  });
}

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-http-'));
  store = await openHeartbeatStore(join(tmp, 'heartbeats.json'), { flushDelayMs: 10 });
  pushes = [];
  addressChanges = [];
  logLines = [];
  server = await start();
});

afterEach(async () => {
  await server.close(100);
  await rm(tmp, { recursive: true, force: true });
});

async function expectStillServing(): Promise<void> {
  const r = await call(server.url, 'GET', '/api/health');
  expect(r.status).toBe(200);
}

describe('registry API', () => {
  it('GET /api/health answers, HEAD too', async () => {
    const r = await call(server.url, 'GET', '/api/health');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok' });
    expect((await call(server.url, 'HEAD', '/api/health')).status).toBe(200);
  });

  it('a signed heartbeat records last seen and IP; a new IP from that address is noticed and persisted', async () => {
    const first = await beat('virtuoso', '127.0.0.42', '127.0.0.42', { timestamp: '2026-11-24T10:00:00Z' });
    expect(first.status).toBe(200);
    expect(store.get('virtuoso')).toEqual({ node_id: 'virtuoso', ip: '127.0.0.42', last_seen: '2026-11-24T10:00:00.000Z', source_ip: '127.0.0.42', signed: true });
    // The first address Bob learns is news too (the registry had the fleet file's).
    expect(addressChanges).toEqual([['virtuoso', null, '127.0.0.42']]);
    const moved = await beat('virtuoso', '127.0.0.77', '127.0.0.77', { extra: 'fields are fine' });
    expect(moved.status).toBe(200);
    expect(addressChanges.at(-1)).toEqual(['virtuoso', '127.0.0.42', '127.0.0.77']);
    expect(logLines.filter((l) => l.message === 'node address changed').at(-1)?.fields).toEqual({ node: 'virtuoso', from: '127.0.0.42', to: '127.0.0.77' });
    await store.flush();
    const saved = JSON.parse(await readFile(join(tmp, 'heartbeats.json'), 'utf8'));
    expect(saved.heartbeats).toEqual([{ node_id: 'virtuoso', ip: '127.0.0.77', last_seen: '2026-11-24T10:00:00.000Z', source_ip: '127.0.0.77', signed: true }]);
  });

  it('a heartbeat with ip UNKNOWN keeps the known address', async () => {
    await beat('maestro', '127.0.0.20', '127.0.0.20');
    const r = await beat('maestro', 'UNKNOWN', '127.0.0.20');
    expect(r.status).toBe(200);
    expect(store.get('maestro')?.ip).toBe('127.0.0.20');
  });

  it('a registration of a known node is noted (201) but moves no address; an unknown one is held as pending (202)', async () => {
    const body = { node_id: 'virtuoso', display_name: 'Virtuoso', role: 'llm_worker', ip: '192.168.1.42', hostname: 'virtuoso.local', services: { ollama: true, ollama_port: 11434, docker: false, harpa: true }, registered_at: '2026-11-24T10:00:00Z' };
    const r = await call(server.url, 'POST', '/api/nodes/register', JSON.stringify(body));
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ status: 'registered', node_id: 'virtuoso', known: true, ip_accepted: false });
    const stranger = await call(server.url, 'POST', '/api/nodes/register', JSON.stringify({ ...body, node_id: 'newbie', hostname: 'newbie.local' }));
    expect(stranger.status).toBe(202);
    expect(stranger.json).toMatchObject({ status: 'pending', known: false });
    expect(store.listRegistrations().map((r) => r.node_id)).toEqual(['virtuoso']);
    expect(store.listPending().map((p) => p.node_id)).toEqual(['newbie']);
    expect(store.get('virtuoso')).toBeUndefined();
  });

  it('GET /api/status returns the injected status; GET /metrics the Prometheus text', async () => {
    const s = await call(server.url, 'GET', '/api/status');
    expect(s.json).toEqual({ revision: 'abc123', last_reconcile: { result: 'ok' } });
    const m = await call(server.url, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toContain('fleet_reconciles_total{result="ok"} 1');
  });
});

describe('bad input to the HTTP side: a clear 4xx, and the server keeps serving', () => {
  it.each([
    ['malformed JSON', '{"node_id": "virtuoso", ', /invalid JSON/],
    ['an empty body', '', /invalid JSON/],
    ['JSON that is not an object', '[1,2,3]', /schema/],
    ['null', 'null', /schema/],
  ])('%s -> 400', async (_name, body, message) => {
    const r = await call(server.url, 'POST', '/api/heartbeat', body);
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(message);
    await expectStillServing();
  });

  it.each([
    ['a number as node_id', { node_id: 123, ip: '192.168.1.1' }, '/node_id'],
    ['an upper-case node id', { node_id: 'Virtuoso', ip: '192.168.1.1' }, '/node_id'],
    ['a hostile node id', { node_id: 'a;rm -rf /', ip: '192.168.1.1' }, '/node_id'],
    ['a number as ip', { node_id: 'virtuoso', ip: 42 }, '/ip'],
    ['an impossible ip', { node_id: 'virtuoso', ip: '999.1.1.1' }, '/ip'],
    ['a missing ip', { node_id: 'virtuoso' }, '/'],
    ['an object as timestamp', { node_id: 'virtuoso', ip: '192.168.1.1', timestamp: { a: 1 } }, '/timestamp'],
  ])('wrong types: %s -> 400 naming the field', async (_name, body, path) => {
    const r = await call(server.url, 'POST', '/api/heartbeat', JSON.stringify(body));
    expect(r.status).toBe(400);
    expect((r.json as { details: { path: string }[] }).details.map((d) => d.path)).toContain(path);
    expect(store.list()).toEqual([]);
  });

  it('wrong types in a registration -> 400', async () => {
    const r = await call(server.url, 'POST', '/api/nodes/register', JSON.stringify({ node_id: 'virtuoso', role: 'llm_worker', ip: '192.168.1.42', hostname: 'virtuoso.local', services: { ollama: 'yes', ollama_port: 99999 } }));
    expect(r.status).toBe(400);
    expect((r.json as { details: { path: string }[] }).details.map((d) => d.path).sort()).toEqual(['/services/ollama', '/services/ollama_port']);
  });

  it('an unknown node id -> 404 saying what to do; nothing recorded', async () => {
    const r = await call(server.url, 'POST', '/api/heartbeat', JSON.stringify({ node_id: 'intruder', ip: '192.168.1.66' }));
    expect(r.status).toBe(404);
    expect((r.json as { error: string }).error).toMatch(/unknown node intruder: add fleet\/nodes\/intruder\.yaml/);
    expect(store.get('intruder')).toBeUndefined();
  });

  it('a body declared larger than the limit -> 413 before it is read', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const r = await call(server.url, 'POST', '/api/heartbeat', big);
    expect(r.status).toBe(413);
    await expectStillServing();
  });

  it('a chunked body growing past the limit -> 413', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/api/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = `{"node_id":"virtuoso","pad":"${'x'.repeat(900)}`;
      req.write(chunk);
      setTimeout(() => { req.write('y'.repeat(2000)); }, 20);
    });
    expect(r).toBe(413);
    await expectStillServing();
  });

  it('a slowloris body (bytes trickling in) -> 408 within the request timeout', async () => {
    const steps = [{ data: 'POST /api/heartbeat HTTP/1.1\r\nHost: bob\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{' }];
    // 7.5 s of trickle, never a whole body, against a 600 ms request timeout.
    for (let i = 0; i < 150; i++) steps.push({ data: '"', delayMs: 50 } as { data: string });
    const r = await raw(server.port, steps);
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.sent).toBeLessThan(steps.length); // cut off while still trickling
    await expectStillServing();
  });

  it('slow headers -> 408', async () => {
    const r = await raw(server.port, [{ data: 'GET /api/health HTTP/1.1\r\nHo' }, { data: 'st: bob\r\n', delayMs: 200 }, { data: 'X-A: 1\r\n', delayMs: 300 }]);
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    await expectStillServing();
  });

  it('garbage instead of HTTP -> 400', async () => {
    const r = await raw(server.port, [{ data: '\x16\x03\x01 not http at all\r\n\r\n' }]);
    expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
    await expectStillServing();
  });

  it('garbage after a good request on a keep-alive connection -> 200 then 400', async () => {
    const r = await raw(server.port, [{ data: 'GET /api/health HTTP/1.1\r\nHost: bob\r\n\r\n' }, { data: 'BREW /coffee HTCPCP/1.0 \x00\r\n\r\n', delayMs: 100 }]);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*HTTP\/1\.1 400 Bad Request/);
    await expectStillServing();
  });

  it('unknown paths -> 404, wrong methods -> 405 with Allow', async () => {
    expect((await call(server.url, 'GET', '/etc/passwd')).status).toBe(404);
    const r = await call(server.url, 'GET', '/api/heartbeat');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect((await call(server.url, 'DELETE', '/api/health')).headers.allow).toBe('GET, HEAD');
  });

  it('a failing status provider -> 500, logged, and the server keeps serving', async () => {
    await server.close(100);
    server = await start({ getStatus: () => { throw new Error('boom'); } });
    const r = await call(server.url, 'GET', '/api/status');
    expect(r.status).toBe(500);
    expect(logLines.some((l) => l.level === 'error' && l.message === 'http handler failed')).toBe(true);
    await expectStillServing();
  });

  it('random bodies never get a 5xx', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ node_id: v, ip: v }))),
      fc.constantFrom('/api/heartbeat', '/api/nodes/register'),
      async (body, path) => {
        const r = await call(server.url, 'POST', path, body);
        return [200, 201, 202, 400, 401, 403, 404, 413, 429].includes(r.status);
      },
    ), { numRuns: 150 });
    await expectStillServing();
  });
});

describe('POST /hooks/github', () => {
  const push = (ref: string) => JSON.stringify({ ref, before: 'a'.repeat(40), after: 'b'.repeat(40), repository: { full_name: 'symphony/fleet' } });
  const hook = (body: string, headers: Record<string, string>) => call(server.url, 'POST', '/hooks/github', body, { 'x-github-event': 'push', 'x-github-delivery': 'd-1', ...headers });

  it('a good signature on a push to the tracked branch calls onPush at once', async () => {
    const body = push('refs/heads/main');
    const r = await hook(body, { 'x-hub-signature-256': signGithubBody(SECRET, body) });
    expect(r.status).toBe(202);
    expect(pushes).toEqual([{ ref: 'refs/heads/main', before: 'a'.repeat(40), after: 'b'.repeat(40), delivery: 'd-1' }]);
  });

  it('form-encoded payloads are accepted too', async () => {
    const body = `payload=${encodeURIComponent(push('refs/heads/main'))}`;
    const r = await hook(body, { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': signGithubBody(SECRET, body) });
    expect(r.status).toBe(202);
    expect(pushes).toHaveLength(1);
  });

  it.each([
    ['missing', undefined],
    ['signed with another secret', signGithubBody('wrong secret', push('refs/heads/main'))],
    ['for another body', signGithubBody(SECRET, push('refs/heads/other'))],
    ['truncated', signGithubBody(SECRET, push('refs/heads/main')).slice(0, 30)],
    ['sha1 style', 'sha1=0123456789abcdef0123456789abcdef01234567'],
    ['not hex', `sha256=${'z'.repeat(64)}`],
  ])('a signature %s -> 401 and nothing happens', async (_name, signature) => {
    const r = await hook(push('refs/heads/main'), signature === undefined ? {} : { 'x-hub-signature-256': signature });
    expect(r.status).toBe(401);
    expect(pushes).toEqual([]);
    expect(logLines.some((l) => l.message === 'webhook signature rejected')).toBe(true);
  });

  it('a push to another branch, or a ping, is acknowledged and ignored', async () => {
    const other = push('refs/heads/feature');
    expect((await hook(other, { 'x-hub-signature-256': signGithubBody(SECRET, other) })).json).toMatchObject({ status: 'ignored' });
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const r = await hook(ping, { 'x-github-event': 'ping', 'x-hub-signature-256': signGithubBody(SECRET, ping) });
    expect(r.status).toBe(200);
    expect(pushes).toEqual([]);
  });

  it('without a configured secret every webhook gets 503 and nothing happens', async () => {
    await server.close(100);
    server = await start({ webhook: { secret: null, branch: 'main', onPush: (e) => pushes.push(e) } });
    const body = push('refs/heads/main');
    const r = await hook(body, { 'x-hub-signature-256': signGithubBody('', body) });
    expect(r.status).toBe(503);
    expect((r.json as { error: string }).error).toMatch(/FLEET_WEBHOOK_SECRET/);
    expect(pushes).toEqual([]);
  });
});

describe('two servers in one process', () => {
  it('keep their own metrics and stores', async () => {
    const otherStore = await openHeartbeatStore(join(tmp, 'other.json'));
    const other = await startHttpServer({ host: '127.0.0.1', port: 0, heartbeats: otherStore, registry: { isKnownNode: () => true, addressesOf: () => ['127.0.0.1'], keysOf: () => [] }, metrics: createMetrics({ processMetrics: false }) });
    try {
      // Unsigned, from the node's own fleet address: liveness, and the address it came from.
      await call(other.url, 'POST', '/api/heartbeat', JSON.stringify({ node_id: 'maestro', ip: '10.0.0.2' }));
      expect(store.get('maestro')).toBeUndefined();
      expect(otherStore.get('maestro')?.ip).toBe('127.0.0.1');
      expect((await call(other.url, 'GET', '/metrics')).text).not.toContain('fleet_reconciles_total{result="ok"} 1');
      expect((await call(server.url, 'GET', '/metrics')).text).toContain('fleet_reconciles_total{result="ok"} 1');
    } finally {
      await other.close(100);
    }
  });
});
