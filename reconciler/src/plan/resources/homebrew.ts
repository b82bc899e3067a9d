// Homebrew itself, at the prefix of the node's architecture, when the role
// installs any software. Installing it needs root, like the hostnames.
import type { Step } from '../../model/steps.ts';
import { homebrewSudoStep } from '../manual-steps.ts';
import { emptyResourcePlan, type NodeContext, type ResourcePlan } from './node-context.ts';

export interface HomebrewPlan extends ResourcePlan {
  /** The step that installs Homebrew (or asks a person to), when one is needed. */
  installId: string | undefined;
}

export function planHomebrew(ctx: NodeContext): HomebrewPlan {
  const { node, facts } = ctx;
  const out: HomebrewPlan = { ...emptyResourcePlan(), installId: undefined };
  const prefix = ctx.files.brewPrefix;
  const needsBrew = node.role.software.formulae.length + node.role.software.casks.length > 0;
  if (!needsBrew || facts.brew.prefix === prefix) return out;
  out.differences.push({ field: 'brew.prefix', desired: prefix, observed: facts.brew.prefix });
  const why = facts.brew.prefix === null ? `Homebrew is not installed (no ${prefix}/bin/brew)` : `Homebrew is at ${facts.brew.prefix}, not at ${prefix} for ${ctx.hardware.architecture}`;
  const step: Step = facts.sudo
    ? { kind: 'install-homebrew', id: `${node.name}/install-homebrew`, node: node.name, prefix, why, after: [] }
    : homebrewSudoStep(ctx.desired.settings, node, ctx.address, prefix, why);
  out.steps.push(step);
  out.installId = step.id;
  return out;
}
