// When no node answered at all, a plan says nothing about the fleet and
// generated files made from it would disable every worker: plan and apply
// stop with one line that says how to point fleet at a fleet.
import type { ObservedNode } from '../schema/observed.ts';

/** The line to show when none of `observed` answered; null when one did (or none was asked). */
export function noNodeAnswered(observed: readonly ObservedNode[], targetsFile: string | undefined): string | null {
  if (observed.length === 0 || observed.some((o) => o.reach.status === 'ok')) return null;
  const blocked = observed.some((o) => o.reach.attempts.some((a) => a.result === 'blocked'));
  const how = targetsFile === undefined
    ? `To work on a simulated fleet, start one (fleet sim up --from fleet) and pass --targets .sim/targets.json${blocked ? ' (FLEET_LOOPBACK_ONLY=1 is set, so only loopback is dialled)' : ''}; on Bob, check that the Macs are awake, on the LAN and have Remote Login on (fleet observe lists every address tried).`
    : `Is the simulated fleet behind ${targetsFile} still running? (fleet sim status)`;
  return `no node answered (${observed.length} tried), so nothing was planned or changed. ${how}`;
}
