// The exact instructions of the steps a person must do. Every command shown is
// built with sh``, so a hostile name can be copied and pasted without running.
import type { DesiredNode } from '../load/desired.ts';
import type { FleetSettingsDoc, Hardware } from '../schema/fleet.ts';
import type { ObservedNode } from '../schema/observed.ts';
import { quote, raw, sh, type ShellLine } from '../shell/quote.ts';
import type { ManualReason, StepOf } from './steps.ts';

type Manual = StepOf<'manual'>;

function manual(node: string, reason: ManualReason, what: string | null, why: string, instructions: string[], after: string[] = []): Manual {
  return { kind: 'manual', id: what === null ? `${node}/manual/${reason}` : `${node}/manual/${reason}/${what}`, node, reason, why, instructions, after };
}

function sshLogin(settings: FleetSettingsDoc, node: DesiredNode, address?: string): string {
  return sh`ssh ${`${settings.ssh.user}@${address ?? node.addresses[0] ?? `${node.name}.local`}`}`.__shell;
}

/** A path as a person types it: a leading ~/ stays outside the quotes so the shell expands it. */
function typedPath(path: string): ShellLine {
  return path.startsWith('~/') ? raw(`~/${quote(path.slice(2))}`) : raw(quote(path));
}

function installKeyInstruction(settings: FleetSettingsDoc, node: DesiredNode): string {
  const user = settings.ssh.user;
  const address = node.addresses[0] ?? `${node.name}.local`;
  const key = settings.ssh.public_key;
  return key === undefined
    ? `On Bob, copy Bob's public key to it: ${sh`ssh-copy-id -i ${typedPath(`${settings.ssh.key_path}.pub`)} ${`${user}@${address}`}`.__shell} (asks for ${user}'s password once).`
    : `On the Mac, in Terminal as ${user}, install Bob's public key: ${sh`mkdir -p ~/.ssh && chmod 700 ~/.ssh && printf '%s\\n' ${key} >> ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys`.__shell}`;
}

export function sshBootstrapStep(settings: FleetSettingsDoc, node: DesiredNode, why: string): Manual {
  const user = settings.ssh.user;
  return manual(node.name, 'ssh-bootstrap', null, why, [
    `At the Mac ${node.display_name}: finish macOS setup with the local admin account ${user} (no Apple ID needed) and join the Symphony LAN.`,
    `Turn on Remote Login: System Settings > General > Sharing > Remote Login (allow ${user}), or in Terminal: sudo systemsetup -setremotelogin on`,
    installKeyInstruction(settings, node),
    `So that set-hostname and Homebrew run unattended, allow ${user} passwordless sudo: ${sh`echo ${`${user} ALL=(ALL) NOPASSWD: ALL`} | sudo tee ${`/etc/sudoers.d/symphony-${user}`}`.__shell}`,
    `On Bob, pin its host key: ${sh`fleet trust ${node.name}`.__shell}, then commit fleet/known_hosts.`,
    `Set status: active in fleet/nodes/${node.name}.yaml (pull request), then run ${sh`fleet apply --node ${node.name}`.__shell}.`,
  ]);
}

/** Reached and the host key is pinned, but Bob's key was refused: only the key is missing. */
export function authFailedStep(settings: FleetSettingsDoc, node: DesiredNode, why: string): Manual {
  return manual(node.name, 'ssh-bootstrap', null, why, [
    `${node.name} answers SSH but does not accept Bob's key for ${settings.ssh.user} (${why}).`,
    installKeyInstruction(settings, node),
    `Then run ${sh`fleet plan --node ${node.name}`.__shell} again.`,
  ]);
}

export function hostKeyStep(node: DesiredNode, observed: ObservedNode): Manual {
  const key = observed.reach.host_key;
  const seen = key?.fingerprint ?? 'unknown';
  const at = observed.reach.address ?? node.addresses[0] ?? node.name;
  const check = `On ${node.display_name} itself (at the keyboard or over Screen Sharing), run ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub and check it prints ${seen}.`;
  const trust = `On Bob: ${sh`fleet trust ${node.name}`.__shell} (writes its line to fleet/known_hosts), then commit that file in a pull request.`;
  if (observed.reach.status === 'host-key-changed') {
    return manual(node.name, 'host-key', null, `host key changed: pinned ${key?.expected ?? 'unknown'}, ${at} now shows ${seen}`, [
      `Nothing was run on ${node.name}: its SSH host key is not the pinned one (pinned ${key?.expected ?? 'unknown'}, seen ${seen} at ${at}).`,
      `If ${node.name} was reinstalled, reset or replaced: ${check}`,
      trust,
      `If nobody reinstalled ${node.name}, do not trust the new key: something else may answer at ${at}. Check the address and the network first.`,
    ]);
  }
  return manual(node.name, 'host-key', null, `host key not pinned: ${at} shows ${seen}`, [
    `Nothing was run on ${node.name}: its SSH host key (${seen} at ${at}) is not in fleet/known_hosts.`,
    check,
    trust,
    'Or, for a lab fleet only, turn on ssh.trust_on_first_use in Bob\'s ~/.symphony/fleetd.yaml (the first key is pinned there and any later change refused).',
  ]);
}

export function tofuStep(node: DesiredNode, observed: ObservedNode): Manual | undefined {
  const key = observed.reach.host_key;
  if (key?.trusted_on_first_use !== true) return undefined;
  return manual(node.name, 'host-key', 'pin', `host key trusted on first use: ${key.fingerprint}`, [
    `${node.name}'s host key was accepted on first use (${key.fingerprint}); pin it so a change is noticed:`,
    `Add this line to fleet/known_hosts (or run ${sh`fleet trust ${node.name}`.__shell}) and commit it: ${key.line}`,
  ]);
}

export function hardwareMismatchStep(node: DesiredNode, hardware: Hardware, mismatches: string[]): Manual {
  return manual(node.name, 'hardware-mismatch', null, mismatches.join('; '), [
    `${node.name} is declared as ${node.hardware_id} (${hardware.model}, ${hardware.chip}, ${hardware.ram_gb} GB, ${hardware.architecture}) but observe saw: ${mismatches.join('; ')}.`,
    'The RAM fit was checked against the declared hardware, so nothing is changed on it until this is resolved.',
    `If the Mac is right, set hardware: to the matching id from fleet/catalog/hardware.yaml in fleet/nodes/${node.name}.yaml and run fleet validate (models may no longer fit).`,
    `If the Mac is wrong, check addresses: in fleet/nodes/${node.name}.yaml: another Mac answered.`,
  ]);
}

export function hostnameSudoStep(settings: FleetSettingsDoc, node: DesiredNode, address: string | undefined, why: string): Manual {
  return manual(node.name, 'sudo-password', 'hostname', why, [
    `Passwordless sudo is not available on ${node.name} (sudo -n true failed), so its names cannot be set remotely. Log in (${sshLogin(settings, node, address)}) and run:`,
    sh`sudo scutil --set ComputerName ${node.display_name}`.__shell,
    sh`sudo scutil --set HostName ${node.name}`.__shell,
    sh`sudo scutil --set LocalHostName ${node.name}`.__shell,
    'sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder',
    'The other steps go on without it.',
  ]);
}

export function homebrewSudoStep(settings: FleetSettingsDoc, node: DesiredNode, address: string | undefined, prefix: string, why: string): Manual {
  return manual(node.name, 'sudo-password', 'homebrew', why, [
    `Homebrew's installer needs administrator rights and passwordless sudo is not available on ${node.name}. Log in (${sshLogin(settings, node, address)}) and run:`,
    '/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"',
    `It installs to ${prefix}. Then run ${sh`fleet apply --node ${node.name}`.__shell}: the software, agent and model steps wait for it.`,
  ]);
}

export function diskSpaceStep(settings: FleetSettingsDoc, node: DesiredNode, address: string | undefined, models: { model: string; bytes: number }[], availableBytes: number, marginBytes: number): Manual {
  const need = models.reduce((sum, m) => sum + m.bytes, 0);
  const list = models.map((m) => `${m.model} (${formatBytes(m.bytes)})`).join(', ');
  return manual(node.name, 'disk-space', null, `not enough free disk for ${list}: ${formatBytes(availableBytes)} free, ${formatBytes(marginBytes)} kept free`, [
    `${list} will not fit on ${node.name}'s disk: ${formatBytes(need)} needed, ${formatBytes(availableBytes)} free, and ${formatBytes(marginBytes)} is kept free (memory.disk_margin_gb). They are not pulled.`,
    `See what uses the space: ${sshLogin(settings, node, address)} 'df -h ~; du -sh ~/.ollama/models'`,
    `Free space on the node, or remove models it no longer needs (fleet apply --prune removes models not in fleet/nodes/${node.name}.yaml), or assign smaller models.`,
    `Then run ${sh`fleet apply --node ${node.name}`.__shell}.`,
  ]);
}

export function harpaStep(node: DesiredNode, address: string | undefined, after: string[]): Manual {
  return manual(node.name, 'harpa-setup', null, 'HARPA AI is a Chrome extension and cannot be installed from a command line', [
    `At ${node.display_name} (${address ?? node.addresses[0] ?? node.name}), open Google Chrome and install the HARPA AI extension.`,
    'Follow ~/.symphony/harpa_setup_instructions.txt on that Mac, step by step.',
  ], after);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${bytes} B`;
}
