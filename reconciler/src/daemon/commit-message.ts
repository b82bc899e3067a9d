// The daemon's commit message for generated/: says which nodes changed and what
// they now serve, e.g. `generated: virtuoso active, models llama3.1:8b mistral:7b`.
import type { NodesRegistry } from '../schema/generated.ts';

type RegistryEntry = NodesRegistry['nodes'][number];

function describeEntry(entry: RegistryEntry): string {
  const models = entry.models_loaded.length > 0 ? `, models ${entry.models_loaded.join(' ')}` : '';
  return `${entry.node_id} ${entry.status}${models}`;
}

/** Pure: compares two registries (the previous one may be missing or unreadable). */
export function describeGeneratedChange(previous: unknown, next: NodesRegistry): string {
  const before = new Map<string, string>();
  const prevNodes = (previous as { nodes?: unknown } | undefined)?.nodes;
  if (Array.isArray(prevNodes)) {
    for (const n of prevNodes as RegistryEntry[]) {
      if (typeof n?.node_id === 'string') before.set(n.node_id, JSON.stringify(n));
    }
  }
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const entry of next.nodes) {
    seen.add(entry.node_id);
    if (before.get(entry.node_id) !== JSON.stringify(entry)) parts.push(describeEntry(entry));
  }
  for (const gone of [...before.keys()].filter((id) => !seen.has(id)).sort()) parts.push(`${gone} removed`);
  const head = parts.length > 0 ? parts.join('; ') : 'workers and observed state updated';
  const subject = `generated: ${head}`;
  return subject.length <= 200 ? subject : `${subject.slice(0, 197)}...`;
}

/**
 * The commit message: a node that moved (`bob: IP 192.168.1.10 -> 192.168.1.189`)
 * is the subject; otherwise what the registry now says. A node's first address
 * is news for the body, not a move.
 */
export function commitMessageFor(changes: ReadonlyMap<string, { from: string | null; to: string }>, generated: string): string {
  const sorted = [...changes.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const moves = sorted.filter(([, c]) => c.from !== null).map(([node, c]) => `${node}: IP ${c.from ?? ''} -> ${c.to}`);
  const firsts = sorted.filter(([, c]) => c.from === null).map(([node, c]) => `${node}: first heard at ${c.to}`);
  const subject = moves.length > 0 ? moves.join('; ') : generated;
  const body = [...(moves.length > 0 ? [generated] : []), ...firsts];
  return body.length > 0 ? `${subject}\n\n${body.join('\n')}` : subject;
}
