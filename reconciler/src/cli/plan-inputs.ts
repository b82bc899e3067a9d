// The I/O shell around plan and generate: the fleet (refused when invalid),
// the observations (live over SSH, or the snapshot with --offline), Bob's
// registry URL, today's date, and what generate would change on disk.
import { homedir } from 'node:os';
import { bobHomeFor, loadBobConfig } from '../bob/bob-config.ts';
import { openNodeSecrets } from '../bob/node-secrets.ts';
import type { Desired } from '../model/desired.ts';
import { generate } from '../generate/generate.ts';
import { changedGenerated, readGenerated } from '../generate/write-generated.ts';
import { createGuard, loopbackOnly } from '../net/guard.ts';
import { createConnectionPool } from '../observe/connections.ts';
import { observeFleet, selectNodes } from '../observe/observe-fleet.ts';
import { readTargets } from '../observe/read-targets.ts';
import { readSnapshot, writeSnapshot } from '../observe/snapshot.ts';
import type { ObservedNode } from '../schema/observed.ts';
import type { Targets } from '../schema/targets.ts';
import { noNodeAnswered } from '../observe/no-answer.ts';
import { loadValidFleet } from './commands/observe.ts';
import { defaultSnapshotPath } from './repo-root.ts';

export const DEFAULT_GENERATED_DIR = 'generated';

export interface PlanInputFlags {
  fleet: string;
  node?: string[];
  targets?: string;
  offline?: boolean;
  snapshot?: string;
}

export interface PlanInputs {
  desired: Desired;
  observed: ObservedNode[];
  /** Selected node names (all when no --node). */
  nodes: string[];
  registryUrl: string;
  today: string;
  /** For people: where the observations came from. */
  source: string;
  /** Set when no node answered: the one line that says how to point fleet at a fleet. */
  noAnswer: string | null;
  /** The heartbeat keys Bob holds and which one each node has (live plans on Bob); absent offline. */
  secrets?: Record<string, { key_id: string; installed: string | null }>;
}

/** YYYY-MM-DD in UTC: the one place plan and generate get a date from the clock. */
export function todayOf(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** Where nodes reach Bob's registry API: the targets file's (simulated fleet), else Bob's LAN address. */
export function registryUrlOf(desired: Desired, targets?: Targets): string {
  return targets?.bob?.registry_url ?? `http://${desired.settings.network.bob_address}:${desired.settings.network.registry_api_port}`;
}

export async function gatherPlanInputs(flags: PlanInputFlags): Promise<PlanInputs> {
  const desired = await loadValidFleet(flags.fleet);
  const nodes = selectNodes(desired, flags.node);
  const targets = flags.targets !== undefined ? await readTargets(flags.targets) : undefined;
  const snapshotFile = flags.snapshot ?? defaultSnapshotPath();
  const today = todayOf();
  if (flags.offline === true) {
    const wanted = new Set(nodes);
    const observed = (await readSnapshot(snapshotFile)).filter((o) => wanted.has(o.node));
    const missing = nodes.filter((n) => !observed.some((o) => o.node === n));
    const newest = observed.map((o) => o.observed_at).sort().at(-1);
    const source = `offline: ${snapshotFile}${newest === undefined ? '' : `, observed up to ${newest}`}${missing.length > 0 ? `; not in it (planned as if fresh): ${missing.join(', ')}` : ''}`;
    return { desired, observed, nodes, registryUrl: registryUrlOf(desired, targets), today, source, noAnswer: null };
  }
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const pool = createConnectionPool(desired, { ...(targets !== undefined ? { targets } : {}), guard });
  let observed: ObservedNode[];
  try {
    observed = await observeFleet(desired, pool, { guard, nodes });
  } finally {
    pool.close();
  }
  const noAnswer = noNodeAnswered(observed, flags.targets);
  // On Bob, the same key state apply plans with: which nodes still need their heartbeat key (read only, nothing is created).
  const bobConfig = await loadBobConfig(bobHomeFor(flags.targets, homedir()));
  const secrets = (await openNodeSecrets(bobConfig.secretsDir)).planInput(desired.nodes.filter((n) => n.status === 'active').map((n) => n.name));
  // A simulated fleet (--targets) must not overwrite the fleet's own snapshot unless asked to;
  // and an observation where nothing answered must not replace one where the nodes did.
  if (noAnswer === null && (targets === undefined || flags.snapshot !== undefined)) {
    await writeSnapshot(snapshotFile, observed, { merge: flags.node !== undefined });
  }
  return { desired, observed, nodes, registryUrl: registryUrlOf(desired, targets), today, secrets, source: `observed ${todayOf()}${targets !== undefined ? ` through ${flags.targets ?? ''}` : ''}`, noAnswer };
}

/** The generated files that would change on disk for these observations (file names). */
export async function generatedChanges(desired: Desired, observed: readonly ObservedNode[], outDir: string, today: string): Promise<string[]> {
  const previous = await readGenerated(outDir);
  const files = generate(desired, observed, { lastUpdated: today, previous });
  return changedGenerated(outDir, files);
}
