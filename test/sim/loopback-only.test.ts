// Nothing leaves loopback, from any process the project starts. The test run
// itself is in a network namespace with only loopback (.ci/run), and a
// simulated fleet provisioned by `fleet apply` and kept alive past three
// cron minutes sends every heartbeat to the simulated Bob, with each node's
// own simulated IP, and nothing anywhere else.
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOnce, startTestFleet, type TestFleet } from '../apply/sim-helpers.ts';

const MINUTE = 60_000;

describe('the test run', () => {
  it.runIf(process.env.FLEET_TEST_NETNS === '1')('is in a network namespace of its own, with only loopback', async () => {
    expect(Object.keys(networkInterfaces())).toEqual(['lo']);
    // a documentation address (RFC 5737): no route, refused by the kernel before any packet
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s: Socket = connect({ host: '192.0.2.1', port: 80 });
      s.on('connect', () => {
        s.destroy();
        resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
      });
      s.on('error', (e) => resolve(e));
    });
    expect(err.code).toBe('ENETUNREACH');
  });
});

describe('a provisioned simulated fleet kept alive past three cron minutes', () => {
  let f: TestFleet | undefined;
  let provisionedAt = 0;

  beforeAll(async () => {
    const fleet = await startTestFleet('bob-and-one-worker', { prefix: 'cron-loopback-', rename: { maestro: 'virtuoso', stagehand: 'virtuoso' }, cron: true });
    f = fleet;
    const result = await applyOnce(fleet);
    expect(result.exitCode).toBe(0);
    provisionedAt = Date.now();
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
    if (f) await rm(f.root, { recursive: true, force: true });
  });

  it('sends every heartbeat to the simulated Bob, from the node\'s own address, and nothing anywhere else', async () => {
    if (!f) throw new Error('the fleet did not start');
    const fleet = f;
    // Three minute boundaries after the crontab line was installed.
    const firstTick = Math.ceil(provisionedAt / MINUTE) * MINUTE;
    await new Promise((r) => setTimeout(r, firstTick + 2 * MINUTE - Date.now() + 5_000));
    await expect
      .poll(() => Math.min(...fleet.sim.nodes.map((n) => fleet.sim.registryCalls().filter((c) => c.path === '/api/heartbeat' && c.from === n.ip).length)), { timeout: 30_000, interval: 1_000 })
      .toBeGreaterThanOrEqual(3);
    const heartbeats = fleet.sim.registryCalls().filter((c) => c.path === '/api/heartbeat');
    for (const n of fleet.sim.nodes) {
      const mine = heartbeats.filter((c) => (c.body as { node_id?: string }).node_id === n.name);
      expect(mine.length, n.name).toBeGreaterThanOrEqual(3);
      // the payload's ip is what the node's ipconfig says, and the connection came from it
      for (const c of mine) expect({ from: c.from, ip: (c.body as { ip?: string }).ip }).toEqual({ from: n.ip, ip: n.ip });
      // the node's own log says Bob answered
      const log = await n.exec('tail -n 3 ~/.symphony/logs/heartbeat.log');
      for (const line of log.stdout.trim().split('\n')) expect(line).toMatch(new RegExp(` ${n.ip.replaceAll('.', '\\.')} HTTP 200$`));
    }
    expect(fleet.sim.egressAttempts()).toEqual([]);
  }, 5 * MINUTE);
});
