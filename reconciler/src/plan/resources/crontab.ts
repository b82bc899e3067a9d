// The heartbeat line in the user's crontab: replaced, never duplicated. It
// waits for the signing key, so the first heartbeat, sent as soon as the line
// is in, is signed.
import { HEARTBEAT_CRON_LINE, HEARTBEAT_MARKER } from '../../model/mac-layout.ts';
import { crontabInSync, heartbeatLinesOf } from '../desired-files.ts';
import { emptyResourcePlan, planned, quoteOrNotSet, type NodeContext, type ResourcePlan } from './node-context.ts';

export function planCrontab(ctx: NodeContext, deps: { script: string | undefined; secret: string | undefined; dirs: string | undefined }): ResourcePlan {
  const { node, facts } = ctx;
  const out = emptyResourcePlan();
  if (crontabInSync(facts.crontab.lines, HEARTBEAT_CRON_LINE)) return out;
  const lines = heartbeatLinesOf(facts.crontab.lines);
  out.differences.push({ field: 'crontab.heartbeat', desired: HEARTBEAT_CRON_LINE, observed: lines.length === 0 ? null : lines.join(' | ') });
  const why = lines.length === 0 ? 'no heartbeat line in the crontab' : lines.length > 1 ? `${lines.length} heartbeat lines in the crontab (duplicates)` : `the heartbeat line is ${quoteOrNotSet(lines[0])}`;
  out.steps.push({ kind: 'set-crontab', id: `${node.name}/set-crontab`, node: node.name, line: HEARTBEAT_CRON_LINE, marker: HEARTBEAT_MARKER, why, after: planned(deps.script, deps.secret, deps.dirs) });
  return out;
}
