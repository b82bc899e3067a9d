// Registration with Bob's registry API: when the self-registration payload
// changes, or when Ollama comes up on the node for the first time.
import { selfRegistrationOf } from '../desired-files.ts';
import { emptyResourcePlan, planned, type NodeContext, type ResourcePlan } from './node-context.ts';

export function planRegistration(ctx: NodeContext, deps: { payloadWrite: string | undefined; load: string | undefined; restart: string | undefined }): ResourcePlan {
  const { node, facts } = ctx;
  const out = emptyResourcePlan();
  const newlyUp = deps.load !== undefined && !facts.launchd.ollama.loaded;
  if (deps.payloadWrite === undefined && !newlyUp) return out;
  out.steps.push({
    kind: 'register', id: `${node.name}/register`, node: node.name, url: `${ctx.files.registryUrl}/api/nodes/register`,
    payload: selfRegistrationOf(ctx.files),
    why: deps.payloadWrite !== undefined ? 'the self-registration payload changes' : 'Ollama comes up on the node',
    after: planned(deps.payloadWrite, deps.load, deps.restart),
  });
  return out;
}
