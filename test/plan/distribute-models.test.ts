// Model distribution: a pull per model, not per node. Pure functions, plain data.
import { describe, expect, it } from 'vitest';
import { distributeModels, type DistributionInput } from '../../reconciler/src/plan/distribute-models.ts';
import { plan } from '../../reconciler/src/plan/plan.ts';
import { renderText } from '../../reconciler/src/plan/render-text.ts';
import { TransferCoordinator } from '../../reconciler/src/apply/transfers.ts';
import { buildDesired, node, SETTINGS } from './build-desired.ts';
import { freshAs, OPTIONS, provisioned } from './build-observed.ts';

const GB = 1e9;
const nodes = (names: string[], extra: Partial<DistributionInput['nodes'][number]> = {}): DistributionInput['nodes'] =>
  names.map((name) => ({ name, linkGbps: 1, internet: true, canCache: true, ...extra }));

describe('distributeModels', () => {
  const five = ['cadence', 'harmony', 'overture', 'tempo', 'virtuoso'];
  const needs = five.map((n) => ({ node: n, model: 'llama3.1:8b', bytes: 4.9 * GB }));

  it('pulls a model from the internet once and fans the copies out, no source serving more than its limit', () => {
    const d = distributeModels({ mode: 'lan', copiesPerSource: 2, nodes: nodes(five), needs, holders: [] });
    const route = d.routes[0];
    expect(route?.internet).toEqual(['cadence']);
    expect(route?.lan).toEqual([{ source: 'cadence', targets: ['harmony', 'overture'] }, { source: 'harmony', targets: ['tempo', 'virtuoso'] }]);
    expect(route?.internet_bytes).toBe(4.9 * GB);
    expect(route?.lan_bytes).toBe(4 * 4.9 * GB);
    const copies = d.deliveries.filter((x) => x.kind === 'copy');
    expect(copies.map((c) => [c.node, c.kind === 'copy' ? c.source : ''])).toEqual([['harmony', 'cadence'], ['overture', 'cadence'], ['tempo', 'harmony'], ['virtuoso', 'harmony']]);
    // Any other node that has it or gets it may stand in for the planned source.
    const virtuoso = copies.find((c) => c.node === 'virtuoso');
    expect(virtuoso?.kind === 'copy' ? virtuoso.peers : []).toEqual(['cadence', 'overture', 'tempo']);
    const harmony = copies.find((c) => c.node === 'harmony');
    expect(harmony?.kind === 'copy' ? harmony.peers : []).toEqual(['overture', 'tempo', 'virtuoso']);
  });

  it('copies from a node that already has the model (the faster link first) instead of pulling', () => {
    const d = distributeModels({
      mode: 'lan', copiesPerSource: 2, nodes: [...nodes(['crescendo'], { linkGbps: 10 }), ...nodes(['maestro', 'soloist'])],
      needs: [{ node: 'soloist', model: 'llama3.1:70b', bytes: 42.5 * GB }],
      holders: [{ node: 'maestro', model: 'llama3.1:70b' }, { node: 'crescendo', model: 'llama3.1:70b' }],
    });
    expect(d.routes[0]).toMatchObject({ internet: [], lan: [{ source: 'crescendo', targets: ['soloist'] }], internet_bytes: 0 });
  });

  it('in internet mode every node pulls its own copy (the behaviour before LAN copies)', () => {
    const d = distributeModels({ mode: 'internet', copiesPerSource: 2, nodes: nodes(five), needs, holders: [] });
    expect(d.routes[0]?.internet).toEqual(five);
    expect(d.deliveries.every((x) => x.kind === 'pull')).toBe(true);
  });

  it('a node that may not use the internet gets the model from one that may, as a cache', () => {
    const d = distributeModels({
      mode: 'lan', copiesPerSource: 2, nodes: [...nodes(['bob']), ...nodes(['tempo', 'cadence'], { internet: false })],
      needs: [{ node: 'tempo', model: 'mistral:7b', bytes: 4.1 * GB }, { node: 'cadence', model: 'mistral:7b', bytes: 4.1 * GB }],
      holders: [],
    });
    expect(d.routes[0]).toMatchObject({ internet: ['bob'], lan: [{ source: 'bob', targets: ['cadence', 'tempo'] }] });
    expect(d.deliveries.find((x) => x.node === 'bob')).toMatchObject({ kind: 'pull', cache: true });
    for (const c of d.deliveries.filter((x) => x.kind === 'copy')) expect(c).toMatchObject({ fallback: 'none' });
  });

  it('a configured cache node pulls what the fleet lacks', () => {
    const d = distributeModels({ mode: 'lan', copiesPerSource: 4, cacheNode: 'bob', nodes: nodes(['bob', 'tempo', 'cadence']), needs: needs.slice(0, 2).map((n, i) => ({ ...n, node: ['tempo', 'cadence'][i] ?? '' })), holders: [] });
    expect(d.routes[0]).toMatchObject({ internet: ['bob'], lan: [{ source: 'bob', targets: ['cadence', 'tempo'] }] });
  });

  it('spreads the internet pulls of different models over the nodes', () => {
    const models = ['a:1', 'b:1', 'c:1'];
    const d = distributeModels({ mode: 'lan', copiesPerSource: 2, nodes: nodes(['x', 'y', 'z']), needs: models.flatMap((m) => ['x', 'y', 'z'].map((n) => ({ node: n, model: m, bytes: GB }))), holders: [] });
    expect(d.routes.map((r) => r.internet[0])).toEqual(['x', 'y', 'z']);
  });
});

describe('plan: models over the LAN', () => {
  const withLlama32 = (o: ReturnType<typeof freshAs>): ReturnType<typeof freshAs> => {
    o.facts?.ollama.models.push({ name: 'llama3.2:3b', digest: 'a'.repeat(64), size: 2019393189 });
    return o;
  };
  const desired = buildDesired([
    node('bob', 'hq', 'mac-mini-m4-16gb'),
    node('maestro', 'llm_worker', 'mac-mini-m4-24gb'),
    node('virtuoso', 'llm_worker', 'mac-mini-m4-24gb', { models: ['llama3.2:3b'] }),
  ], { ...SETTINGS, transfer: { mode: 'lan' } });
  const observed = (): ReturnType<typeof freshAs>[] => [
    provisioned(desired, freshAs(desired, 'bob')),
    withLlama32(provisioned(desired, freshAs(desired, 'maestro'))),
    freshAs(desired, 'virtuoso'),
  ];

  it('shows each model\'s route and the bytes over the internet and the LAN', () => {
    const p = plan(desired, observed(), OPTIONS);
    const text = renderText(p, { color: false });
    expect(text).toMatch(/llama3\.2:3b \(2\.0 GB\): LAN (bob|maestro) -> virtuoso/);
    expect(text).toMatch(/internet: 0 B \(0\.0x .*\); LAN: /);
    const v = p.nodes.find((n) => n.node === 'virtuoso');
    expect(v?.steps.filter((s) => s.kind === 'pull-model')).toEqual([]);
    expect(v?.steps.filter((s) => s.kind === 'copy-model').map((s) => s.kind === 'copy-model' ? s.model : '').sort()).toEqual(['llama3.1:8b', 'llama3.2:3b', 'mistral:7b', 'nomic-embed-text:latest']);
  });

  it('a model a node is deleting is never a source, in the plan or in the executor', () => {
    // maestro has llama3.2:3b as an extra; with prune it removes it, so it may not serve it.
    const obs = observed();
    const pruned = plan(desired, obs, { ...OPTIONS, prune: true });
    const maestro = pruned.nodes.find((n) => n.node === 'maestro');
    expect(maestro?.steps.some((s) => s.kind === 'remove-model' && s.model === 'llama3.2:3b')).toBe(true);
    const copy = pruned.nodes.find((n) => n.node === 'virtuoso')?.steps.find((s) => s.kind === 'copy-model' && s.model === 'llama3.2:3b');
    expect(copy?.kind === 'copy-model' ? [copy.source, ...copy.peers] : []).not.toContain('maestro');
    // Bob has it too (hq); when bob lacks it as well, it must come from the internet, once.
    const noBob = obs.map((o) => {
      if (o.node !== 'bob' || o.facts === undefined) return o;
      return { ...o, facts: { ...o.facts, ollama: { ...o.facts.ollama, models: o.facts.ollama.models.filter((m) => m.name !== 'llama3.2:3b') } } };
    });
    const p2 = plan(desired, noBob, { ...OPTIONS, prune: true });
    const llama32 = p2.transfers?.find((t) => t.model === 'llama3.2:3b');
    expect(llama32?.internet).toEqual(['bob']);
    expect(llama32?.lan).toEqual([{ source: 'bob', targets: ['virtuoso'] }]);
    // The executor's sources, from the same plan: maestro is not a holder of what it removes.
    const co = TransferCoordinator.fromPlan(p2, noBob, { maxInternetPulls: 1, copiesPerSource: 1 }, { now: () => 0, sleep: () => Promise.resolve() });
    expect(co.digestOf('maestro', 'llama3.2:3b')).toBeUndefined();
    expect(co.digestOf('maestro', 'llama3.1:8b')).toBeDefined();
  });
});
