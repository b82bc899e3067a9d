// Plan a pull per model, not per node. Given which nodes lack which model and
// which nodes can serve it, decide for every model: one internet pull (onto a
// node that needs it, or onto a cache node), then LAN copies from peer to
// peer, fanned out so no source serves more than `copiesPerSource` at once.
// Pure: plain data in, plain data out. plan.ts calls it on the pull steps it
// planned per node and rewrites them (rewriteTransfers).
import type { ModelRoute, NodePlan, Step, StepOf } from '../model/steps.ts';

export interface DistributionNode {
  name: string;
  /** The wired LAN link (hardware catalog `ethernet_gbps`); faster sources are preferred. */
  linkGbps: number;
  /** May pull from the internet (transfer.internet_nodes, or all when unset). */
  internet: boolean;
  /** Reachable, runs Ollama and is not retired: it can receive a cache pull. */
  canCache: boolean;
}

export interface DistributionInput {
  mode: 'lan' | 'internet';
  copiesPerSource: number;
  /** transfer.cache_node, when set. */
  cacheNode?: string;
  nodes: readonly DistributionNode[];
  /** Every planned pull: a node lacking a model. */
  needs: readonly { node: string; model: string; bytes: number }[];
  /** Nodes that hold a model and may serve it now (not deleting it, digest as pinned). */
  holders: readonly { node: string; model: string }[];
}

export type Delivery =
  | { kind: 'pull'; node: string; model: string; bytes: number; lanTargets: string[]; cache: boolean; why: string }
  | { kind: 'copy'; node: string; model: string; bytes: number; source: string; peers: string[]; fallback: 'internet' | 'none'; why: string };

export interface Distribution {
  routes: ModelRoute[];
  deliveries: Delivery[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function distributeModels(input: DistributionInput): Distribution {
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const link = (n: string): number => nodes.get(n)?.linkGbps ?? 1;
  const mayPull = (n: string): boolean => nodes.get(n)?.internet ?? true;
  // Fastest link first, then by name: the order sources and seeds are tried in.
  const preferred = (a: string, b: string): number => link(b) - link(a) || byName(a, b);
  const perSource = Math.max(1, input.copiesPerSource);

  const models = [...new Set(input.needs.map((n) => n.model))].sort(byName);
  // Seeds are spread: each model enters on the node that seeds the fewest so far, so no one Mac serves every copy.
  const seeded = new Map<string, number>();
  const routes: ModelRoute[] = [];
  const deliveries: Delivery[] = [];
  for (const model of models) {
    const needs = input.needs.filter((n) => n.model === model);
    const bytes = Math.max(...needs.map((n) => n.bytes));
    const targets = needs.map((n) => n.node).sort(preferred);
    const holders = [...new Set(input.holders.filter((h) => h.model === model && !targets.includes(h.node)).map((h) => h.node))].sort(preferred);

    if (input.mode === 'internet') {
      for (const t of targets) deliveries.push({ kind: 'pull', node: t, model, bytes, lanTargets: [], cache: false, why: 'transfer.mode is internet: every node pulls its own models' });
      routes.push({ model, bytes, internet: targets, lan: [], internet_bytes: bytes * targets.length, lan_bytes: 0 });
      continue;
    }

    // Where the model enters the fleet: a peer that has it, else one internet pull.
    const servers: string[] = [...holders];
    let seed: string | undefined;
    let cacheSeed = false;
    let seedWhy = '';
    if (servers.length === 0) {
      const cache = input.cacheNode !== undefined && nodes.get(input.cacheNode)?.canCache === true ? input.cacheNode : undefined;
      const internetTarget = targets.filter(mayPull).sort((a, b) => (seeded.get(a) ?? 0) - (seeded.get(b) ?? 0) || preferred(a, b))[0];
      if (cache !== undefined && !targets.includes(cache)) {
        seed = cache;
        cacheSeed = true;
        seedWhy = `no node has ${model}: the cache node ${cache} pulls it once from the internet for ${targets.join(', ')}`;
      } else if (cache !== undefined) {
        seed = cache;
        seedWhy = `no node has ${model}: pulled once from the internet here, the cache node`;
      } else if (internetTarget !== undefined) {
        seed = internetTarget;
        seedWhy = targets.length > 1 ? `no node has ${model}: pulled once from the internet here, then copied over the LAN` : `no node has ${model}`;
      } else {
        // No target may use the internet: a node that may pulls it for them, as a cache.
        seed = input.nodes.filter((n) => n.internet && n.canCache && !targets.includes(n.name)).map((n) => n.name).sort(preferred)[0];
        cacheSeed = seed !== undefined;
        seedWhy = seed === undefined ? '' : `no node has ${model} and ${targets.join(', ')} may not use the internet (transfer.internet_nodes): ${seed} pulls it once for them`;
      }
      if (seed !== undefined) {
        servers.push(seed);
        seeded.set(seed, (seeded.get(seed) ?? 0) + 1);
      }
    }

    const rest = targets.filter((t) => t !== seed);
    if (servers.length === 0) {
      // Nobody can bring it in: each target keeps its pull, and the why says what to change.
      for (const t of targets) deliveries.push({ kind: 'pull', node: t, model, bytes, lanTargets: [], cache: false, why: `no peer has ${model} and no node that may use the internet can pull it for ${t}: pulled here; list a node in transfer.internet_nodes or set transfer.cache_node` });
      routes.push({ model, bytes, internet: targets, lan: [], internet_bytes: bytes * targets.length, lan_bytes: 0 });
      continue;
    }

    // Fan out: each server takes up to `perSource` targets; a target, once served, serves too.
    const capacity = new Map(servers.map((s) => [s, perSource]));
    const queue = [...servers];
    const sourceOf = new Map<string, string>();
    for (const t of rest) {
      while (queue.length > 0 && (capacity.get(queue[0] ?? '') ?? 0) === 0) queue.shift();
      const source = queue[0] ?? servers[0] ?? '';
      capacity.set(source, (capacity.get(source) ?? perSource) - 1);
      sourceOf.set(t, source);
      capacity.set(t, perSource);
      queue.push(t);
    }

    const lanBySource = new Map<string, string[]>();
    for (const t of rest) {
      const source = sourceOf.get(t) as string;
      lanBySource.set(source, [...(lanBySource.get(source) ?? []), t]);
    }
    if (seed !== undefined) {
      deliveries.push({ kind: 'pull', node: seed, model, bytes, lanTargets: lanBySource.get(seed) ?? [], cache: cacheSeed, why: seedWhy });
    }
    const order = [...servers, ...rest];
    for (const t of rest) {
      const source = sourceOf.get(t) as string;
      // Any other node that has it or gets it may serve it too: the executor takes one that has it, and is
      // free, when the copy starts (a target done early serves the next: a doubling tree).
      const peers = order.filter((p) => p !== source && p !== t);
      const where = holders.includes(source) ? `${source} has it` : source === seed ? `${source} pulls it from the internet first` : `${source} gets it first`;
      deliveries.push({
        kind: 'copy', node: t, model, bytes, source, peers, fallback: mayPull(t) ? 'internet' : 'none',
        why: `${model} is not on the node; ${where}: copied over the LAN (${mayPull(t) ? 'an internet pull if no peer can serve it' : 'this node may not use the internet'})`,
      });
    }
    const internet = seed === undefined ? [] : [seed];
    const lan = [...lanBySource.entries()].map(([source, ts]) => ({ source, targets: ts }));
    routes.push({ model, bytes, internet, lan, internet_bytes: bytes * internet.length, lan_bytes: bytes * rest.length });
  }
  return { routes, deliveries };
}

/** Totals over every route. */
export function transferTotals(routes: readonly ModelRoute[]): { internet_bytes: number; lan_bytes: number; distinct_bytes: number } {
  return {
    internet_bytes: routes.reduce((n, r) => n + r.internet_bytes, 0),
    lan_bytes: routes.reduce((n, r) => n + r.lan_bytes, 0),
    distinct_bytes: routes.reduce((n, r) => n + r.bytes, 0),
  };
}

/**
 * Rewrites the planned pull steps of every node by the distribution: a pull
 * stays a pull (with the nodes that copy from it) or becomes a copy-model
 * step; a cache pull is added to the cache node. Model steps keep their
 * dependencies; with LAN copies in the plan, pulls and copies go largest
 * first. The executor runs them in this order.
 */
export function rewriteTransfers(nodes: readonly NodePlan[], deliveries: readonly Delivery[]): NodePlan[] {
  const byKey = new Map(deliveries.map((d) => [`${d.node}\u0000${d.model}`, d]));
  const used = new Set<string>();
  const out = nodes.map((np) => {
    const steps: Step[] = np.steps.map((s) => {
      if (s.kind !== 'pull-model') return s;
      const key = `${np.node}\u0000${s.model}`;
      const d = byKey.get(key);
      if (d === undefined) return s;
      used.add(key);
      if (d.kind === 'pull') {
        const pull: StepOf<'pull-model'> = { ...s, why: d.why === '' ? s.why : `${s.why}; ${d.why}` };
        if (d.lanTargets.length > 0) pull.lan_targets = d.lanTargets;
        return pull;
      }
      const copy: StepOf<'copy-model'> = {
        kind: 'copy-model', id: `${np.node}/copy-model/${s.model}`, node: np.node, model: s.model, bytes: s.bytes,
        source: d.source, peers: d.peers, fallback: d.fallback, why: `${s.why}; ${d.why}`, after: s.after,
      };
      return copy;
    });
    // Cache pulls: the node does not want the model; it holds it for its peers.
    for (const d of deliveries) {
      if (d.kind !== 'pull' || !d.cache || d.node !== np.node || used.has(`${d.node}\u0000${d.model}`)) continue;
      used.add(`${d.node}\u0000${d.model}`);
      const agent = np.steps.filter((s) => s.kind === 'load-agent' || s.kind === 'restart-agent' || (s.kind === 'install-package' && s.name === 'ollama')).map((s) => s.id);
      const cache: StepOf<'pull-model'> = { kind: 'pull-model', id: `${np.node}/pull-model/${d.model}`, node: np.node, model: d.model, bytes: d.bytes, cache: true, why: d.why, after: agent };
      if (d.lanTargets.length > 0) cache.lan_targets = d.lanTargets;
      steps.push(cache);
    }
    if (steps.length === np.steps.length && steps.every((s, i) => s === np.steps[i])) return np;
    // A pull still waits for the node's previous pull (one after another; a broken line stops the rest),
    // but nothing waits for a copy and a copy waits for no model step: the executor runs pulls first, then
    // copies by model, so copies across nodes cannot wait in a circle. Other steps follow renamed ids.
    const renamed = new Map(np.steps.map((s, i) => [s.id, steps[i]?.id ?? s.id]));
    const copies = new Set(steps.filter((s) => s.kind === 'copy-model').map((s) => s.id));
    const model = new Set(steps.filter((s) => s.kind === 'pull-model' || s.kind === 'copy-model').map((s) => s.id));
    for (const [i, s] of steps.entries()) {
      const after = s.after.map((a) => renamed.get(a) ?? a).filter((a) => !(model.has(s.id) && model.has(a) && (copies.has(s.id) || copies.has(a))));
      if (after.length !== s.after.length || after.some((a, j) => a !== s.after[j])) steps[i] = { ...s, after };
    }
    // With copies in the plan the big models go first (the big model leaves the line soonest, and the last
    // model in, whose copies still have to fan out, is a small one): the chain of pulls (one after another;
    // a broken line stops the rest) follows that order, and the copies take their slots in it too.
    if (deliveries.some((d) => d.kind === 'copy')) {
      const largestFirst = (a: { bytes: number; model: string }, b: { bytes: number; model: string }): number => b.bytes - a.bytes || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0);
      const copySlots = steps.flatMap((x, i) => (x.kind === 'copy-model' ? [i] : []));
      const copySteps = steps.filter((x): x is StepOf<'copy-model'> => x.kind === 'copy-model').sort(largestFirst);
      copySlots.forEach((slot, k) => {
        const c = copySteps[k];
        if (c !== undefined) steps[slot] = c;
      });
      const pulls = steps.filter((x): x is StepOf<'pull-model'> => x.kind === 'pull-model').sort(largestFirst);
      const pullIds = new Set(pulls.map((x) => x.id));
      pulls.forEach((pull, k) => {
        const i = steps.indexOf(pull);
        const previous = pulls[k - 1];
        steps[i] = { ...pull, after: [...pull.after.filter((a) => !pullIds.has(a)), ...(previous === undefined ? [] : [previous.id])] };
      });
    }
    const changed: NodePlan = { ...np, steps };
    if (np.status === 'in-sync' && steps.length > 0) {
      changed.status = 'drifted';
      changed.summary = `caches ${steps.filter((s) => s.kind === 'pull-model' && s.cache === true).length} model(s) for its peers`;
    }
    return changed;
  });
  return out;
}

/** "llama3.1:8b (4.9 GB): internet -> virtuoso, then LAN virtuoso -> tempo, cadence" */
export function describeRoute(route: ModelRoute, formatBytes: (n: number) => string): string {
  const parts: string[] = [];
  if (route.internet.length > 0) parts.push(`internet -> ${route.internet.join(', ')}`);
  const lan = route.lan.map((l) => `${l.source} -> ${l.targets.join(', ')}`);
  if (lan.length > 0) parts.push(`${parts.length > 0 ? 'then ' : ''}LAN ${lan.join('; ')}`);
  return `${route.model} (${formatBytes(route.bytes)}): ${parts.join(', ')}`;
}
