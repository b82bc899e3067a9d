// observe: every selected node, at most `concurrency` at once, each bounded by
// its own timeouts, so a dead or hung node never holds up the others' report.
// Per node: the pooled SSH session runs the probe (one exec) while Bob asks
// the node's Ollama directly; the pure parsers turn both into facts. Facts
// that change only across a reboot are gathered once per connection.
import pLimit from 'p-limit';
import type { Desired } from '../model/desired.ts';
import { FleetError } from '../errors.ts';
import type { ConnectionGuard } from '../net/guard.ts';
import type { ObservedNode } from '../schema/observed.ts';
import { checkOllama } from './check-ollama.ts';
import type { ConnectionPool } from './connections.ts';
import { ollamaUrlFor } from './connections.ts';
import { factsFromProbe } from './parse-probe.ts';
import { splitProbeOutput } from './parse-sections.ts';
import type { ProbeSections } from './parse-sections.ts';
import { BOOT_SECTIONS, buildProbe } from './probe.ts';

/** RemoteSession.memo key: the probe's BOOT_SECTIONS as this connection first saw them. */
const BOOT_MEMO = 'observe.boot-sections';

export interface ObserveOptions {
  /** Only these nodes (names from fleet/nodes); all when absent. */
  nodes?: string[];
  /** Nodes observed at once; default the fleet's reconcile.concurrency. */
  concurrency?: number;
  now?: () => Date;
  guard: ConnectionGuard;
  signal?: AbortSignal;
}

/** The nodes to observe: every node in fleet/nodes (planned, active, retired, roaming alike), or the named ones. */
export function selectNodes(desired: Desired, names?: readonly string[]): string[] {
  const all = desired.nodes.map((n) => n.name);
  if (!names || names.length === 0) return [...all].sort();
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    throw new FleetError('not-found', `no node named ${unknown.join(', ')} in ${desired.dir}/nodes (nodes: ${all.join(', ') || 'none'})`);
  }
  return [...new Set(names)].sort();
}

export async function observeNode(node: string, pool: ConnectionPool, options: Omit<ObserveOptions, 'nodes' | 'concurrency'>): Promise<ObservedNode> {
  const now = options.now ?? ((): Date => new Date());
  const started = performance.now();
  const done = (rest: Pick<ObservedNode, 'reach'> & Partial<ObservedNode>): ObservedNode => ({
    node,
    observed_at: now().toISOString(),
    duration_ms: Math.round(performance.now() - started),
    ...rest,
  });
  const conn = await pool.session(node);
  if (!conn.ok) return done({ reach: conn.reach });
  const target = pool.target(node);
  if (!target) return done({ reach: { status: 'error', message: `${node}: no connection settings`, attempts: [] } });

  // Boot facts from this connection's first complete probe, if there was one.
  const boot = conn.session.memo.get(BOOT_MEMO) as ProbeSections | undefined;
  const probe = buildProbe({ ollamaPort: target.ollamaPort, skipBootSections: boot !== undefined });
  const url = target.ollamaUrlFollowsSsh ? ollamaUrlFor(conn.session.address, target.ollamaPort) : target.ollamaUrl;
  const [result, external] = await Promise.all([
    conn.session.exec(probe.script, { timeoutMs: target.commandTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) }),
    checkOllama(url, { guard: options.guard, timeoutMs: target.connectTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) }),
  ]);
  if (result.timedOut) {
    return done({ reach: { ...conn.reach, status: 'timeout', message: `logged in at ${conn.session.address}, but the probe did not finish within ${target.commandTimeoutMs / 1000} s` } });
  }
  const sections = splitProbeOutput(result.stdout, result.stderr, probe.nonce);
  if (boot) for (const [name, section] of boot) sections.set(name, section);
  const { facts, complete } = factsFromProbe(sections, external, probe.nonce);
  if (complete && !boot) {
    conn.session.memo.set(BOOT_MEMO, new Map(BOOT_SECTIONS.flatMap((name) => {
      const section = sections.get(name);
      return section ? [[name, section] as const] : [];
    })));
  }
  if (!complete) {
    const why = result.stderr.split('\n').find((l) => l.trim() !== '' && !l.includes(probe.nonce)) ?? `exit ${String(result.code ?? result.signal)}`;
    return done({ reach: { ...conn.reach, status: 'error', message: `logged in at ${conn.session.address}, but the probe stopped early (${sections.size} sections): ${why.trim()}` } });
  }
  return done({ reach: conn.reach, facts });
}

export async function observeFleet(desired: Desired, pool: ConnectionPool, options: ObserveOptions): Promise<ObservedNode[]> {
  const names = selectNodes(desired, options.nodes);
  const limit = pLimit(Math.max(1, options.concurrency ?? desired.settings.reconcile.concurrency));
  const now = options.now ?? ((): Date => new Date());
  // One node's surprise must not cost the report on the others.
  const guarded = (node: string): Promise<ObservedNode> => observeNode(node, pool, options).catch((err: unknown) => ({
    node,
    observed_at: now().toISOString(),
    reach: { status: 'error' as const, message: `observe failed: ${err instanceof Error ? err.message : String(err)}`, attempts: [] },
  }));
  const observed = await Promise.all(names.map((node) => limit(() => guarded(node))));
  return observed.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}
