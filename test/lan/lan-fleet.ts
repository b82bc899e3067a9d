// A miniature simulated fleet for the LAN copy tests: the repository's
// settings with the model catalog divided by 1000 (real bytes, real sha256
// digests), the network model on (one shared internet line, a LAN link per
// Mac), and `fleet apply` run in this process.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFleet, type ApplyFleetOptions, type ApplyFleetResult } from '../../reconciler/src/cli/apply-fleet.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import type { Desired } from '../../reconciler/src/model/desired.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { writeMiniatureFleet, type MiniatureNode } from '../../reconciler/src/sim/miniature.ts';
import type { NetworkOptions } from '../../reconciler/src/sim/network.ts';

export const TODAY = '2026-11-25';
export const SCALE = 1000;

export interface LanFleet {
  root: string;
  fleetDir: string;
  desired: Desired;
  sim: SimFleet;
  stop(): Promise<void>;
}

export function minis(names: readonly string[], role = 'llm_worker'): MiniatureNode[] {
  return names.map((name) => ({ name, role, hardware: 'mac-mini-m4-24gb' }));
}

export async function startLanFleet(nodes: readonly MiniatureNode[], options: { transfer?: string; network?: NetworkOptions; provisioned?: Record<string, string[]> } = {}): Promise<LanFleet> {
  const root = await mkdtemp(join(tmpdir(), 'lan-'));
  const fleetDir = writeMiniatureFleet(join(root, 'fleet'), { scale: SCALE, nodes, ...(options.transfer !== undefined ? { transfer: options.transfer } : {}) });
  const loaded = await loadFleet(fleetDir, { today: TODAY });
  if (!loaded.desired) throw new Error(`miniature fleet invalid: ${JSON.stringify(loaded.problems.slice(0, 3))}`);
  const { readFleetSource } = await import('../../reconciler/src/sim/fleet-source.ts');
  const source = readFleetSource(fleetDir);
  const provisioned = options.provisioned ?? {};
  const specs = source.nodes.map((n) => {
    const models = provisioned[n.name];
    return models !== undefined ? { ...n, preset: 'provisioned' as const, models } : n;
  });
  const sim = await startSimFleet({
    stateDir: join(root, 'sim'),
    fromDir: fleetDir,
    specs,
    preset: 'fresh',
    cron: false,
    controlEndpoint: false,
    hardwareCatalogPath: join(fleetDir, 'catalog/hardware.yaml'),
    modelCatalogPath: join(fleetDir, 'catalog/models.yaml'),
    ollama: { progressIntervalMs: 10 },
    network: options.network ?? { internetBytesPerSecond: 20e6, lanScale: 0.2 },
  });
  return { root, fleetDir, desired: loaded.desired, sim, stop: () => sim.stop() };
}

export async function applyLan(f: LanFleet, extra: Partial<ApplyFleetOptions> = {}): Promise<ApplyFleetResult & { output: string }> {
  const out: string[] = [];
  const result = await applyFleet({
    fleetDir: f.fleetDir, targetsFile: f.sim.targetsPath, yes: true, prune: false, dryRun: false,
    generatedDir: join(f.root, 'generated'), today: TODAY, tty: false, write: (t) => void out.push(t),
    confirm: () => Promise.resolve(false), backoffBaseMs: 50, ...extra,
  });
  return { ...result, output: out.join('') };
}

/** Step results of one kind on every node, as `node model status detail`. */
export function modelSteps(r: ApplyFleetResult): { node: string; kind: string; id: string; status: string; detail: string }[] {
  return (r.applied?.nodes ?? []).flatMap((n) => n.steps.filter((s) => s.kind === 'pull-model' || s.kind === 'copy-model').map((s) => ({
    node: n.node, kind: s.kind, id: s.id, status: s.status,
    detail: s.status === 'ok' ? (s.detail ?? '') : s.status === 'failed' || s.status === 'skipped' ? s.message : '',
  })));
}
