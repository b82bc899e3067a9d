// The node's heartbeat key. Bob knows which key the node holds (Bob installed
// it); the probe never reads it. Without Bob's key state (CI, an offline
// plan) nothing is planned.
import { HEARTBEAT_KEY_PATH } from '../../model/mac-layout.ts';
import { emptyResourcePlan, planned, type NodeContext, type ResourcePlan } from './node-context.ts';

export interface SecretsPlan extends ResourcePlan {
  installId: string | undefined;
}

export function planSecrets(ctx: NodeContext, deps: { dirs: string | undefined }): SecretsPlan {
  const n = ctx.node.name;
  const out = emptyResourcePlan();
  const secret = ctx.options.secrets?.[n];
  if (secret === undefined || secret.installed === secret.key_id) return { ...out, installId: undefined };
  const installId = `${n}/install-secret`;
  out.differences.push({ field: 'secrets.heartbeat_key', desired: `key ${secret.key_id.slice(0, 12)}`, observed: secret.installed === null ? null : `key ${secret.installed.slice(0, 12)}` });
  out.steps.push({
    kind: 'install-secret', id: installId, node: n, path: `${ctx.files.home}/${HEARTBEAT_KEY_PATH}`, key_id: secret.key_id,
    why: secret.installed === null ? 'the node has no heartbeat key from Bob yet (its heartbeats are unsigned)' : 'Bob rotated the node\'s heartbeat key',
    after: planned(deps.dirs),
  });
  return { ...out, installId };
}
