// Every semantic rule over a loaded fleet. Pure: plain data in, all problems
// out (not just the first), each at a file, line and column.
import type { FleetModel, ValidateOptions } from './context.ts';
import { RuleContext } from './context.ts';
import type { Problem } from './problem.ts';
import { checkCapacity } from './rules-capacity.ts';
import { checkHardwareCatalog, checkRoles } from './rules-catalogs.ts';
import { checkModelReferences } from './rules-models.ts';
import { checkNodes, checkRetiredList } from './rules-nodes.ts';
import { checkOpenclaw } from './rules-openclaw.ts';
import { checkSettings } from './rules-settings.ts';

export type { FleetModel, ValidateOptions, Locate, Location, DocRef } from './context.ts';

export function validateFleet(fleet: FleetModel, options: ValidateOptions): Problem[] {
  const ctx = new RuleContext(fleet, options);
  checkSettings(ctx);
  checkHardwareCatalog(ctx);
  checkRoles(ctx);
  checkRetiredList(ctx);
  checkNodes(ctx);
  checkModelReferences(ctx);
  checkOpenclaw(ctx);
  checkCapacity(ctx);
  return ctx.problems;
}
