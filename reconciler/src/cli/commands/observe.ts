// `fleet observe`: look at the nodes (read-only) and print what they are.
// `fleet trust NODE`: pin a node's SSH host key in fleet/known_hosts.
// Neither contacts any node unless the fleet directory is valid.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { FleetError } from '../../errors.ts';
import type { Desired } from '../../model/desired.ts';
import { loadFleet } from '../../load/load-fleet.ts';
import { createGuard, loopbackOnly } from '../../net/guard.ts';
import { findHostKeys, fingerprint, formatKnownHosts, parseKnownHosts, replaceHostEntries } from '../../net/known-hosts.ts';
import { knownHostsNames, scanHostKey } from '../../net/ssh.ts';
import { createConnectionPool, resolveTargets } from '../../observe/connections.ts';
import { observeFleet } from '../../observe/observe-fleet.ts';
import { readTargets } from '../../observe/read-targets.ts';
import { renderObservedText } from '../../observe/render-observed.ts';
import { writeSnapshot } from '../../observe/snapshot.ts';
import { countErrors } from '../../model/problem.ts';
import { renderProblems } from '../../validate/render-problems.ts';
import { defaultFleetDir, defaultSnapshotPath } from '../repo-root.ts';

interface ObserveFlags {
  fleet: string;
  node?: string[];
  targets?: string;
  format: 'text' | 'json';
  snapshot?: string | true;
}

interface TrustFlags {
  fleet: string;
  targets?: string;
  expect?: string;
  pinInFleet?: boolean;
}

/** The fleet, or an error that lists its problems: nothing is contacted for an invalid fleet. */
/** The fleet, or the problems on stderr and an error: no node is contacted from an invalid fleet. */
export async function loadValidFleet(dir: string, today?: string): Promise<Desired> {
  const result = await loadFleet(dir, today !== undefined ? { today } : {});
  if (result.desired) return result.desired;
  const errors = countErrors(result.problems);
  process.stderr.write(renderProblems(result.problems, 'text', { errors, warnings: result.problems.length - errors, ok: false, strict: false, dir, nodes: result.partial?.nodes.length ?? null }));
  throw new FleetError('invalid-fleet', `${dir} is not valid (${errors} error${errors === 1 ? '' : 's'}), so no node was contacted. Fix it (\`fleet validate ${dir}\`) and run again.`);
}

/** Always fleet/known_hosts: a setting in the repository cannot send `fleet trust` elsewhere. */
function knownHostsPath(fleetDir: string): string {
  return join(fleetDir, 'known_hosts');
}

/** Refuses to write through a symbolic link (write-file-atomic would follow it) or over anything but a plain file. */
async function assertPlainFile(file: string): Promise<void> {
  let info;
  try {
    info = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isFile()) {
    throw new FleetError('invalid-input', `${file} is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: nothing written. Pinned host keys live in a plain file fleet/known_hosts; replace it with one.`);
  }
}

async function runObserve(flags: ObserveFlags): Promise<void> {
  const desired = await loadValidFleet(flags.fleet);
  const targets = flags.targets ? await readTargets(flags.targets) : undefined;
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const pool = createConnectionPool(desired, { ...(targets ? { targets } : {}), guard });
  let observed;
  try {
    observed = await observeFleet(desired, pool, { guard, ...(flags.node ? { nodes: flags.node } : {}) });
  } finally {
    pool.close();
  }
  if (flags.snapshot !== undefined) {
    const file = flags.snapshot === true ? defaultSnapshotPath() : flags.snapshot;
    await writeSnapshot(file, observed, { merge: flags.node !== undefined });
  }
  process.stdout.write(flags.format === 'json' ? `${JSON.stringify(observed, null, 2)}\n` : renderObservedText(observed));
  process.exitCode = 0;
}

async function runTrust(node: string, flags: TrustFlags): Promise<void> {
  const desired = await loadValidFleet(flags.fleet);
  if (!desired.nodes.some((n) => n.name === node)) {
    throw new FleetError('not-found', `no node named ${node} in ${flags.fleet}/nodes (nodes: ${desired.nodes.map((n) => n.name).join(', ')})`);
  }
  const targets = flags.targets ? await readTargets(flags.targets) : undefined;
  // The key is read, not the private key: an unreadable key file must not stop a trust.
  const target = resolveTargets(desired, targets, { readKey: () => Buffer.alloc(0) }).get(node);
  if (!target) throw new FleetError('not-found', `${node} is not in the targets file ${flags.targets ?? ''}`.trim());
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const scan = await scanHostKey(target, guard);
  if (!scan.ok) throw new FleetError('unreachable', `cannot read ${node}'s host key: ${scan.reach.message ?? scan.reach.status}`);
  process.stdout.write(`${node} at ${scan.address} presents ${scan.keyType} ${scan.fingerprint}\n`);
  if (flags.expect !== undefined && flags.expect !== scan.fingerprint) {
    throw new FleetError('invalid-input', `the key's fingerprint is ${scan.fingerprint}, not ${flags.expect}: nothing written. Check the fingerprint on the Mac itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).`);
  }
  const file = knownHostsPath(flags.fleet);
  if (flags.targets !== undefined && flags.pinInFleet !== true) {
    // A simulated fleet's (or a lab's) keys are not the fleet's: its pins come from the targets file.
    process.stdout.write(`not pinned: ${node} was reached through --targets ${flags.targets}, a simulated fleet or lab whose host keys are not the real ${node}'s (the targets file pins them already). To pin this key in ${file} anyway, run again with --pin-in-fleet.\n`);
    process.exitCode = 0;
    return;
  }
  const lines = parseKnownHosts(desired.knownHosts);
  const names = knownHostsNames(target);
  const before = findHostKeys(lines, names);
  const seenKey = `${scan.keyType} ${scan.key}`;
  if (before.revoked.includes(seenKey)) {
    throw new FleetError('invalid-input', `${file} marks this key @revoked: nothing written. Remove the @revoked line in a reviewed change if that is really intended.`);
  }
  if (before.trusted.length === 1 && before.trusted[0] === seenKey) {
    process.stdout.write(`already pinned in ${file}; nothing to change\n`);
    process.exitCode = 0;
    return;
  }
  const updated = formatKnownHosts(replaceHostEntries(lines, names, scan.line));
  await assertPlainFile(file);
  await writeFileAtomic(file, updated);
  for (const old of before.trusted.filter((k) => k !== seenKey)) process.stdout.write(`replaced the pinned key ${fingerprint(old)}\n`);
  process.stdout.write(`pinned in ${file}:\n${scan.line}\nCommit it, so the change is reviewed in a pull request.\n`);
  process.exitCode = 0;
}

export function register(program: Command): void {
  program
    .command('observe')
    .description('look at the nodes over SSH and HTTP (read-only) and print what each one is')
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--node <name...>', 'only these nodes')
    .option('--targets <file>', 'reach nodes as this targets.json says (the simulated fleet) instead of their fleet addresses')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--snapshot [file]', `also write the observed snapshot (default ${defaultSnapshotPath()})`)
    .action(async (flags: ObserveFlags) => { await runObserve(flags); });

  program
    .command('trust')
    .description('read a node\'s SSH host key, print its fingerprint and pin it in fleet/known_hosts')
    .argument('<node>', 'node name')
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--targets <file>', 'reach the node as this targets.json says (the simulated fleet)')
    .option('--expect <fingerprint>', 'write only if the key has this fingerprint (SHA256:..., read on the Mac)')
    .option('--pin-in-fleet', 'with --targets: pin the key in fleet/known_hosts anyway (by default a simulated fleet\'s keys are only shown)')
    .action(async (node: string, flags: TrustFlags) => { await runTrust(node, flags); });
}
