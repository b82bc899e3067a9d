// The registry API as the daemon serves it (daemon/http.ts with its default
// limits and a real heartbeat store), alone in this process, so bench/abuse.ts
// measures its RSS and latency without the load generator in the same event
// loop. Talks to the parent over IPC: `ready` with the URL; on `finish`, the
// store flushed to disk and what it holds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHeartbeatStore } from '../src/daemon/heartbeats.ts';
import { startHttpServer } from '../src/daemon/http.ts';
import { createMetrics } from '../src/daemon/metrics.ts';

const nodes = Number(process.argv[2] ?? '100');
const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-abuse-'));
const store = await openHeartbeatStore(join(dir, 'heartbeats.json'));
/** Node i (1-based) is `bench<i>`, at 127.0.1.<i>, with key bytes all equal to i. */
const names = new Set(Array.from({ length: nodes }, (_, i) => `bench${i + 1}`));
const keyOf = (name: string): Buffer => Buffer.alloc(32, Number(name.slice(5)));
let addressChanges = 0;
const metrics = createMetrics();
const server = await startHttpServer({
  host: '127.0.0.1',
  port: 0,
  heartbeats: store,
  registry: {
    isKnownNode: (n) => names.has(n),
    addressesOf: (n) => (names.has(n) ? [`127.0.1.${n.slice(5)}`] : []),
    keysOf: (n) => (names.has(n) ? [keyOf(n)] : []),
  },
  allowLoopback: true,
  metrics,
  getStatus: () => ({ pending_registrations: store.listPending().length }),
  onAddressChange: () => { addressChanges++; },
});

const rss = (): number => process.memoryUsage().rss;
const sampler = setInterval(() => process.send?.({ type: 'rss', rss: rss() }), 100);
process.send?.({ type: 'ready', url: server.url });

process.on('message', (m: { type: string }) => {
  if (m.type !== 'finish') return;
  clearInterval(sampler);
  void (async () => {
    await store.flush();
    const onDisk = JSON.parse(readFileSync(store.path, 'utf8')) as { heartbeats: { node_id: string; ip: string }[]; pending: unknown[] };
    process.send?.({
      type: 'done',
      rss: rss(),
      beats: store.listBeats().map((b) => ({ node: b.node_id, ip: b.ip, last_seen: b.last_seen, signed: b.signed })),
      onDisk: onDisk.heartbeats.length,
      pending: onDisk.pending.length,
      addressChanges,
      requests: (await metrics.apiRequests.get()).values.map((v) => ({ labels: v.labels, value: v.value })),
    });
    await server.close(500);
    store.close();
    rmSync(dir, { recursive: true, force: true });
    process.disconnect?.();
  })();
});
