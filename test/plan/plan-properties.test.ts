// Properties of plan over any fleet state fast-check can think of.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveNode, type Desired } from '../../reconciler/src/model/desired.ts';
import { freshObservation } from '../../reconciler/src/plan/fresh-node.ts';
import { plan, type PlanOptions } from '../../reconciler/src/plan/plan.ts';
import type { Plan } from '../../reconciler/src/model/steps.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { REGISTRY_URL, TODAY } from './build-desired.ts';
import { fleetArb } from './arbitrary-observed.ts';
import { applyIdeal } from './ideal-apply.ts';

const RUNS = { numRuns: 150 };

/** Nodes missing from the observations are planned as if fresh; to apply to them, they need that observation. */
function complete(desired: Desired, observed: readonly ObservedNode[]): ObservedNode[] {
  return desired.nodes.map((doc) => observed.find((o) => o.node === doc.name) ?? freshObservation(resolveNode(desired, doc), TODAY));
}

/** What a converged node looks like, written independently of plan: the seed's 4c checklist. */
function expectConverged(desired: Desired, o: ObservedNode): void {
  const doc = desired.nodes.find((n) => n.name === o.node);
  const f = o.facts;
  if (doc === undefined || f === undefined) throw new Error(`no facts for ${o.node}`);
  const node = resolveNode(desired, doc);
  const where = `${o.node}: `;
  expect(f.hostnames, where).toEqual({ computer_name: node.display_name, host_name: node.name, local_host_name: node.name });
  expect(f.brew.prefix, where).toBe(node.hardware?.architecture === 'x86_64' ? '/usr/local' : '/opt/homebrew');
  for (const p of node.role.software.formulae) expect(f.brew.formulae[p], `${where}${p}`).toBeDefined();
  for (const p of node.role.software.casks) expect(f.brew.casks[p], `${where}${p}`).toBeDefined();
  expect(f.crontab.lines.filter((l) => l === '* * * * * bash ~/.symphony/heartbeat.sh'), where).toHaveLength(1);
  expect(f.crontab.lines.filter((l) => l.includes('heartbeat.sh') && !l.startsWith('#')), where).toHaveLength(1);
  expect(f.files.heartbeat_script?.content, where).toContain(`node_id=${node.name}`);
  expect(JSON.parse(f.files.self_registration?.content ?? '{}'), where).toMatchObject({ node_id: node.name, role: node.role.name, hostname: `${node.name}.local` });
  expect(f.files.harpa_instructions === null, where).toBe(!node.role.services.harpa);
  for (const d of ['~/.symphony', '~/.symphony/logs', '~/.symphony/registry']) expect(f.dirs?.[d], `${where}${d}`).not.toBe(false);
  if (node.role.services.ollama) {
    expect(f.files.ollama_env?.content, where).toContain(`OLLAMA_HOST=${node.ollama_env.OLLAMA_HOST}\n`);
    expect(f.files.launchd_plist?.content, where).toContain('<string>com.symphony.ollama</string>');
    expect(f.launchd.ollama.loaded && f.launchd.ollama.running, where).toBe(true);
    expect(f.brew.services?.ollama ?? 'none', where).not.toBe('started');
    if (f.ollama.models_source !== 'none') {
      const have = f.ollama.models.map((m) => (m.name.includes(':') ? m.name : `${m.name}:latest`));
      for (const m of node.models) expect(have, where).toContain(m);
    }
  }
}

function options(prune: boolean): PlanOptions {
  return { prune, registryUrl: REGISTRY_URL, today: TODAY };
}

describe('plan properties', () => {
  it('plan(desired, observed after a perfect apply) is empty: every reachable active node in sync', () => {
    fc.assert(fc.property(fleetArb, fc.boolean(), ({ desired, observed }, prune) => {
      // A person does the manual steps between rounds (sudo, Homebrew, disk), so blocked steps run in the next round.
      let current = complete(desired, observed);
      let p: Plan = plan(desired, current, options(prune));
      for (let round = 0; round < 3; round++) {
        current = applyIdeal(desired, current, p, { person: true });
        p = plan(desired, current, options(prune));
      }
      for (const np of p.nodes) {
        if (np.status === 'drifted') {
          throw new Error(`${np.node} still drifted after apply: ${JSON.stringify(np.differences)} ${np.steps.map((s) => s.id).join(', ')}`);
        }
        if (np.status === 'in-sync' || np.status === 'retired') expect(np.steps).toEqual([]);
        const o = current.find((x) => x.node === np.node);
        if (np.status === 'in-sync' && o !== undefined) expectConverged(desired, o);
      }
    }), RUNS);
  });

  it('one perfect apply is enough when sudo works and the disk is ample', () => {
    fc.assert(fc.property(fleetArb, ({ desired, observed }) => {
      const easy: ObservedNode[] = complete(desired, observed).map((o) => (o.facts === undefined ? o : { ...o, facts: { ...o.facts, sudo: true, disk: { ...o.facts.disk, available_bytes: 1e13 } } }));
      const p = plan(desired, easy, options(true));
      const again = plan(desired, applyIdeal(desired, easy, p), options(true));
      for (const np of again.nodes) {
        const executable = np.steps.filter((s) => s.kind !== 'manual');
        expect(executable.map((s) => s.id)).toEqual([]);
      }
    }), RUNS);
  });

  it('is deterministic: same input in any order gives the same plan, nodes sorted', () => {
    fc.assert(fc.property(fleetArb, fc.boolean(), ({ desired, observed }, prune) => {
      const a = plan(desired, observed, options(prune));
      const b = plan(structuredClone(desired), [...observed].reverse().map((o) => structuredClone(o)), options(prune));
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      const names = a.nodes.map((n) => n.node);
      expect(names).toEqual([...names].sort());
    }), RUNS);
  });

  it('never plans an executable step on a node it cannot trust or reach', () => {
    fc.assert(fc.property(fleetArb, ({ desired, observed }) => {
      const p = plan(desired, observed, options(true));
      for (const np of p.nodes) {
        const reach = observed.find((o) => o.node === np.node)?.reach.status;
        if (['unreachable', 'away', 'refused', 'unknown-hardware', 'planned', 'error'].includes(np.status) || (reach !== undefined && reach !== 'ok')) {
          expect(np.steps.filter((s) => s.kind !== 'manual')).toEqual([]);
        }
        for (const s of np.steps) expect(s.node).toBe(np.node);
      }
    }), RUNS);
  });

  it('step ids are unique and every dependency comes first', () => {
    fc.assert(fc.property(fleetArb, fc.boolean(), ({ desired, observed }, prune) => {
      const p = plan(desired, observed, options(prune));
      const all = [...p.nodes.flatMap((n) => n.steps), ...p.fleet];
      expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
      for (const np of p.nodes) {
        const seen = new Set<string>();
        for (const s of np.steps) {
          for (const a of s.after) expect(seen.has(a)).toBe(true);
          seen.add(s.id);
        }
      }
    }), RUNS);
  });

  it('removes a model only with prune, or on a retired node', () => {
    fc.assert(fc.property(fleetArb, ({ desired, observed }) => {
      const p = plan(desired, observed, options(false));
      for (const np of p.nodes) {
        if (np.status !== 'retired') expect(np.steps.filter((s) => s.kind === 'remove-model' || s.kind === 'uninstall-package' || s.kind === 'unload-agent')).toEqual([]);
      }
    }), RUNS);
  });
});
