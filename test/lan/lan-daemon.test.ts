// The daemon converges a fleet where only one node may use the internet
// (transfer.internet_nodes: [bob]): Bob pulls each model once, as the fleet's
// cache when it does not want it, and every other node gets its models from
// a peer over the LAN. A real bare repository as origin, the simulated fleet
// with its shared network, the daemon's own loop.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../../reconciler/src/daemon/logger.ts';
import { startDaemon, type RunningDaemon } from '../../reconciler/src/daemon/run-daemon.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { writeMiniatureFleet } from '../../reconciler/src/sim/miniature.ts';
import { createOrigin } from '../../reconciler/src/sim/origin.ts';
import { readFleetSource } from '../../reconciler/src/sim/fleet-source.ts';
import { SCALE } from './lan-fleet.ts';

const root = mkdtempSync(join(tmpdir(), 'lan-daemon-'));
let sim: SimFleet | undefined;
let daemon: RunningDaemon | undefined;
afterAll(async () => {
  await daemon?.stop();
  await sim?.stop();
});

it('converges when only Bob may use the internet: every other node gets its models over the LAN', async () => {
  const fleetDir = writeMiniatureFleet(join(root, 'fleet'), {
    scale: SCALE,
    nodes: [
      { name: 'bob', role: 'hq', hardware: 'mac-mini-m4-16gb' },
      { name: 'cadence', role: 'llm_worker', hardware: 'mac-mini-m4-24gb' },
      { name: 'tempo', role: 'llm_worker', hardware: 'mac-mini-m4-24gb' },
    ],
    transfer: '  mode: lan\n  internet_nodes: [bob]\n',
  });
  sim = await startSimFleet({
    stateDir: join(root, 'sim'), fromDir: fleetDir, specs: readFleetSource(fleetDir).nodes, preset: 'fresh', cron: false, controlEndpoint: false,
    modelCatalogPath: join(fleetDir, 'catalog/models.yaml'), ollama: { progressIntervalMs: 10 },
    network: { internetBytesPerSecond: 20e6, lanScale: 0.2 },
  });
  const made = await createOrigin(root, fleetDir);
  daemon = await startDaemon({
    repo: made.origin, branch: 'main', workdir: join(root, 'fleetd'), targetsFile: sim.targetsPath,
    http: { host: '127.0.0.1', port: 0 }, log: createLogger({ level: 'silent' }), pollIntervalMs: 300,
    driftCron: '0 0 1 1 *', bobHome: join(root, 'bob'), backoffBaseMs: 50,
  });
  const names = ['bob', 'cadence', 'tempo'];
  const started = Date.now();
  while (!names.every((n) => daemon?.status().nodes.some((x) => x.node === n && x.status === 'in-sync'))) {
    if (Date.now() - started > 150_000) throw new Error(`not converged: ${JSON.stringify(daemon.status()).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const stats = sim.network?.stats();
  // Only Bob's line carried anything; the workers' models came over the LAN.
  expect(Object.keys(stats?.internetByNode ?? {})).toEqual(['bob']);
  expect(stats?.lanBytes).toBeGreaterThan(0);
  for (const n of ['cadence', 'tempo']) {
    expect(sim.node(n).ollama.listModels().map((m) => m.name).sort()).toEqual(['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest']);
  }
  // Each distinct model crossed the internet once.
  const distinct = new Set([...sim.node('bob').ollama.listModels(), ...sim.node('tempo').ollama.listModels()].map((m) => m.name));
  expect(sim.node('bob').ollama.listModels().map((m) => m.name).sort()).toEqual([...distinct].sort());
}, 200_000);
