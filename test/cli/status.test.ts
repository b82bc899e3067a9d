// `fleet status` against a daemon's /api/status (a real HTTP server on
// loopback serving what the daemon serves): running steps and pull progress
// per node, and exit codes that say what is wrong.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../reconciler/src/daemon/run-daemon.ts';
import { runFleet } from './run-fleet.ts';

let served: DaemonStatus;
let server: Server;
let url = '';

function base(): DaemonStatus {
  const at = '2026-11-24T10:00:00.000Z';
  return {
    repo: 'origin', branch: 'main', origin: { reachable: true, since: null, error: null }, rewritten: null, pending_registrations: [],
    heartbeats: { nodes: 2, write: { pending: false, error: null, failing_since: null, writes: 1, failures: 0 } },
    head: 'a'.repeat(40), revision: 'a'.repeat(40), invalid: null,
    last: { reasons: ['drift'], started_at: at, finished_at: at, result: 'ok', duration_ms: 1500, error: null, commit: null },
    reconciles: 3,
    history: [{ reasons: ['drift'], started_at: at, finished_at: at, result: 'ok', duration_ms: 1500, error: null }],
    nodes: [
      { node: 'bob', status: 'in-sync', summary: 'in sync', address: '127.0.0.1', differences: [], pending_steps: 0, backoff_until: null },
      { node: 'maestro', status: 'in-sync', summary: 'in sync', address: '192.168.1.20', differences: [], pending_steps: 0, backoff_until: null },
    ],
    running: [],
    pending: [],
    alerts: { targets: [], firing: [], suppressed: 0, last_error: null },
    pending_total: 0,
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(req.url === '/api/status' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(served));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('fleet status', () => {
  it('exits 0 when every node is in sync, naming the address that answered', async () => {
    served = base();
    const r = await runFleet(['status', '--url', url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/maestro +in-sync +in sync \(via 192\.168\.1\.20\)/);
    expect(r.stdout).toContain('last reconcile: ok at 2026-11-24T10:00:00.000Z in 1.5 s (drift)');
  });

  it('shows each running step under its node: step, model, percent, bytes, MB/s and ETA', async () => {
    served = base();
    served.last = { ...served.last!, result: 'running', finished_at: null, duration_ms: null };
    served.running = [
      { node: 'maestro', id: 'maestro/pull-model/llama3.1:70b', kind: 'pull-model', model: 'llama3.1:70b', started_at: '2026-11-24T10:00:01Z', transfer: { node: 'maestro', model: 'llama3.1:70b', status: 'pulling 6a07', completed: 17_000_000_000, total: 39_970_000_000, bytesPerSecond: 112_400_000, etaSeconds: 205 } },
      { node: 'bob', id: 'bob/make-dirs', kind: 'make-dirs', model: null, started_at: '2026-11-24T10:00:01Z', transfer: null },
      { node: 'stagehand', id: 'stagehand/pull-model/mistral:7b', kind: 'pull-model', model: 'mistral:7b', started_at: '2026-11-24T10:00:01Z', transfer: { node: 'stagehand', model: 'mistral:7b', status: 'copying', completed: 1e9, total: 4e9, source: 'lan:maestro' } },
    ];
    served.pending = [{ node: 'maestro', id: 'maestro/pull-model/llama3.1:70b', kind: 'pull-model', why: 'missing' }];
    served.pending_total = 1;
    const r = await runFleet(['status', '--url', url]);
    expect(r.stdout).toContain('last reconcile: running since 2026-11-24T10:00:00.000Z (drift)');
    expect(r.stdout).toMatch(/maestro +in-sync .*\n {6}pulling llama3\.1:70b {3}42% {2}17\.0 GB of 40\.0 GB {2}112 MB\/s {2}ETA 3m25s\n/);
    expect(r.stdout).toMatch(/bob .*\n {6}running make-dirs \(bob\/make-dirs\)\n/);
    // A LAN copy, its rate not known yet.
    expect(r.stdout).toMatch(/\n {6}copying mistral:7b \(LAN from maestro\) {3}25% {2}1\.0 GB of 4\.0 GB {2}- MB\/s {2}ETA -\n/);
    expect(r.stdout).toContain('1 step being applied');
    // The last finished reconcile was fine: a running one is not an error.
    expect(r.code).toBe(0);
  });

  it('exits 1 and says why when the last reconcile failed', async () => {
    served = base();
    served.last = { ...served.last!, result: 'failed', error: 'git push: remote rejected' };
    served.history = [{ ...served.history[0]!, result: 'failed', error: 'git push: remote rejected' }];
    const r = await runFleet(['status', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error: the last reconcile failed: git push: remote rejected');
  });

  it('exits 1 when the branch head is invalid, and 2 when a node is not in sync', async () => {
    served = base();
    served.invalid = { revision: 'b'.repeat(40), problems: [{ file: 'fleet/nodes/x.yaml', line: 2, col: 7, severity: 'error', rule: 'unknown-role', message: 'Role "llm_wrker" is not defined' }] };
    let r = await runFleet(['status', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error: the branch head bbbbbbbbbbbb is invalid (1 error(s))');
    served = base();
    served.nodes[1] = { ...served.nodes[1]!, status: 'unreachable', summary: 'unreachable: connection refused', address: null };
    r = await runFleet(['status', '--url', url]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('drift: not in sync: maestro (unreachable)');
  });

  it('lists firing alerts and a delivery problem, never a target\'s URL', async () => {
    served = base();
    served.alerts = { targets: ['slack #1'], firing: [{ key: 'low-disk:maestro', kind: 'low-disk', node: 'maestro', since: '2026-11-24T09:00:00.000Z', detail: 'maestro has 4.0 GB free (alert under 20 GB)' }], suppressed: 0, last_error: 'slack #1: HTTP 500' };
    const r = await runFleet(['status', '--url', url]);
    expect(r.stdout).toContain('ALERT low-disk maestro since 2026-11-24T09:00:00.000Z: maestro has 4.0 GB free (alert under 20 GB)');
    expect(r.stdout).toContain('alerts not delivered: slack #1: HTTP 500');
  });
});
