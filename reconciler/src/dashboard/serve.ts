// The dashboard's routes on the daemon's HTTP server: the fleet page, a page
// per node, server-sent events that push the changed parts of a page, static
// CSS and script, the view as JSON, and the one action ("Reconcile now"),
// which needs the local token. One view is computed per update and shared by
// every open page; updates are throttled, so a pull's many progress events
// become at most a few pushes a second.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalToken } from '../bob/local-token.ts';
import type { FleetView } from './view.ts';

/** A route the daemon's HTTP server hands over: the dashboard writes its own answer. */
type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
import { escapeHtml } from './html.ts';
import { renderFleetPage, renderNodePage, renderRegions } from './render.ts';
import type { Log } from '../ports.ts';

export interface DashboardOptions {
  view(): FleetView;
  /** null: no token, so no action is offered (read-only). */
  token: LocalToken | null;
  /** "Reconcile now": trigger one (the scheduler queues it behind a running one). */
  reconcile(): void;
  log?: Pick<Log, 'info' | 'warn'>;
  /** Least time between two pushes (default 500 ms). */
  throttleMs?: number;
  /** A comment line this often keeps idle connections open through proxies and the server's idle timeout (default 15 s). */
  keepAliveMs?: number;
  /** A fresh view this often while pages are open, so ages move (default 5 s). */
  refreshMs?: number;
  /** Open event streams at most (default 64); more get 503. */
  maxClients?: number;
}

export interface Dashboard {
  extraRoutes(path: string): Partial<Record<string, RouteHandler>> | undefined;
  /** Something changed: push the changed parts soon. */
  notify(): void;
  clients(): number;
  /** Ends every event stream (the daemon is stopping). */
  close(): void;
}

const ASSETS = new URL('./assets/', import.meta.url);
/** Only this page's own files: no inline script, no other origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PAGE_HEADERS = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

interface Client {
  res: ServerResponse;
  node: string | undefined;
  sent: Map<string, string>;
}

function sendText(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...PAGE_HEADERS, ...headers });
  res.end(body);
}

function readSmallBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const throttleMs = options.throttleMs ?? 500;
  const css = readFileSync(new URL('dashboard.css', ASSETS), 'utf8');
  const script = readFileSync(new URL('dashboard.js', ASSETS), 'utf8');
  const clients = new Set<Client>();
  let timer: NodeJS.Timeout | undefined;
  let lastPush = 0;

  const push = (): void => {
    timer = undefined;
    lastPush = Date.now();
    if (clients.size === 0) return;
    const view = options.view();
    const byNode = new Map<string, ReturnType<typeof renderRegions>>();
    for (const c of clients) {
      const key = c.node ?? '';
      let rendered = byNode.get(key);
      if (!rendered) {
        rendered = renderRegions(view, c.node);
        byNode.set(key, rendered);
      }
      const changed: Record<string, string> = {};
      for (const [id, text] of Object.entries(rendered.regions)) {
        if (c.sent.get(id) !== text) changed[id] = text;
        c.sent.set(id, text);
      }
      if (Object.keys(changed).length === 0) continue;
      c.res.write(`event: update\ndata: ${JSON.stringify({ regions: changed, cards: rendered.cards, now: view.now })}\n\n`);
    }
  };
  const notify = (): void => {
    if (timer !== undefined || clients.size === 0) return;
    timer = setTimeout(push, Math.max(0, lastPush + throttleMs - Date.now()));
    timer.unref();
  };
  const keepAlive = setInterval(() => {
    for (const c of clients) c.res.write(': keep-alive\n\n');
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();
  const refresh = setInterval(notify, options.refreshMs ?? 5_000);
  refresh.unref();

  const events: RouteHandler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const node = url.searchParams.get('node') ?? undefined;
    if (clients.size >= (options.maxClients ?? 64)) {
      sendText(res, 503, 'text/plain; charset=utf-8', 'too many open dashboards; close one\n', { 'retry-after': '10' });
      return Promise.resolve();
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
    res.socket?.setNoDelay(true);
    const client: Client = { res, node, sent: new Map() };
    // The page was rendered a moment ago; the first push brings it up to date.
    const first = renderRegions(options.view(), node);
    for (const [id, text] of Object.entries(first.regions)) client.sent.set(id, text);
    res.write(`retry: 3000\nevent: update\ndata: ${JSON.stringify({ regions: first.regions, cards: first.cards, now: new Date().toISOString() })}\n\n`);
    clients.add(client);
    req.socket.setTimeout(0);
    res.on('close', () => clients.delete(client));
    return Promise.resolve();
  };

  const fleetPage: RouteHandler = (_req, res) => {
    sendText(res, 200, 'text/html; charset=utf-8', renderFleetPage(options.view()));
    return Promise.resolve();
  };

  const nodePage = (node: string): RouteHandler => (_req, res) => {
    const text = renderNodePage(options.view(), node);
    if (text === undefined) sendText(res, 404, 'text/html; charset=utf-8', `<!doctype html><html lang="en"><title>Not found</title><p>No node named ${escapeHtml(node)} in the fleet. <a href="/">All nodes</a></p></html>\n`);
    else sendText(res, 200, 'text/html; charset=utf-8', text);
    return Promise.resolve();
  };

  const reconcileNow: RouteHandler = async (req, res) => {
    const form = /application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '');
    const body = await readSmallBody(req, 4096);
    const auth = req.headers.authorization;
    const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const candidate = bearer ?? (form && body !== null ? (new URLSearchParams(body).get('token') ?? undefined) : undefined);
    const answer = (status: number, message: string): void => {
      if (form) sendText(res, status, 'text/html; charset=utf-8', `<!doctype html><html lang="en"><title>Reconcile</title><p>${escapeHtml(message)}</p><p><a href="/">Back to the dashboard</a></p></html>\n`);
      else sendText(res, status, 'application/json; charset=utf-8', `${JSON.stringify(status < 300 ? { status: 'accepted', message } : { error: message })}\n`);
    };
    if (options.token === null) {
      answer(403, 'this daemon has no local token: the dashboard is read-only');
      return;
    }
    if (!options.token.check(candidate)) {
      options.log?.warn({ peer: req.socket.remoteAddress ?? null, given: candidate !== undefined }, 'reconcile request refused: bad or missing local token');
      answer(401, `the local token is missing or wrong: on Bob it is in ${options.token.file}`);
      return;
    }
    options.log?.info({ peer: req.socket.remoteAddress ?? null }, 'reconcile requested from the dashboard');
    options.reconcile();
    if (form) {
      res.writeHead(303, { location: '/', ...PAGE_HEADERS, 'content-length': '0' });
      res.end();
      return;
    }
    answer(202, 'reconcile queued');
  };

  const asset = (type: string, body: string): RouteHandler => (_req, res) => {
    sendText(res, 200, type, body, { 'cache-control': 'no-cache' });
    return Promise.resolve();
  };
  const viewJson: RouteHandler = (_req, res) => {
    sendText(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(options.view())}\n`);
    return Promise.resolve();
  };

  const fixed: Record<string, Partial<Record<string, RouteHandler>>> = {
    '/': { GET: fleetPage },
    '/events': { GET: events },
    '/dashboard.css': { GET: asset('text/css; charset=utf-8', css) },
    '/dashboard.js': { GET: asset('text/javascript; charset=utf-8', script) },
    '/api/dashboard': { GET: viewJson },
    '/api/reconcile': { POST: reconcileNow },
  };

  return {
    extraRoutes(path) {
      const route = fixed[path];
      if (route) return route;
      const m = /^\/nodes\/([a-z][a-z0-9-]{0,62})$/.exec(path);
      return m?.[1] ? { GET: nodePage(m[1]) } : undefined;
    },
    notify,
    clients: () => clients.size,
    close() {
      clearInterval(keepAlive);
      clearInterval(refresh);
      if (timer) clearTimeout(timer);
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
}
