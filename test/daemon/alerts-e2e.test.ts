// Alerts from a running daemon to a local HTTP receiver, in the three
// formats (generic webhook, ntfy topic, Slack-compatible), configured in Bob's
// own fleetd.yaml: a fault on a simulated node is sent once, its recovery
// once, and the targets' URLs never show.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../reconciler/src/daemon/logger.ts';
import { startDaemon, type RunningDaemon } from '../../reconciler/src/daemon/run-daemon.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { createOrigin } from '../../reconciler/src/sim/origin.ts';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const repo = join(import.meta.dirname, '..', '..');
const POLL = { timeout: 90_000, interval: 100 };
const SLACK_PATH = '/slack/services/T000/B000/secret-part';
let root = '';
let receiver: Server;
const received: Received[] = [];
let sim: SimFleet;
let daemon: RunningDaemon;
const logLines: string[] = [];

async function until(what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 100) {
    if (waited > POLL.timeout) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const about = (key: string, state: string) => received.filter((r) => {
  if (r.path === '/hook') return (JSON.parse(r.body) as { key: string; state: string }).key === key && (JSON.parse(r.body) as { state: string }).state === state;
  const title = r.path.startsWith('/ntfy') ? String(r.headers.title) : (JSON.parse(r.body) as { text: string }).text;
  return title.includes(state === 'firing' ? 'ALERT maestro: Ollama down' : 'RESOLVED maestro: Ollama up again') && key === 'ollama-down:maestro';
});

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fleet-alerts-'));
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sim = await startSimFleet({ stateDir: join(root, 'sim'), fromDir: join(repo, 'fleet'), preset: 'provisioned', ollama: { pullBytesPerSecond: 50e9, progressIntervalMs: 20 }, controlEndpoint: false, cron: false });
  await createOrigin(root, join(repo, 'fleet'));
  mkdirSync(join(root, 'bob', '.symphony'), { recursive: true });
  writeFileSync(join(root, 'bob', '.symphony', 'fleetd.yaml'), [
    'alerts:',
    '  targets:',
    `    - { format: webhook, url: "${base}/hook" }`,
    `    - { format: ntfy, url: "${base}/ntfy/fleet-alerts" }`,
    `    - { format: slack, url: "${base}${SLACK_PATH}" }`,
    '  ollama_down_minutes: 0',
    '  drift_reconciles: 100',
    '',
  ].join('\n'));
  const stream = { write: (l: string) => void logLines.push(l) } as unknown as NodeJS.WritableStream;
  daemon = await startDaemon({
    repo: join(root, 'origin.git'), branch: 'main', workdir: join(root, 'fleetd'), targetsFile: sim.targetsPath,
    http: { host: '127.0.0.1', port: 0 }, log: createLogger({ level: 'info', pretty: false, destination: stream }),
    pollIntervalMs: 500, driftCron: '*/2 * * * * *', bobHome: join(root, 'bob'), webhookSecret: null, backoffBaseMs: 100, alertIntervalMs: 300,
  });
  await until('three nodes in sync', () => daemon.status().nodes.filter((n) => n.status === 'in-sync').length === 3);
}, 180_000);

afterAll(async () => {
  await daemon?.stop();
  await sim?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('alerts from the daemon', () => {
  it('sends nothing while the fleet is well', () => {
    expect(received).toEqual([]);
    expect(daemon.status().alerts).toEqual({ targets: ['webhook #1', 'ntfy #2', 'slack #3'], firing: [], suppressed: 0, last_error: null });
  });

  it('sends "Ollama down" once to each target, in its format, while the fault lasts', async () => {
    await sim.control.setFault('maestro', 'ollama-down');
    await expect.poll(() => about('ollama-down:maestro', 'firing').length, POLL).toBe(3);
    const [hook, ntfy, slack] = ['/hook', '/ntfy/fleet-alerts', SLACK_PATH].map((p) => received.find((r) => r.path === p));
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({ source: 'symphony-fleet', key: 'ollama-down:maestro', kind: 'ollama-down', node: 'maestro', state: 'firing', title: 'ALERT maestro: Ollama down', message: 'Ollama on maestro does not answer Bob.' });
    expect(ntfy?.headers).toMatchObject({ title: 'ALERT maestro: Ollama down', priority: 'high', tags: 'rotating_light' });
    expect(ntfy?.body).toBe('Ollama on maestro does not answer Bob.');
    expect(JSON.parse(slack?.body ?? '{}')).toEqual({ text: ':rotating_light: *ALERT maestro: Ollama down*\nOllama on maestro does not answer Bob.' });
    // Several reconciles and timer rounds later, still once.
    const after = daemon.status().reconciles + 3;
    await expect.poll(() => daemon.status().reconciles, POLL).toBeGreaterThanOrEqual(after);
    expect(about('ollama-down:maestro', 'firing')).toHaveLength(3);
    expect(daemon.status().alerts.firing.map((a) => a.key)).toContain('ollama-down:maestro');
  }, 120_000);

  it('sends the recovery once when the fault clears, and never shows the targets\' URLs', async () => {
    await sim.control.clearFault('maestro', 'ollama-down');
    await expect.poll(() => about('ollama-down:maestro', 'resolved').length, POLL).toBe(3);
    const after = daemon.status().reconciles + 2;
    await expect.poll(() => daemon.status().reconciles, POLL).toBeGreaterThanOrEqual(after);
    expect(about('ollama-down:maestro', 'resolved')).toHaveLength(3);
    const ntfy = received.filter((r) => r.path === '/ntfy/fleet-alerts').at(-1);
    expect(ntfy?.headers).toMatchObject({ title: 'RESOLVED maestro: Ollama up again', priority: 'default', tags: 'white_check_mark' });
    const status = await (await fetch(`${daemon.url}/api/status`)).text();
    const page = await (await fetch(`${daemon.url}/`)).text();
    for (const text of [status, page, logLines.join('')]) {
      expect(text).not.toContain('secret-part');
      expect(text).not.toContain('/ntfy/fleet-alerts');
    }
    expect(logLines.join('')).toContain('"msg":"alert sent"');
  }, 120_000);
});
