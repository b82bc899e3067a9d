// ComputerName, HostName and LocalHostName. Setting them needs root: without
// passwordless sudo it becomes a manual step and the rest of the plan goes on.
import { hostnameSudoStep } from '../manual-steps.ts';
import { emptyResourcePlan, quoteOrNotSet, type NodeContext, type ResourcePlan } from './node-context.ts';

const LABEL = { computer_name: 'ComputerName', host_name: 'HostName', local_host_name: 'LocalHostName' } as const;

export function planHostnames(ctx: NodeContext): ResourcePlan {
  const { node, facts } = ctx;
  const out = emptyResourcePlan();
  const want = { computer_name: node.display_name, host_name: node.name, local_host_name: node.name } as const;
  const keys = (['computer_name', 'host_name', 'local_host_name'] as const).filter((k) => facts.hostnames[k] !== want[k]);
  if (keys.length === 0) return out;
  for (const k of keys) out.differences.push({ field: `hostnames.${k}`, desired: want[k], observed: facts.hostnames[k] });
  const why = keys.map((k) => `${LABEL[k]} is ${quoteOrNotSet(facts.hostnames[k])} (want ${quoteOrNotSet(want[k])})`).join(', ');
  out.steps.push(facts.sudo
    ? { kind: 'set-hostname', id: `${node.name}/set-hostname`, node: node.name, why, after: [], ...want }
    : hostnameSudoStep(ctx.desired.settings, node, ctx.address, why));
  return out;
}
