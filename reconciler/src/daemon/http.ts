// Bob's one HTTP server: the registry API nodes already call, the GitHub push
// webhook, status and metrics. Every request body is size-capped and checked
// against a schema; slow or broken clients get a 4xx and the server keeps
// serving. The LAN is not trusted: heartbeats are judged by heartbeat-auth.ts
// (signed by the node's key, or liveness only), unknown registrations are
// held in a bounded list, each client address has a rate limit and a
// connection cap, and every phase of a request has a timeout, so /api/health
// answers through a flood. Nothing here reconciles: it calls the injected functions.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { heartbeatRequestSchema, registerRequestSchema } from '../schema/registry-api.ts';
import type { HeartbeatRequest, RegisterRequest } from '../schema/registry-api.ts';
import type { HeartbeatStore, RecordResult } from './heartbeats.ts';
import { NODE_SIGNATURE_HEADER, TIMESTAMP_HEADER, checkSignature, createReplayGuard, judgeBeat, type SignatureCheck } from './heartbeat-auth.ts';
import type { FleetMetrics } from './metrics.ts';
import { SIGNATURE_HEADER, parsePushEvent, verifyGithubSignature } from './webhook.ts';
import type { PushEvent } from './webhook.ts';

import type { Log } from '../ports.ts';

export const DEFAULT_PORT = 8765;

export interface WebhookOptions {
  /** null: no secret configured, every webhook gets 503 and nothing happens. */
  secret: string | null;
  /** The tracked branch; pushes to other branches are acknowledged and ignored. */
  branch: string;
  onPush(event: PushEvent & { delivery: string | null }): void;
}

/** What the registry API knows about the fleet, from the last good revision and Bob's key store. */
export interface RegistryView {
  isKnownNode(nodeId: string): boolean;
  /** The node's IPv4 addresses in fleet/: where an unsigned heartbeat may come from before any was accepted. */
  addressesOf(nodeId: string): readonly string[];
  /** Keys the node may sign with (current first). */
  keysOf(nodeId: string): readonly Buffer[];
}

export interface HttpLimits {
  /** Registry API bodies (default 64 KiB). */
  bodyBytes?: number;
  /** Webhook bodies: GitHub push payloads grow with the commits in them (default 1 MiB). */
  webhookBodyBytes?: number;
  /** Whole request, headers and body, or 408 (default 10 s). */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** How often Node checks the two timeouts above (default 1 s; tests use less). */
  timeoutCheckIntervalMs?: number;
  maxConnections?: number;
  /** Open connections per client address (default 32); more are closed at once. */
  perClientConnections?: number;
  /** Requests per second per client address on everything but /api/health (default 20, bursts of 40). */
  ratePerSecond?: number;
  rateBurst?: number;
  /** A connection silent this long is closed (default 30 s). */
  idleTimeoutMs?: number;
  /** Header bytes per request (default 8 KiB). */
  maxHeaderBytes?: number;
  /** Webhook delivery ids remembered for this long (default 1 h). */
  deliveryWindowMs?: number;
}

export interface HttpServerOptions {
  /** Bind address (default 0.0.0.0: nodes on the LAN call it). Tests use 127.0.0.1. */
  host?: string;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  heartbeats: HeartbeatStore;
  /** Heartbeats from nodes not in the last good revision get 404; registrations from them are held as pending. */
  registry: RegistryView;
  /** 127.0.0.0/8 counts as a plausible node address (a simulated fleet on loopback). Default: false. */
  allowLoopback?: boolean;
  metrics?: FleetMetrics;
  getStatus?(): unknown;
  webhook?: WebhookOptions;
  onAddressChange?(nodeId: string, from: string | null, to: string): void;
  log?: Log;
  now?: () => Date;
  limits?: HttpLimits;
  /** More routes (the dashboard's pages, events and actions), asked after the fixed ones; same limits. */
  extraRoutes?(path: string): Partial<Record<string, RouteHandler>> | undefined;
}

export interface RunningHttpServer {
  server: Server;
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:8765 */
  url: string;
  /** Stops accepting, ends idle keep-alive connections, waits up to graceMs (default 2 s) for requests in flight, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULTS = {
  bodyBytes: 64 * 1024,
  webhookBodyBytes: 1024 * 1024,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckIntervalMs: 1_000,
  maxConnections: 1024,
  perClientConnections: 32,
  ratePerSecond: 20,
  rateBurst: 40,
  idleTimeoutMs: 30_000,
  maxHeaderBytes: 8 * 1024,
  deliveryWindowMs: 60 * 60_000,
} satisfies Required<HttpLimits>;

/** Client addresses whose rate-limit buckets are kept; beyond it the oldest are forgotten. */
const MAX_TRACKED_CLIENTS = 10_000;
const MAX_DELIVERIES = 2048;

// After a 413, how much of the rest is read and thrown away (costs no memory)
// before the connection is cut.
const DISCARD_MAX_BYTES = 32 * 1024 * 1024;
const DISCARD_MAX_MS = 2_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
/** A handler another module serves on this server (the dashboard); it writes its own answer. */
export type RouteHandler = Handler;

class HttpProblem extends Error {
  readonly status: number;
  readonly details: unknown;
  constructor(status: number, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

function peerAddress(req: IncomingMessage): string | undefined {
  const a = req.socket.remoteAddress;
  return a?.startsWith('::ffff:') ? a.slice(7) : a;
}

function describeAjvErrors(errors: ErrorObject[] | null | undefined): { path: string; message: string }[] {
  return (errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword }));
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const limits = { ...DEFAULTS, ...options.limits };
  const now = options.now ?? (() => new Date());
  const log = options.log;
  // One ajv per server: no module state shared between two daemons.
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const checkHeartbeat = ajv.compile<HeartbeatRequest>(heartbeatRequestSchema);
  const checkRegister = ajv.compile<RegisterRequest>(registerRequestSchema);
  // Sockets with a response under way (a parse error there must not write a
  // second status line), and sockets being cut after a 413.
  const responding = new WeakSet<Socket>();
  const closing = new WeakSet<Socket>();
  const markResponding = (res: ServerResponse): void => {
    const socket = res.req.socket;
    responding.add(socket);
    res.once('finish', () => responding.delete(socket));
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.headersSent || res.writableEnded) return;
    markResponding(res);
    const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(text);
  };

  // Answer 413 at once and drop the connection soon, discarding what the
  // client still sends so it can read the answer (closing with unread data
  // would reset the connection under it).
  const refuseTooLarge = (req: IncomingMessage, res: ServerResponse, limit: number): void => {
    closing.add(req.socket);
    send(res, 413, { error: `request body over ${limit} bytes` }, { connection: 'close' });
    req.removeAllListeners('data');
    let discarded = 0;
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_MAX_BYTES) req.socket.destroy();
    });
    req.resume();
    const timer = setTimeout(() => req.socket.destroy(), DISCARD_MAX_MS);
    timer.unref();
    req.socket.once('close', () => clearTimeout(timer));
  };

  /** The body, or null when the request was already answered (413) or the client went away. */
  const readBody = (req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      refuseTooLarge(req, res, limit);
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          refuseTooLarge(req, res, limit);
          resolve(null);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
      req.on('error', () => resolve(null));
      req.on('close', () => resolve(null)); // no-op when already resolved
    });
  };

  const count = (route: string, result: string): void => options.metrics?.apiRequests.inc({ route, result });

  const noteAddress = (result: RecordResult): void => {
    if (!result.ipChanged) return;
    log?.info({ node: result.record.node_id, from: result.previousIp, to: result.record.ip }, 'node address changed');
    options.onAddressChange?.(result.record.node_id, result.previousIp, result.record.ip);
  };

  const replays = createReplayGuard();
  const header = (req: IncomingMessage, name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  /** The first of the node's keys that verifies the body, or why none does. */
  const verify = (req: IncomingMessage, nodeId: string, raw: Buffer): SignatureCheck => {
    const headers = { timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, NODE_SIGNATURE_HEADER) };
    const nowS = Math.floor(now().getTime() / 1000);
    const keys = options.registry.keysOf(nodeId);
    let check: SignatureCheck = checkSignature(undefined, headers, raw, nowS);
    for (const key of keys) {
      check = checkSignature(key, headers, raw, nowS);
      if (check.state !== 'bad') break;
    }
    if (check.state === 'valid' && !replays.accept(nodeId, check.mac, check.timestamp, nowS)) {
      return { state: 'bad', why: 'this signed heartbeat was already received (a replay)' };
    }
    return check;
  };

  /** Judges and stores what a node says about itself; the answer to send. */
  const judge = (req: IncomingMessage, nodeId: string, reportedIp: string, raw: Buffer): { status: number; body: Record<string, unknown>; route: string } => {
    const peerIp = peerAddress(req) ?? null;
    const verdict = judgeBeat({
      node: nodeId,
      reportedIp,
      peerIp,
      signature: verify(req, nodeId, raw),
      previous: options.heartbeats.get(nodeId),
      fleetAddresses: options.registry.addressesOf(nodeId),
      allowLoopback: options.allowLoopback ?? false,
    });
    if (!verdict.accept) {
      // At debug: a forged flood must not flood the log too; the counter shows it.
      log?.debug({ node: nodeId, peer: peerIp, reason: verdict.reason }, 'heartbeat refused');
      return { status: verdict.status, body: { error: verdict.reason }, route: 'refused' };
    }
    const result = options.heartbeats.update({ node_id: nodeId, at: now(), ip: verdict.ip, source_ip: peerIp, signed: verdict.signed });
    noteAddress(result);
    return {
      status: verdict.status,
      body: { status: verdict.status === 200 ? 'ok' : 'ip-not-changed', node_id: nodeId, ip: result.record.ip, signed: verdict.signed, last_seen: result.record.last_seen, ...(verdict.reason ? { reason: verdict.reason } : {}) },
      route: verdict.signed ? 'signed' : 'unsigned',
    };
  };

  const parseChecked = <T>(raw: Buffer, check: (v: unknown) => v is T, errors: () => ErrorObject[] | null | undefined): T => {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new HttpProblem(400, `invalid JSON: ${(err as Error).message}`);
    }
    if (!check(value)) throw new HttpProblem(400, 'body does not match the schema', describeAjvErrors(errors()));
    return value;
  };

  const heartbeat: Handler = async (req, res) => {
    const raw = await readBody(req, res, limits.bodyBytes);
    if (raw === null) return;
    const body = parseChecked(raw, checkHeartbeat, () => checkHeartbeat.errors);
    if (!options.registry.isKnownNode(body.node_id)) {
      count('heartbeat', 'unknown-node');
      throw new HttpProblem(404, `unknown node ${body.node_id}: add fleet/nodes/${body.node_id}.yaml to the fleet repository and merge it`);
    }
    const answer = judge(req, body.node_id, body.ip, raw);
    count('heartbeat', answer.route);
    send(res, answer.status, answer.body);
  };

  const register: Handler = async (req, res) => {
    const raw = await readBody(req, res, limits.bodyBytes);
    if (raw === null) return;
    const body = parseChecked(raw, checkRegister, () => checkRegister.errors);
    const peer = peerAddress(req) ?? null;
    if (!options.registry.isKnownNode(body.node_id)) {
      // Held, never trusted: shown in status until a pull request adds the node.
      options.heartbeats.addPending({ node_id: body.node_id, peer, received_at: now().toISOString(), body });
      count('register', 'pending');
      log?.info({ node: body.node_id, peer }, 'registration from an unknown node held as pending');
      send(res, 202, { status: 'pending', node_id: body.node_id, known: false, message: `held until a pull request adds fleet/nodes/${body.node_id}.yaml` });
      return;
    }
    options.heartbeats.recordRegistration(body, now());
    // Signed: judged like a heartbeat (it may move the IP). Unsigned (Bob's
    // own apply, an old script): noted, but it changes no address.
    const signed = req.headers[NODE_SIGNATURE_HEADER] !== undefined;
    const answer = signed ? judge(req, body.node_id, body.ip, raw) : null;
    count('register', answer?.route ?? 'noted');
    log?.info({ node: body.node_id, peer, signed }, 'node registered');
    if (answer !== null && answer.status >= 400 && answer.status !== 422) {
      send(res, answer.status, answer.body);
      return;
    }
    send(res, 201, { status: 'registered', node_id: body.node_id, known: true, ip_accepted: answer?.status === 200 });
  };

  const health: Handler = (_req, res) => {
    send(res, 200, { status: 'ok', service: 'fleetd', time: now().toISOString() });
    return Promise.resolve();
  };

  /** The last heartbeat of each node (what `fleet verify` reads). */
  const heartbeatList: Handler = (_req, res) => {
    send(res, 200, { heartbeats: options.heartbeats.list() });
    return Promise.resolve();
  };

  const status: Handler = async (_req, res) => {
    send(res, 200, options.getStatus ? await options.getStatus() : {});
  };

  const metrics: Handler = async (_req, res) => {
    if (!options.metrics) throw new HttpProblem(404, 'no metrics in this server');
    const registry = options.metrics.registry;
    const text = await registry.metrics();
    markResponding(res);
    res.writeHead(200, { 'content-type': registry.contentType, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
    res.end(text);
  };

  const deliveries = new Map<string, number>();
  /** false when `id` was seen within the window (a replay or a redelivery). */
  const rememberDelivery = (id: string): boolean => {
    const t = now().getTime();
    for (const [k, at] of deliveries) {
      if (at > t - limits.deliveryWindowMs && deliveries.size <= MAX_DELIVERIES) break;
      deliveries.delete(k);
    }
    if (deliveries.has(id)) return false;
    deliveries.set(id, t);
    return true;
  };

  const githubHook: Handler = async (req, res) => {
    const hook = options.webhook;
    const body = await readBody(req, res, limits.webhookBodyBytes);
    if (body === null) return;
    if (!hook?.secret) {
      throw new HttpProblem(503, 'webhook not configured on Bob: set FLEET_WEBHOOK_SECRET (or FLEET_WEBHOOK_SECRET_FILE) to the secret given to GitHub and restart the daemon');
    }
    const signature = req.headers[SIGNATURE_HEADER];
    if (!verifyGithubSignature(hook.secret, body, typeof signature === 'string' ? signature : undefined)) {
      log?.warn({ peer: peerAddress(req), signature_present: signature !== undefined }, 'webhook signature rejected');
      throw new HttpProblem(401, 'bad or missing X-Hub-Signature-256');
    }
    const event = req.headers['x-github-event'];
    const delivery = typeof req.headers['x-github-delivery'] === 'string' ? req.headers['x-github-delivery'].slice(0, 100) : null;
    // GitHub redelivers with the same id: each delivery counts once within the window.
    if (delivery !== null && !rememberDelivery(delivery)) {
      count('webhook', 'duplicate');
      send(res, 200, { status: 'duplicate', delivery });
      return;
    }
    if (event === 'ping') {
      send(res, 200, { status: 'pong' });
      return;
    }
    if (event !== 'push') {
      send(res, 200, { status: 'ignored', reason: `event ${String(event)} is not a push` });
      return;
    }
    const push = parsePushEvent(body, req.headers['content-type']);
    if (push === null) throw new HttpProblem(400, 'push event without a ref');
    if (push.ref !== `refs/heads/${hook.branch}`) {
      send(res, 200, { status: 'ignored', reason: `${push.ref} is not the tracked branch ${hook.branch}` });
      return;
    }
    log?.info({ ref: push.ref, after: push.after, delivery }, 'push webhook received');
    count('webhook', 'accepted');
    hook.onPush({ ...push, delivery });
    send(res, 202, { status: 'accepted', ref: push.ref, after: push.after });
  };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/api/heartbeat': { POST: heartbeat },
    '/api/nodes/register': { POST: register },
    '/api/health': { GET: health, HEAD: health },
    '/api/status': { GET: status },
    '/api/heartbeats': { GET: heartbeatList },
    '/metrics': { GET: metrics },
    '/hooks/github': { POST: githubHook },
  };

  // Token buckets per client address (Map order = least recently used first).
  const buckets = new Map<string, { tokens: number; at: number }>();
  const allow = (client: string): boolean => {
    const t = Date.now();
    const b = buckets.get(client) ?? { tokens: limits.rateBurst, at: t };
    buckets.delete(client);
    b.tokens = Math.min(limits.rateBurst, b.tokens + ((t - b.at) / 1000) * limits.ratePerSecond);
    b.at = t;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    buckets.set(client, b);
    if (buckets.size > MAX_TRACKED_CLIENTS) buckets.delete(buckets.keys().next().value ?? '');
    return ok;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path] ?? options.extraRoutes?.(path);
    try {
      if (route === undefined) throw new HttpProblem(404, `no such endpoint ${path}`);
      // Health is exempt: the health monitor must see Bob up through a flood.
      if (path !== '/api/health' && !allow(peerAddress(req) ?? '?')) {
        count(path, 'rate-limited');
        send(res, 429, { error: `more than ${limits.ratePerSecond} requests per second from ${peerAddress(req) ?? 'this client'}; slow down` }, { 'retry-after': '1' });
        if (!req.readableEnded) req.resume();
        return;
      }
      const handler = route[req.method ?? ''];
      if (handler === undefined) throw new HttpProblem(405, `${req.method ?? '?'} not allowed on ${path}`);
      await handler(req, res);
    } catch (err) {
      if (err instanceof HttpProblem) {
        const headers: Record<string, string> = err.status === 405 && route ? { allow: Object.keys(route).join(', ') } : {};
        send(res, err.status, err.details === undefined ? { error: err.message } : { error: err.message, details: err.details }, headers);
        // Drain whatever body was not read so the connection stays usable.
        if (!req.readableEnded) req.resume();
      } else {
        log?.error({ err, path, method: req.method }, 'http handler failed');
        send(res, 500, { error: 'internal error; see the daemon log' });
      }
    }
  };

  const server = createServer({
    requestTimeout: limits.requestTimeoutMs,
    // Node requires headersTimeout <= requestTimeout.
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    maxHeaderSize: limits.maxHeaderBytes,
  }, (req, res) => {
    void handle(req, res);
  });
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = 1000;
  // An idle or trickling connection is closed; a request in progress is bounded by requestTimeout.
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());

  // One client cannot hold every connection: beyond its share, new ones are closed at once.
  const perClient = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const a = socket.remoteAddress ?? '?';
    const client = a.startsWith('::ffff:') ? a.slice(7) : a;
    const open = (perClient.get(client) ?? 0) + 1;
    perClient.set(client, open);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left <= 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    if (open > limits.perClientConnections) {
      count('connection', 'over-client-cap');
      socket.destroy();
    }
  });

  // Replaces Node's default so the answer is explicit and logged; a socket
  // that already got a response is just closed.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable || responding.has(socket) || closing.has(socket)) {
      socket.destroy();
      return;
    }
    const [code, text] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout']
      : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large']
        : [400, 'Bad Request'];
    log?.warn({ code: err.code ?? null, status: code, peer: socket.remoteAddress ?? null }, 'bad http request');
    const body = `${JSON.stringify({ error: text })}\n`;
    socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });

  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A failing socket later is logged, never thrown: the daemon keeps serving.
  server.on('error', (err) => log?.error({ err }, 'http server error'));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    server,
    host,
    port,
    url: `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${port}`,
    close(graceMs = 2_000) {
      return new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
