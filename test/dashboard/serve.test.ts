// The dashboard's routes on the daemon's real HTTP server, with a view that
// the test controls: pages with their security headers, the event stream
// (first state at once, a burst of changes as one push, only what changed,
// a bounded number of streams), and "Reconcile now" behind the local token.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHeartbeatStore, type HeartbeatStore } from '../../reconciler/src/daemon/heartbeats.ts';
import { startHttpServer, type RunningHttpServer } from '../../reconciler/src/daemon/http.ts';
import { openLocalToken } from '../../reconciler/src/daemon/local-token.ts';
import type { FleetView, NodeCard } from '../../reconciler/src/dashboard/fleet-view.ts';
import { createDashboard, type Dashboard } from '../../reconciler/src/dashboard/serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'fleet-serve-'));
let server: RunningHttpServer;
let store: HeartbeatStore;
let dashboard: Dashboard;
let reconciles = 0;
let views = 0;
let token = '';

function card(node: string, summary: string): NodeCard {
  return {
    node, display_name: node, role: 'llm_worker', hardware: 'Mac', presence: 'always_on', state: 'in-sync', severity: 'ok', summary, address: '127.0.0.2', observed_at: null,
    ollama: { expected: true, up: true, version: '0.12.6', error: null }, models: { wanted: [], present: [], loaded: [], missing: [] },
    memory: { ram_bytes: null, usable_bytes: null, worst_case_bytes: null, loaded_bytes: 0 }, disk: { total_bytes: null, available_bytes: null, low: false },
    heartbeat: { last_seen: null, age_seconds: null, stale: false }, running: [], differences: [], pending: [], workers: [],
  };
}

let summaries: Record<string, string> = { bob: 'in sync', maestro: 'in sync' };
function view(): FleetView {
  views += 1;
  return {
    now: '2026-11-24T10:00:00.000Z', branch: 'main', revision: 'a'.repeat(40), head: 'a'.repeat(40), invalid: null, origin: { reachable: true, since: null, error: null },
    reconciles: [], running: false, pending: [], pending_total: 0, cards: Object.entries(summaries).map(([n, s]) => card(n, s)), counts: { ok: 2 }, events: [], can_reconcile: true, alerts: [],
  };
}

/** An event-stream reader: each `update` event's data, as it arrives. */
function openStream(path: string): Promise<{ updates: { regions: Record<string, string> }[]; status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const updates: { regions: Record<string, string> }[] = [];
    const req = request(`${server.url}${path}`, (res) => {
      let buffer = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        buffer += d;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: update') && data) updates.push(JSON.parse(data.slice(6)) as { regions: Record<string, string> });
        }
      });
      resolve({ updates, status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const local = await openLocalToken(join(dir, 'fleetd.token'));
  token = readFileSync(join(dir, 'fleetd.token'), 'utf8').trim();
  dashboard = createDashboard({ view, token: local, reconcile: () => void (reconciles += 1), throttleMs: 200, maxClients: 3, refreshMs: 3_600_000 });
  store = await openHeartbeatStore(join(dir, 'heartbeats.json'));
  server = await startHttpServer({
    host: '127.0.0.1', port: 0, heartbeats: store, registry: { isKnownNode: () => false, addressesOf: () => [], keysOf: () => [] },
    extraRoutes: (p) => dashboard.extraRoutes(p),
  });
});

afterAll(async () => {
  dashboard.close();
  await server.close(100);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard routes', () => {
  it('serves the page, a node page, its script and stylesheet with a strict content policy; an unknown node is 404', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('data-live="card-maestro"');
    expect((await fetch(`${server.url}/nodes/maestro`)).status).toBe(200);
    expect((await fetch(`${server.url}/nodes/nobody`)).status).toBe(404);
    expect((await fetch(`${server.url}/nodes/..%2Fetc`)).status).toBe(404);
    expect((await fetch(`${server.url}/dashboard.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await (await fetch(`${server.url}/dashboard.css`)).text()).toContain('.card');
  });

  it('streams the page\'s parts: all at once, then a burst of changes as one push of what changed', async () => {
    const stream = await openStream('/events');
    expect(stream.status).toBe(200);
    await expect.poll(() => stream.updates.length).toBe(1);
    expect(Object.keys(stream.updates[0]?.regions ?? {}).sort()).toEqual(['banner', 'card-bob', 'card-maestro', 'header']);
    const before = views;
    summaries = { bob: 'in sync', maestro: 'drifted: 1 difference' };
    for (let i = 0; i < 1000; i++) dashboard.notify();
    await expect.poll(() => stream.updates.length).toBe(2);
    expect(Object.keys(stream.updates[1]?.regions ?? {})).toEqual(['card-maestro']);
    // One view for the whole burst, not one per change.
    expect(views - before).toBe(1);
    // Nothing changed: nothing is sent.
    dashboard.notify();
    const views2 = views;
    await expect.poll(() => views).toBe(views2 + 1);
    expect(stream.updates).toHaveLength(2);
    stream.close();
  });

  it('gives a node page only its own parts, and refuses streams beyond the limit', async () => {
    const node = await openStream('/events?node=bob');
    await expect.poll(() => node.updates.length).toBe(1);
    expect(Object.keys(node.updates[0]?.regions ?? {})).toEqual(['banner', 'card-bob', 'detail-bob']);
    const more = [await openStream('/events'), await openStream('/events')];
    await expect.poll(() => dashboard.clients()).toBe(3);
    const refused = await openStream('/events');
    expect(refused.status).toBe(503);
    for (const s of [node, ...more, refused]) s.close();
    await expect.poll(() => dashboard.clients()).toBe(0);
  });

  it('reconciles only with the local token: bearer or form; 401 says where the token is', async () => {
    const none = await fetch(`${server.url}/api/reconcile`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toContain(join(dir, 'fleetd.token'));
    expect((await fetch(`${server.url}/api/reconcile`, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/reconcile`, { method: 'GET' })).status).toBe(405);
    expect(reconciles).toBe(0);
    expect((await fetch(`${server.url}/api/reconcile`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(202);
    const form = await fetch(`${server.url}/api/reconcile`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}` });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/');
    expect(reconciles).toBe(2);
  });
});
