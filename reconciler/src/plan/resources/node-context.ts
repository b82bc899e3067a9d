// What every resource planner of an active node reads, and what each returns.
// A planner is pure: it looks at the desired node and the observed facts and
// says which steps would close the gap, why, and what each waits for.
import type { Desired, DesiredNode } from '../../model/desired.ts';
import type { Hardware } from '../../schema/fleet.ts';
import type { ObservedFacts } from '../../schema/observed.ts';
import type { Difference, Step } from '../../model/steps.ts';
import type { FileContext } from '../desired-files.ts';
import type { PlanOptions } from '../plan.ts';

export interface NodeContext {
  desired: Desired;
  node: DesiredNode;
  facts: ObservedFacts;
  hardware: Hardware;
  /** The address observe reached the node at (for the instructions of manual steps). */
  address: string | undefined;
  options: PlanOptions;
  /** What the managed files are rendered from: home, Homebrew prefix, registry URL, IP. */
  files: FileContext;
}

/** One resource's share of a node plan. */
export interface ResourcePlan {
  steps: Step[];
  differences: Difference[];
  /** Facts worth knowing that change nothing. */
  notes: string[];
}

export function emptyResourcePlan(): ResourcePlan {
  return { steps: [], differences: [], notes: [] };
}

/** `"value"` quoted, or `not set` for a missing one: for the `why` of a step. */
export function quoteOrNotSet(value: string | null | undefined): string {
  return value === null || value === undefined ? 'not set' : JSON.stringify(value);
}

/** The ids of the steps that were planned (a dependency on a step that is not needed is dropped). */
export function planned(...ids: (string | undefined)[]): string[] {
  return ids.filter((x): x is string => x !== undefined);
}
