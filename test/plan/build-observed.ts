// Observed nodes for plan tests: the fixture files under test/fixtures/observed/
// and "provisioned like today" nodes made by applying a plan with the model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Desired } from '../../reconciler/src/model/desired.ts';
import { plan, type PlanOptions } from '../../reconciler/src/plan/plan.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { REGISTRY_URL, TODAY } from './build-desired.ts';
import { applyIdeal } from './ideal-apply.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'observed');

/** A fixture file, renamed to `node` when given. */
export function fixture(name: string, node?: string): ObservedNode {
  const o = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as ObservedNode;
  return node === undefined ? o : { ...o, node };
}

export const OPTIONS: PlanOptions = { prune: false, registryUrl: REGISTRY_URL, today: TODAY };

/** The fresh fixture as another node: its hardware and address follow the desired node. */
export function freshAs(desired: Desired, name: string): ObservedNode {
  const o = fixture('fresh-m4-24gb', name);
  const doc = desired.nodes.find((n) => n.name === name);
  const hw = doc === undefined ? undefined : desired.hardware[doc.hardware];
  if (o.facts !== undefined && hw !== undefined) {
    o.facts.hardware = { architecture: hw.architecture, chip: hw.chip, ram_bytes: hw.ram_gb * 2 ** 30, ncpu: hw.ncpu ?? 8, arm64_capable: hw.architecture === 'arm64' };
  }
  return o;
}

/** A node after a perfect apply of its plan: what "provisioned like today" looks like. */
export function provisioned(desired: Desired, start: ObservedNode, options: PlanOptions = OPTIONS): ObservedNode {
  let current = [start];
  for (let round = 0; round < 3; round++) {
    const p = plan(desired, current, { ...options, nodes: [start.node] });
    current = applyIdeal(desired, current, p, { person: true });
  }
  const [out] = current;
  if (out === undefined) throw new Error('provisioned: lost the node');
  return out;
}
