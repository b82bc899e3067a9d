// THE list of macOS commands the reconciler may run on a node. Anything an
// observer or an applier sends over SSH uses only these (plus the POSIX
// utilities below, which behave the same on macOS and on the simulator's
// Linux host). The simulator implements exactly MACOS_COMMANDS: a stand-in per
// `system` command in reconciler/src/sim/macos/bin/, and the `homebrew` ones
// appear when Homebrew (or `brew install ollama`) puts them under the prefix.
// test/sim/commands-list.test.ts fails when the two drift apart.
//
// Absolute Mac paths: a command line names Homebrew's files as
//   "${FLEET_ROOT-}/opt/homebrew/bin/brew"
// (built with sh`${raw('"${FLEET_ROOT-}"')}/opt/homebrew/bin/brew` or macPath()).
// FLEET_ROOT is unset on a real Mac, so the path is the real one; a simulated
// node sets it to its own filesystem root (<stateDir>/nodes/<name>/root), so the
// same command line finds the simulated Homebrew. It is the only seam between
// the sim and a Mac in command lines; nothing else may read FLEET_ROOT.
import { raw, type ShellLine } from './quote.ts';

export interface MacCommand {
  readonly name: string;
  /** `system`: ships with macOS, on the non-login PATH. `homebrew`: under the Homebrew prefix, call by absolute path. */
  readonly provider: 'system' | 'homebrew';
  readonly purpose: string;
}

export const MACOS_COMMANDS = [
  { name: 'sw_vers', provider: 'system', purpose: 'macOS version and build (observe)' },
  { name: 'uname', provider: 'system', purpose: 'architecture with -m: arm64 or x86_64 (observe)' },
  { name: 'sysctl', provider: 'system', purpose: 'RAM, CPU, model, Rosetta, GPU wired limit (observe; set iogpu.wired_limit_mb as root)' },
  { name: 'system_profiler', provider: 'system', purpose: 'SPHardwareDataType for a human-facing hardware report' },
  { name: 'scutil', provider: 'system', purpose: 'get/set ComputerName, HostName, LocalHostName' },
  { name: 'hostname', provider: 'system', purpose: 'the derived host name (informational only)' },
  { name: 'sudo', provider: 'system', purpose: 'root for renames and settings, always with -n so it never prompts' },
  { name: 'systemsetup', provider: 'system', purpose: 'Remote Login state (-getremotelogin, root)' },
  { name: 'pmset', provider: 'system', purpose: 'keep a server node awake (-a sleep 0 disksleep 0), read with -g' },
  { name: 'df', provider: 'system', purpose: 'free space on the volume holding ~/.ollama (-Pk)' },
  { name: 'du', provider: 'system', purpose: 'size of ~/.ollama/models' },
  { name: 'launchctl', provider: 'system', purpose: 'the Ollama launchd agent: list, bootstrap, bootout, kickstart; list homebrew.mxcl.ollama (what brew services reports)' },
  { name: 'plutil', provider: 'system', purpose: 'lint a plist before loading it; -convert json to read one' },
  { name: 'crontab', provider: 'system', purpose: 'read (-l) and install (-) the heartbeat line' },
  { name: 'ipconfig', provider: 'system', purpose: 'getifaddr en0/en1: the node\'s LAN address' },
  { name: 'id', provider: 'system', purpose: 'uid for the gui/<uid> launchd domain (-u)' },
  { name: 'date', provider: 'system', purpose: 'the node\'s clock (+%s) to detect skew; heartbeat timestamps' },
  { name: 'curl', provider: 'system', purpose: 'probe Ollama on the node\'s localhost; fetch the Homebrew installer; heartbeat POSTs' },
  { name: 'brew', provider: 'homebrew', purpose: 'install formulae and casks, brew services stop; installed by the Homebrew installer' },
  { name: 'ollama', provider: 'homebrew', purpose: 'ollama list/pull/rm/ps/--version; `ollama serve` run by launchd' },
] as const satisfies readonly MacCommand[];

export type MacCommandName = (typeof MACOS_COMMANDS)[number]['name'];

/**
 * Utilities the reconciler's command lines may also use; they behave the same
 * on macOS and Linux for the options used, so the simulator takes the host's.
 */
export const POSIX_UTILITIES = [
  'sh', 'bash', 'cat', 'printf', 'echo', 'test', 'mkdir', 'mv', 'rm', 'cp', 'chmod', 'ln', 'ls', 'tail', 'head',
  'grep', 'sed', 'tr', 'wc', 'true', 'false', 'command', 'stat', 'awk', 'sort', 'touch', 'env', 'dirname', 'basename', 'find',
] as const;

/** The Homebrew prefix for an architecture. */
export function brewPrefix(arch: 'arm64' | 'x86_64'): '/opt/homebrew' | '/usr/local' {
  return arch === 'arm64' ? '/opt/homebrew' : '/usr/local';
}

/**
 * An absolute Mac path (e.g. `/opt/homebrew/bin/brew`) as a command-line word
 * that honours the simulator's FLEET_ROOT; the path itself must be safe text.
 */
export function macPath(path: string): ShellLine {
  if (!/^\/[A-Za-z0-9._/ -]*$/.test(path)) throw new Error(`macPath: not a plain absolute path: ${path}`);
  return raw(`"\${FLEET_ROOT-}"'${path}'`);
}

/** The official unattended Homebrew installer URL, which the simulator's curl serves locally. */
export const HOMEBREW_INSTALL_URL = 'https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh';
