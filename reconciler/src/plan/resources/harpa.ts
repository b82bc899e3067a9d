// HARPA AI is a Chrome extension: it is finished by hand, once, when its
// instructions are new on the node.
import { harpaStep } from '../manual-steps.ts';
import { emptyResourcePlan, planned, type NodeContext, type ResourcePlan } from './node-context.ts';

export function planHarpa(ctx: NodeContext, deps: { instructionsWrite: string | undefined; chrome: string | undefined }): ResourcePlan {
  const out = emptyResourcePlan();
  if (ctx.node.role.services.harpa && ctx.facts.files.harpa_instructions === null) {
    out.steps.push(harpaStep(ctx.node, ctx.address, planned(deps.instructionsWrite, deps.chrome)));
  }
  return out;
}
