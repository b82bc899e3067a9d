// The notifier against a local HTTP receiver: what each format sends, and
// failures that are reported (without the URL), never thrown.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../reconciler/src/daemon/alerts.ts';
import { createNotifier } from '../../reconciler/src/daemon/notifier.ts';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';

let server: Server;
let base = '';
const got: { path: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(req.url === '/broken' ? 500 : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const n: Notification = { key: 'low-disk:maestro', kind: 'low-disk', node: 'maestro', state: 'firing', title: 'ALERT maestro: low disk — “full”', message: 'maestro has 4.0 GB free (alert under 20 GB).', at: '2026-11-24T10:00:00.000Z' };

describe('createNotifier', () => {
  it('posts each notification to every target in its format; ntfy headers stay ASCII', async () => {
    const lines: unknown[] = [];
    const notifier = createNotifier([{ format: 'ntfy', url: `${base}/topic` }, { format: 'webhook', url: `${base}/hook` }], { fetch: guardedFetch(createGuard({ loopbackOnly: true })), log: { info: (f) => lines.push(f), warn: (f) => lines.push(f) } });
    const deliveries = await notifier.send([n]);
    expect(deliveries).toEqual([{ target: 'ntfy #1', key: n.key, ok: true, error: null }, { target: 'webhook #2', key: n.key, ok: true, error: null }]);
    expect(got[0]).toMatchObject({ path: '/topic', body: n.message, headers: { title: 'ALERT maestro: low disk ? ?full?', priority: 'high' } });
    expect(JSON.parse(got[1]?.body ?? '{}')).toMatchObject({ kind: 'low-disk', state: 'firing', node: 'maestro' });
    expect(JSON.stringify(lines)).not.toContain(base);
  });

  it('reports a failing or absent receiver by target name, without its URL, and goes on', async () => {
    const lines: unknown[] = [];
    const notifier = createNotifier([{ format: 'slack', url: `${base}/broken` }, { format: 'webhook', url: 'http://127.0.0.1:1/nobody' }, { format: 'webhook', url: `${base}/hook` }], { fetch: guardedFetch(createGuard({ loopbackOnly: true })), log: { info: (f) => lines.push(f), warn: (f) => lines.push(f) }, timeoutMs: 5000 });
    const deliveries = await notifier.send([n]);
    expect(deliveries.map((d) => [d.target, d.ok, d.error])).toEqual([['slack #1', false, 'HTTP 500'], ['webhook #2', false, 'could not connect'], ['webhook #3', true, null]]);
    expect(JSON.stringify(lines)).not.toMatch(/broken|nobody|127\.0\.0\.1/);
  });
});
