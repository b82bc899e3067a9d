// `fleet add-node NAME --detect ADDRESS`: logs in to a Mac that is not in the
// fleet yet and runs observe's own probe there (read-only; no command beyond
// the probe's), then reads its hardware from the facts. The host key: the
// targets file's (the simulated fleet), or one pinned in known_hosts, or the
// one whose fingerprint --expect names; otherwise trusted for this one
// read-only look and printed, so a person can check it and pin it.
import type { Desired } from '../load/desired.ts';
import { FleetError } from '../errors.ts';
import type { ConnectionGuard } from '../net/guard.ts';
import { connectNode, scanHostKey } from '../net/ssh.ts';
import { resolveTargets, type ConnectionPool, type NodeTarget } from '../observe/connections.ts';
import { observeNode } from '../observe/observe-fleet.ts';
import type { NodeDoc } from '../schema/fleet.ts';
import type { ObservedFacts } from '../schema/observed.ts';
import type { Targets } from '../schema/targets.ts';

export interface DetectOptions {
  guard: ConnectionGuard;
  /** The simulated fleet: user, key, port and host key of NAME (or of the node at ADDRESS). */
  targets?: Targets;
  /** SHA256:... the host key must have (read on the Mac itself). */
  expectFingerprint?: string;
}

export interface DetectResult {
  facts: ObservedFacts;
  address: string;
  /** The host key seen, when it was not pinned before: check it, then `fleet trust`. */
  unpinnedKey?: { fingerprint: string; line: string };
}

/** One connection to one Mac, in the shape observe takes. */
function singlePool(target: NodeTarget, guard: ConnectionGuard): ConnectionPool {
  let live: ReturnType<typeof connectNode> | undefined;
  return {
    session: () => (live ??= connectNode(target, guard)),
    target: (node) => (node === target.node ? target : undefined),
    forget: () => { live = undefined; },
    close: () => { void live?.then((r) => { if (r.ok) r.session.close(); }); },
  };
}

export async function detectMac(fleet: Desired, name: string, address: string, options: DetectOptions): Promise<DetectResult> {
  const placeholder: NodeDoc = { name, role: 'detect', hardware: 'detect', addresses: [address], presence: 'always_on', status: 'planned' };
  // The targets file knows the Mac by its name, or (a name it does not have yet) by its address.
  const entry = options.targets?.nodes[name] ?? Object.values(options.targets?.nodes ?? {}).find((t) => t.addresses.includes(address));
  const targets: Targets | undefined = entry === undefined ? undefined : { nodes: { [name]: { ...entry, addresses: [address] } } };
  const resolved = resolveTargets({ ...fleet, nodes: [placeholder] }, targets).get(name);
  if (resolved === undefined) throw new FleetError('internal', `no connection settings for ${name}`);
  let target: NodeTarget = resolved;
  if (options.expectFingerprint !== undefined) {
    const scan = await scanHostKey(target, options.guard);
    if (!scan.ok) throw new FleetError('unreachable', `cannot read ${address}'s host key: ${scan.reach.message ?? scan.reach.status}`);
    if (scan.fingerprint !== options.expectFingerprint) throw new FleetError('invalid-input', `${address} presents ${scan.fingerprint}, not ${options.expectFingerprint}: not logged in, nothing written.`);
    target = { ...target, knownHostKeys: [`${scan.keyType} ${scan.key}`], trustOnFirstUse: false };
  } else if (target.knownHostKeys.length === 0) {
    target = { ...target, trustOnFirstUse: true };
  }
  const pool = singlePool(target, options.guard);
  try {
    const observed = await observeNode(name, pool, { guard: options.guard });
    if (observed.facts === undefined || observed.reach.status !== 'ok') {
      throw new FleetError('unreachable', `cannot look at ${address}: ${observed.reach.message ?? observed.reach.status}. Check Remote Login is on and Bob's key (${fleet.settings.ssh.key_path}) is in ${fleet.settings.ssh.user}'s authorized_keys there.`);
    }
    const key = observed.reach.host_key;
    return {
      facts: observed.facts,
      address: observed.reach.address ?? address,
      ...(key?.trusted_on_first_use === true ? { unpinnedKey: { fingerprint: key.fingerprint, line: key.line } } : {}),
    };
  } finally {
    pool.close();
  }
}
