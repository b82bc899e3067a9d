// The observed snapshot (generated/observed.json): the daemon commits it so CI
// can `plan --offline` a pull request without reaching the fleet. It must
// change only when facts change, so volatile values are dropped or coarsened
// and a node whose facts did not change keeps its previous observed_at.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { FleetError } from '../errors.ts';
import { readIfExists } from '../fs/read-if-exists.ts';
import type { ObservedNode } from '../schema/observed.ts';
import { checkObserved } from './validate-observed.ts';

export const DEFAULT_SNAPSHOT_PATH = 'generated/observed.json';

/** Free disk is kept in whole GB (rounded down) so log growth does not rewrite the file. */
const DISK_GRAIN = 1_000_000_000;

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The stable view of an observation: no duration, no pids (whether the agent
 * runs is kept as `running`), free disk in whole GB, lists sorted, nodes
 * sorted by name. observed_at stays; writeSnapshot keeps the older one when
 * nothing else changed.
 */
export function toSnapshot(observed: readonly ObservedNode[]): ObservedNode[] {
  return [...observed]
    .map((o): ObservedNode => {
      const copy = structuredClone(o);
      delete copy.duration_ms;
      const f = copy.facts;
      if (f) {
        const agent = f.launchd.ollama;
        agent.running = agent.running ?? agent.pid !== null;
        agent.pid = null;
        if (f.disk.available_bytes !== null) f.disk.available_bytes = Math.floor(f.disk.available_bytes / DISK_GRAIN) * DISK_GRAIN;
        f.ollama.models = [...f.ollama.models].sort(byName);
        f.ollama.loaded = [...f.ollama.loaded].sort(byName);
      }
      return copy;
    })
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** JSON with object keys sorted at every level, so equal data is equal text. */
export function stableJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function withoutTime(o: ObservedNode): string {
  return stableJson({ ...o, observed_at: '' });
}

/** The snapshot in a file; [] when there is none yet (every node then plans as fresh). */
export async function readSnapshot(file: string): Promise<ObservedNode[]> {
  let text: string | undefined;
  try {
    text = await readIfExists(file);
  } catch (err) {
    throw new FleetError('invalid-input', `cannot read the observed snapshot ${file}: ${(err as Error).message}`, { cause: err });
  }
  return text === undefined ? [] : parseSnapshot(text, file);
}

/** A snapshot file's text as observed nodes, schema-checked; `file` names it in errors. */
export function parseSnapshot(text: string, file: string): ObservedNode[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FleetError('invalid-input', `${file} is not JSON (${(err as Error).message}); delete it and run \`fleet observe --snapshot ${file}\``, { cause: err });
  }
  if (!Array.isArray(doc)) throw new FleetError('invalid-input', `${file} must hold a JSON array of observed nodes`);
  const problems = checkObserved(doc);
  if (problems.length > 0) {
    throw new FleetError('invalid-input', `${file} does not match the observed schema: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}. Run \`fleet observe --snapshot ${file}\` to rewrite it.`);
  }
  return doc as ObservedNode[];
}

export interface WriteSnapshotOptions {
  /** Keep nodes of the existing file that this observation did not cover (an observe of some nodes). */
  merge?: boolean;
}

/**
 * Writes the snapshot atomically and returns the file's text; unchanged nodes
 * keep their observed_at, so an unchanged fleet rewrites nothing. The old
 * file is read once (it is ~3 KB per node).
 */
export async function writeSnapshot(file: string, observed: readonly ObservedNode[], options: WriteSnapshotOptions = {}): Promise<string> {
  const next = toSnapshot(observed);
  const problems = checkObserved(next);
  if (problems.length > 0) throw new FleetError('internal', `refusing to write an invalid snapshot: ${problems.slice(0, 5).join('; ')}`);
  const current = await readIfExists(file);
  let previous: ObservedNode[] = [];
  try {
    if (current !== undefined) previous = parseSnapshot(current, file);
  } catch {
    // An unreadable old file is simply replaced.
  }
  const before = new Map(previous.map((o) => [o.node, o]));
  const merged = next.map((o) => {
    const old = before.get(o.node);
    return old && withoutTime(old) === withoutTime(o) ? { ...o, observed_at: old.observed_at } : o;
  });
  if (options.merge) {
    const covered = new Set(next.map((o) => o.node));
    merged.push(...previous.filter((o) => !covered.has(o.node)));
  }
  const text = stableJson(merged.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)));
  if (current === text) return text;
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
  return text;
}
