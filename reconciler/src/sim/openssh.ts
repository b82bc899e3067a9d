// The real-OpenSSH tier: one Debian/OpenBSD `sshd` per simulated node on
// 127.0.0.1, with the node's own host key, the fleet's client key, and a
// ForceCommand that gives every session what the ssh2 tier gives it: `zsh -c`
// with macOS's PATH over the simulated userland, HOME and FLEET_ROOT. It proves the reconciler's SSH client
// against the real server; faults of the network kind (down, hang, slow,
// host-key-rotated) apply to the ssh2 tier only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { FleetError } from '../errors.ts';
import { freePort } from '../net/free-port.ts';
import { quote } from '../shell/quote.ts';
import type { SimNode } from './sim-node.ts';

export const SSHD_PATH = '/usr/sbin/sshd';

/** Why the tier cannot run here, or undefined when it can. */
export function opensshUnavailableReason(): string | undefined {
  if (!existsSync(SSHD_PATH)) return `${SSHD_PATH} is not installed (Debian: apt-get install openssh-server)`;
  return undefined;
}

export interface OpenSshNode {
  name: string;
  host: string;
  port: number;
  /** The account sshd authenticates (the user running the simulator). */
  user: string;
  hostKey: string;
  pid: number;
}

export interface OpenSshTier {
  readonly nodes: readonly OpenSshNode[];
  /** known_hosts lines for every node (`[127.0.0.1]:port ssh-ed25519 ...`). */
  knownHosts(): string;
  stop(): Promise<void>;
}


/**
 * /proc/PID/stat's fields after `pid (comm)`: [0] state, [1] ppid, [2] pgrp,
 * ... [11] utime, [12] stime, [13] cutime, [14] cstime (clock ticks). null
 * when the process is gone (or this is not Linux). comm may hold spaces and
 * parentheses, so the fields start after the last ')'.
 */
export function procStatFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Every live descendant of `root` with its process group, read from /proc (the tier is Linux-only). */
export function descendantsOf(root: number): { pid: number; pgid: number }[] {
  const byParent = new Map<number, { pid: number; pgid: number }[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const fields = procStatFields(name);
    if (!fields) continue; // exited meanwhile
    const ppid = Number(fields[1]);
    const pgid = Number(fields[2]);
    const list = byParent.get(ppid) ?? [];
    list.push({ pid: Number(name), pgid });
    byParent.set(ppid, list);
  }
  const out: { pid: number; pgid: number }[] = [];
  const queue = [root];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of byParent.get(next) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** Variables of sshd's own that a Mac's session has too; everything else is replaced by the node's. */
const SSHD_KEPT = ['SSH_CLIENT', 'SSH_CONNECTION', 'SSH_TTY', 'SSH_ORIGINAL_COMMAND', 'LANG', 'TERM'];

export function renderLoginScript(node: SimNode): string {
  const env = node.sessionEnv();
  const keep = [...SSHD_KEPT, ...Object.keys(env)].join('|');
  return `#!/bin/bash
# ForceCommand of ${node.name}'s sshd: the session of the ssh2 tier (sim-node.ts),
# \`zsh -c\` with argv[0] "zsh", as macOS's sshd runs the login shell.
for _v in $(compgen -e); do case $_v in ${keep}|LC_*) ;; *) unset "$_v" ;; esac; done
unset _v
${Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`).join('\n')}
cd "$HOME" || exit 1
if [ -n "\${SSH_ORIGINAL_COMMAND+set}" ]; then _c=$SSH_ORIGINAL_COMMAND; unset SSH_ORIGINAL_COMMAND; exec -a zsh ${quote(node.zsh)} -c "$_c"; fi
exec -a zsh ${quote(node.zsh)}
`;
}

function renderConfig(node: SimNode, host: string, port: number, user: string, dir: string): string {
  return [
    `ListenAddress ${host}:${port}`,
    `HostKey ${node.paths.hostKey}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `ForceCommand ${join(dir, 'login.sh')}`,
    `AllowUsers ${user}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    'AcceptEnv LANG LC_*',
    // sshd runs the ForceCommand with the account's login shell. On a Mac that
    // is zsh, whose -c sources no rc file; Debian's bash -c sources ~/.bashrc
    // when started by sshd (SSH_SOURCE_BASHRC), but only in a top-level shell:
    // SHLVL=1 makes it level 2, so the probe pays for no .bashrc (on a dev box
    // running pyenv init, ~100 processes and ~90 ms per exec).
    'SetEnv SHLVL=1',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

async function startSshd(configPath: string, host: string, port: number): Promise<ChildProcess> {
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // LogLevel ERROR keeps sshd quiet, so readiness is a successful connect
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new FleetError('internal', `sshd exited (${child.exitCode}): ${stderr.trim()}`);
    const ready = await new Promise<boolean>((resolve) => {
      const c = connect({ host, port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ready) return child;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new FleetError('internal', `sshd did not listen on ${host}:${port} within 10 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startOpenSshTier(nodes: readonly SimNode[], clientPublicKey: string): Promise<OpenSshTier> {
  const reason = opensshUnavailableReason();
  if (reason) throw new FleetError('not-found', reason);
  const user = userInfo().username;
  // sshd running as root insists on its privilege-separation directory
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
  const host = '127.0.0.1';
  const started: { node: OpenSshNode; child: ChildProcess }[] = [];
  const stop = async (): Promise<void> => {
    // sshd's sessions run in sessions of their own (setsid), so stopping the
    // listener leaves a command that is still running (a hung probe) behind:
    // find every descendant first, and end them by process group after.
    const leftovers = started.flatMap(({ child }) => (child.pid === undefined ? [] : descendantsOf(child.pid)));
    await Promise.all(
      started.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    for (const { pid, pgid } of leftovers) {
      try {
        // A whole group only when this descendant leads it (sshd's setsid), never a group it merely shares.
        process.kill(pgid === pid ? -pid : pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const node of nodes) {
      const dir = join(node.paths.state, 'openssh');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'authorized_keys'), `${clientPublicKey}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'login.sh'), renderLoginScript(node), { mode: 0o755 });
      let child: ChildProcess | undefined;
      let port = 0;
      for (let attempt = 0; attempt < 3 && !child; attempt++) {
        port = await freePort(host);
        writeFileSync(join(dir, 'sshd_config'), renderConfig(node, host, port, user, dir));
        try {
          child = await startSshd(join(dir, 'sshd_config'), host, port);
        } catch (err) {
          if (attempt === 2) throw err;
        }
      }
      if (!child?.pid) throw new FleetError('internal', `could not start sshd for ${node.name}`);
      started.push({ node: { name: node.name, host, port, user, hostKey: node.hostKey(), pid: child.pid }, child });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes: started.map((s) => s.node),
    knownHosts: () => started.map(({ node }) => `[${node.host}]:${node.port} ${node.hostKey}\n`).join(''),
    stop,
  };
}
