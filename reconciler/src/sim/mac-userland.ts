// A simulated Mac's userland and the way its SSH commands run: `zsh -c` with
// PATH=/usr/bin:/bin:/usr/sbin:/sbin, as macOS's sshd runs them, where those
// four directories hold exactly the utilities of shell/commands.ts at their
// macOS paths (under the node's FLEET_ROOT) and nothing else:
//   - a stand-in of sim/macos/bin when macOS's output or behaviour is its own;
//   - else the host's utility behind a wrapper that accepts only the options
//     macOS's getopt string has and refuses the rest as BSD does
//     ("rm: illegal option -- -"), so a GNU-only flag fails here too.
// A utility the contract does not list is "zsh:1: command not found: x".
//
// Node scripts (cron jobs, heartbeat.sh) get the same userland, and every
// process a node starts carries proxy variables that send any web request
// not bound for loopback to the fleet's egress trap (sim/egress-trap.ts),
// which refuses and records it: even a script that calls /usr/bin/curl by
// its host path cannot reach a real network.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FleetError } from '../errors.ts';
import { MAC_SSH_PATH, MAC_UTILITIES, type MacUtility } from '../shell/commands.ts';
import { quote } from '../shell/quote.ts';
import { STANDINS_DIR } from './layout.ts';

/** The directories of a Mac's non-login PATH, in order. */
export const MAC_PATH_DIRS = MAC_SSH_PATH.split(':');

/** cron's PATH on macOS (crontab(5)): no /usr/sbin, which is why heartbeat.sh extends it. */
export const MAC_CRON_PATH = '/usr/bin:/bin';

const HOST_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/**
 * The rest of a Mac's userland that a person (or a test acting as one) types
 * at a node: the guide's troubleshooting (`launchctl list | grep ollama`,
 * `tail -50`, `df -h`), nothing the product sends, which only the contract
 * may name. Each at its macOS path; `sed` and `stat` are BSD stand-ins.
 * Programs that open network connections of their own (ssh, scp, git, nc,
 * python3, perl) are left out on purpose: on a simulated Mac they are
 * "command not found", never a way off loopback.
 */
export const MAC_EXTRA_UTILITIES: readonly { name: string; path: string }[] = [
  ...['ls', 'cp', 'ln', 'pwd', 'sleep', 'kill', 'ps', 'rmdir', 'expr'].map((name) => ({ name, path: `/bin/${name}` })),
  ...['grep', 'sed', 'awk', 'stat', 'env', 'sort', 'uniq', 'cut', 'xargs', 'tee', 'touch', 'basename', 'dirname', 'which', 'tar',
    'gzip', 'shasum', 'openssl', 'mktemp', 'readlink', 'seq', 'base64', 'od', 'xxd', 'less', 'more', 'whoami', 'uptime', 'file',
    'cmp', 'diff', 'nohup', 'printenv', 'yes', 'pgrep', 'pkill', 'killall'].map((name) => ({ name, path: `/usr/bin/${name}` })),
  { name: 'chown', path: '/usr/sbin/chown' },
];

/** zsh, which runs every SSH command (macOS's login shell), or undefined when the host has none. */
export function findZsh(): string | undefined {
  return ['/bin/zsh', '/usr/bin/zsh', '/usr/local/bin/zsh', '/opt/homebrew/bin/zsh'].find((p) => existsSync(p));
}

/** What to tell a person whose machine has no zsh. */
export const NO_ZSH_MESSAGE =
  'the simulated Macs run SSH commands under zsh, as macOS does, and zsh is not installed here (Debian/Ubuntu: apt-get install zsh; every Mac has /bin/zsh)';

export function requireZsh(): string {
  const zsh = findZsh();
  if (!zsh) throw new FleetError('not-found', NO_ZSH_MESSAGE);
  return zsh;
}

function hostUtility(name: string): string | undefined {
  return HOST_DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** getopts' option string for a getopt utility's own options (macOS's full set, not only the ones the product uses). */
function optionString(u: MacUtility): string {
  if (u.getopt !== undefined) return u.getopt;
  return Object.entries(u.options)
    .filter(([name]) => /^-[A-Za-z0-9]$/.test(name))
    .map(([name, opt]) => name.slice(1) + (opt.arg ? ':' : ''))
    .join('');
}

/** A POSIX sh wrapper: BSD getopt's refusal for any option macOS lacks, then the host's utility. */
export function renderStrictWrapper(u: MacUtility, hostPath: string): string {
  const usage = u.usage ?? `usage: ${u.synopsis.split('\n')[0] ?? u.name}`;
  const exit = u.usageExit ?? 1;
  const fail = (what: string): string => `printf '%s: ${what} -- %s\\n%s\\n' ${quote(u.name)} "$OPTARG" ${quote(usage)} >&2; exit ${exit}`;
  return [
    '#!/bin/sh',
    `# ${u.name} as macOS has it (${u.path}, reconciler/src/shell/commands.ts): options`,
    '# outside its getopt string are refused as BSD getopt(3) refuses them; the',
    '# host utility runs with POSIXLY_CORRECT, so options stop at the first operand,',
    `# found by its bare name so that its messages say "${u.name}:" as a Mac's do.`,
    ...(u.obsoleteCount ? ['case ${1-} in -[0-9]*) _n=${1#-}; shift; set -- -n "$_n" "$@" ;; esac'] : []),
    `while getopts ${quote(`:${optionString(u)}`)} _o; do`,
    '  case $_o in',
    `    \\?) ${fail(u.optionError ?? 'illegal option')} ;;`,
    `    :) ${fail('option requires an argument')} ;;`,
    '  esac',
    'done',
    `PATH=${quote(dirname(hostPath))} POSIXLY_CORRECT=1 exec ${quote(u.name)} "$@"`,
    '',
  ].join('\n');
}

interface Entry {
  /** The macOS path (e.g. /usr/bin/wc). */
  path: string;
  kind: 'link' | 'file';
  /** Link target, or file content. */
  value: string;
}

/** What the userland holds: every system utility of the contract, and nothing else. */
export function userlandEntries(): Entry[] {
  const standIns = new Set(readdirSync(STANDINS_DIR));
  const entries: Entry[] = [];
  for (const u of MAC_UTILITIES as readonly MacUtility[]) {
    if (u.provider !== 'system') continue;
    if (standIns.has(u.name)) {
      entries.push({ path: u.path, kind: 'link', value: join(STANDINS_DIR, u.name) });
      continue;
    }
    const host = hostUtility(u.name);
    if (!host) throw new FleetError('not-found', `the simulated Mac needs ${u.name} (${u.path} on macOS), and this machine has no ${u.name} in ${HOST_DIRS.join(', ')}`);
    if (u.syntax === 'getopt' && u.getopt !== undefined) entries.push({ path: u.path, kind: 'file', value: renderStrictWrapper(u, host) });
    else entries.push({ path: u.path, kind: 'link', value: host });
  }
  const taken = new Set(entries.map((e) => e.path));
  for (const x of MAC_EXTRA_UTILITIES) {
    if (taken.has(x.path)) continue;
    const value = standIns.has(x.name) ? join(STANDINS_DIR, x.name) : hostUtility(x.name);
    // An extra this host lacks (openssl, xxd) is simply not on the simulated Mac either.
    if (value !== undefined) entries.push({ path: x.path, kind: 'link', value });
  }
  return entries;
}

/**
 * Writes the userland once per fleet state directory (<stateDir>/userland) and
 * returns it. Synchronous, so nodes starting together never see it half built;
 * a stamp of its content makes later starts free.
 */
export function ensureMacUserland(stateDir: string): string {
  const dir = join(stateDir, 'userland');
  const entries = userlandEntries();
  const stamp = createHash('sha256').update(JSON.stringify(entries)).digest('hex');
  try {
    if (readFileSync(join(dir, '.stamp'), 'utf8') === stamp) return dir;
  } catch {
    // not built yet
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const d of MAC_PATH_DIRS) mkdirSync(join(tmp, d), { recursive: true });
  for (const e of entries) {
    const target = join(tmp, e.path);
    mkdirSync(dirname(target), { recursive: true });
    if (e.kind === 'link') symlinkSync(e.value, target);
    else writeFileSync(target, e.value, { mode: 0o755 });
  }
  writeFileSync(join(tmp, '.stamp'), stamp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/**
 * Points a node's /usr/bin, /usr/sbin, /bin and /sbin (under its FLEET_ROOT)
 * at the fleet's userland; /usr itself stays the node's own, since an Intel
 * Mac's Homebrew lives in /usr/local.
 */
export function linkMacUserland(nodeRoot: string, userland: string): void {
  for (const d of MAC_PATH_DIRS) {
    const at = join(nodeRoot, d);
    mkdirSync(dirname(at), { recursive: true });
    rmSync(at, { recursive: true, force: true });
    symlinkSync(join(userland, d), at);
  }
}

/** The node's PATH: macOS's four directories, under the node's root. */
export function nodePathOf(nodeRoot: string, path: string = MAC_SSH_PATH): string {
  return path.split(':').map((d) => join(nodeRoot, d)).join(':');
}

/**
 * Proxy variables for every process of a node: curl (and git) send what is not
 * for loopback to the egress trap, which refuses and records it.
 */
export function egressEnv(trapUrl: string | undefined): Record<string, string> {
  if (trapUrl === undefined) return {};
  const noProxy = 'localhost,127.0.0.0/8,::1';
  return {
    http_proxy: trapUrl, HTTP_PROXY: trapUrl, https_proxy: trapUrl, HTTPS_PROXY: trapUrl,
    all_proxy: trapUrl, ALL_PROXY: trapUrl, no_proxy: noProxy, NO_PROXY: noProxy,
  };
}

/** Whether a userland was built for this host's layout (the tier checks it before starting sshd). */
export function userlandBuilt(stateDir: string): boolean {
  return existsSync(join(stateDir, 'userland', '.stamp'));
}
