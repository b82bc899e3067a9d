// THE contract with a Mac's userland: every utility the reconciler may run on
// a node over SSH, with every option it uses, each with what macOS's own man
// page says. Two things hold the product to it:
//   - test/shell/userland-contract.test.ts parses every command line the
//     product can send and fails on a utility or option missing here;
//   - the simulated Mac (sim/mac-userland.ts) puts exactly these utilities on
//     its PATH, at their macOS paths, and refuses any other option of a
//     pass-through utility the way BSD getopt does ("illegal option -- x").
// So a GNU-only flag fails a test instead of failing on a user's first real run.
//
// A Mac runs `ssh node 'cmd'` as `zsh -c 'cmd'` (not a login shell) with
// PATH=/usr/bin:/bin:/usr/sbin:/sbin. Homebrew's programs are not on it: they
// are named by absolute path through macPath(), the one seam with the
// simulator: "${FLEET_ROOT-}" is empty on a Mac and the node's own root
// directory in the simulator.
//
// `verified`: `checked` when the entry was read in Apple's own sources or man
// page (apple-oss-distributions) or a real macOS transcript, `unverified` when
// not; the source is named either way.
import { raw, type ShellLine } from './quote.ts';

export interface MacOption {
  /** The option takes an argument (the next word, or the rest of a short-option cluster). */
  readonly arg: boolean;
  /** What macOS's man page says it does (paraphrased). */
  readonly man: string;
}

export interface MacSubcommand {
  readonly man: string;
  readonly options?: Readonly<Record<string, MacOption>>;
}

export interface MacUtility {
  readonly name: string;
  /** Where macOS keeps it; Homebrew's under the prefix (`<prefix>/bin/brew`). */
  readonly path: string;
  readonly provider: 'system' | 'homebrew';
  /** zsh and POSIX sh run it themselves; the file exists too. */
  readonly builtin?: true;
  readonly purpose: string;
  /** The man page's SYNOPSIS. */
  readonly synopsis: string;
  /**
   * How options are read. `getopt`: BSD getopt(3), short options that cluster,
   * stopping at the first operand or `--`. `words`: each option is a word of
   * its own (long options, `-productVersion`), anywhere before `--`.
   */
  readonly syntax: 'getopt' | 'words';
  readonly options: Readonly<Record<string, MacOption>>;
  /** The first operand names a subcommand (launchctl list, brew install). */
  readonly subcommands?: Readonly<Record<string, MacSubcommand>>;
  /** find's expression: primaries with the number of words each takes. */
  readonly primaries?: Readonly<Record<string, { readonly args: number | 'exec'; readonly man: string }>>;
  /** The utility runs its operands as a command (sudo, env): they are checked as one. */
  readonly runsCommand?: true;
  /** What BSD getopt prints for an unknown option, after `name: illegal option -- x`. */
  readonly usage?: string;
  /** Exit status of that usage error. */
  readonly usageExit?: number;
  /**
   * The implementation's whole getopt(3) option string, every option macOS
   * accepts (not only the ones the product uses): the simulator refuses what
   * is not in it. Absent where the simulator has a stand-in of its own.
   */
  readonly getopt?: string;
  /** Also takes the historical `-N` for `-n N` as its first argument (head, tail). */
  readonly obsoleteCount?: true;
  readonly verified: 'checked' | 'unverified';
  readonly source: string;
}

const APPLE = 'github.com/apple-oss-distributions';
const o = (man: string): MacOption => ({ arg: false, man });
const a = (man: string): MacOption => ({ arg: true, man });

export const MAC_UTILITIES = [
  // ---- facts about the Mac --------------------------------------------------
  {
    name: 'sw_vers', path: '/usr/bin/sw_vers', provider: 'system', purpose: 'macOS version and build (observe)',
    synopsis: 'sw_vers [-productName | -productVersion | -productVersionExtra | -buildVersion]', syntax: 'words',
    options: { '-productVersion': o('print only the product version') },
    verified: 'unverified', source: `${APPLE}/ProductVersion? (sw_vers(1))`,
  },
  {
    name: 'uname', path: '/usr/bin/uname', provider: 'system', purpose: 'architecture: arm64 or x86_64 (observe)',
    synopsis: 'uname [-amnoprsv]', syntax: 'getopt',
    options: { '-m': o('print the machine hardware name') },
    usage: 'usage: uname [-amnoprsv]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/shell_cmds uname/uname.1`,
  },
  {
    name: 'sysctl', path: '/usr/sbin/sysctl', provider: 'system', purpose: 'RAM, CPU, model, Apple Silicon (observe)',
    synopsis: 'sysctl [-bdehiNnoqx] name[=value] ...', syntax: 'getopt',
    options: { '-n': o('print only the value, not the name') },
    usage: 'usage: sysctl [-bdehiNnoqx] name[=value] ...\n       sysctl [-bdehNnoqx] -a', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/system_cmds sysctl.tproj/sysctl.8`,
  },
  {
    name: 'scutil', path: '/usr/sbin/scutil', provider: 'system', purpose: 'get and set ComputerName, HostName, LocalHostName',
    synopsis: 'scutil --get pref | --set pref [newval]', syntax: 'words',
    options: { '--get': o('print the named preference (ComputerName, HostName, LocalHostName)'), '--set': o('set the named preference to the value given (root)') },
    verified: 'unverified', source: `${APPLE}/configd scutil.tproj/scutil.8`,
  },
  {
    name: 'hostname', path: '/bin/hostname', provider: 'system', purpose: "the node's host name, as `fleet verify` shows it",
    synopsis: 'hostname [-f] [-s | -d] [name-of-host]', syntax: 'getopt', options: {},
    usage: 'usage: hostname [-f] [-s | -d] [name-of-host]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/shell_cmds hostname/hostname.1`,
  },
  {
    name: 'id', path: '/usr/bin/id', provider: 'system', purpose: 'uid for the gui/<uid> launchd domain',
    synopsis: 'id [-Ggnpru] [user]', syntax: 'getopt',
    options: { '-u': o('print the effective user id as a number') },
    usage: 'usage: id [user]\n       id -A\n       id -F [user]\n       id -G [-n] [user]\n       id -M\n       id -P [user]\n       id -g [-nr] [user]\n       id -p [user]\n       id -u [-nr] [user]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/shell_cmds id/id.1`,
  },
  {
    name: 'ipconfig', path: '/usr/sbin/ipconfig', provider: 'system', purpose: "the node's LAN address (heartbeat, observe)",
    synopsis: 'ipconfig getifaddr interface-name', syntax: 'words', options: {},
    subcommands: { getifaddr: { man: 'print the IPv4 address of the interface; none: no output, exit 1' } },
    verified: 'unverified', source: `${APPLE}/bootp ipconfig.tproj/ipconfig.8`,
  },
  {
    name: 'date', path: '/bin/date', provider: 'system', purpose: 'heartbeat timestamps in UTC',
    synopsis: 'date [-jnRu] [-I[date|hours|minutes|seconds]] [-f input_fmt] [-r filename | seconds] [-v [+|-]val[y|m|w|d|H|M|S]] [+output_fmt]', syntax: 'getopt',
    options: { '-u': o('display or set the date in UTC') },
    usage: 'usage: date [-jnRu] [-I[date|hours|minutes|seconds]] [-f input_fmt]\n            [-r filename|seconds] [-v[+|-]val[y|m|w|d|H|M|S]]\n            [[[[mm]dd]HH]MM[[cc]yy][.SS] | new_date] [+output_fmt]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/shell_cmds date/date.1`,
  },
  {
    name: 'df', path: '/bin/df', provider: 'system', purpose: 'free space on the volume holding ~/.ollama',
    synopsis: 'df [-b | -g | -H | -h | -k | -m | -P] [-ailn] [-T type] [-t] [filesystem ...]', syntax: 'getopt',
    options: { '-P': o('POSIX output: one line per file system, the POSIX column headers'), '-k': o('1024-byte blocks') },
    usage: 'usage: df [-b | -g | -H | -h | -k | -m | -P] [-ailn] [-T type] [-t] [filesystem ...]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/file_cmds df/df.1`,
  },
  {
    name: 'du', path: '/usr/bin/du', provider: 'system', purpose: 'size of ~/.ollama/models',
    synopsis: 'du [-Aclnx] [-H | -L | -P] [-g | -h | -k | -m] [-a | -s | -d depth] [-B blocksize] [-I mask] [-t threshold] [file ...]', syntax: 'getopt',
    options: { '-s': o('one entry per operand: its total'), '-k': o('1024-byte blocks') },
    usage: 'usage: du [-Aclnx] [-H | -L | -P] [-g | -h | -k | -m] [-a | -s | -d depth] [-B blocksize] [-I mask] [-t threshold] [file ...]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/file_cmds du/du.1`,
  },
  // ---- root, launchd, cron ---------------------------------------------------
  {
    name: 'sudo', path: '/usr/bin/sudo', provider: 'system', purpose: 'root for renames, never prompting',
    synopsis: 'sudo [-n] command [arg ...]', syntax: 'getopt', runsCommand: true,
    options: { '-n': o('non-interactive: fail with "a password is required" instead of prompting') },
    verified: 'unverified', source: 'sudo(8), sudo.ws',
  },
  {
    name: 'launchctl', path: '/bin/launchctl', provider: 'system', purpose: 'the Ollama launchd agent',
    synopsis: 'launchctl subcommand [arguments ...]', syntax: 'words', options: {},
    subcommands: {
      list: { man: 'with a label: that job\'s dictionary, exit 113 when not loaded' },
      bootstrap: { man: 'bootstrap domain-target service-path: load the agent into gui/<uid>' },
      bootout: { man: 'bootout service-target: unload the agent' },
      kickstart: { man: 'kickstart [-k] service-target: start the service; -k kills a running one first', options: { '-k': o('kill the running instance before restarting it') } },
    },
    verified: 'unverified', source: 'launchctl(1), macOS 14',
  },
  {
    name: 'plutil', path: '/usr/bin/plutil', provider: 'system', purpose: 'lint a plist before loading it',
    synopsis: 'plutil -lint file ...', syntax: 'words',
    options: { '-lint': o('check the files for syntax errors: "file: OK", exit 0') },
    verified: 'unverified', source: 'plutil(1)',
  },
  {
    name: 'crontab', path: '/usr/bin/crontab', provider: 'system', purpose: 'read (-l) and install (-) the heartbeat line',
    synopsis: 'crontab [-u user] file\ncrontab [-u user] { -l | -r | -e }', syntax: 'getopt',
    options: { '-l': o('print the current crontab; none: "crontab: no crontab for USER", exit 1') },
    usage: 'usage: crontab [-u user] file\n       crontab [-u user] { -l | -r | -e }', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/cron crontab/crontab.1`,
  },
  // ---- network -----------------------------------------------------------------
  {
    name: 'curl', path: '/usr/bin/curl', provider: 'system', purpose: "the node's own Ollama (observe); the Homebrew installer; heartbeat POSTs",
    synopsis: 'curl [options / URLs]', syntax: 'getopt',
    options: {
      '-s': o('silent: no progress meter or error messages'),
      '-S': o('with -s, still show an error message when it fails'),
      '-f': o('fail with exit 22 on HTTP errors, no body'),
      '-L': o('follow redirects'),
      '-m': a('maximum time in seconds for the whole operation'),
      '--connect-timeout': a('maximum time in seconds for the connection'),
      '-w': a('write out variables (%{http_code}, %{exitcode}) after the transfer'),
      '-o': a('write the body to this file'),
      '-X': a('request method'),
      '-H': a('extra header'),
      '-d': a('POST this data'),
    },
    verified: 'unverified', source: 'curl(1) 8.7.1 (macOS 15)',
  },
  // ---- files and text ----------------------------------------------------------
  {
    name: 'cat', path: '/bin/cat', provider: 'system', purpose: 'write a file from stdin',
    synopsis: 'cat [-belnstuv] [file ...]', syntax: 'getopt', options: {},
    getopt: 'belnstuv', usage: 'usage: cat [-belnstuv] [file ...]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/text_cmds cat/cat.1`,
  },
  {
    name: 'mkdir', path: '/bin/mkdir', provider: 'system', purpose: 'managed directories',
    synopsis: 'mkdir [-pv] [-m mode] directory_name ...', syntax: 'getopt',
    options: { '-p': o('create intermediate directories; no error if the directory exists') },
    getopt: 'm:pv', usage: 'usage: mkdir [-pv] [-m mode] directory_name ...', usageExit: 64,
    verified: 'unverified', source: `${APPLE}/file_cmds mkdir/mkdir.1`,
  },
  {
    name: 'rm', path: '/bin/rm', provider: 'system', purpose: 'temporaries and removed files',
    synopsis: 'rm [-f | -i] [-dIPRrvWx] file ...', syntax: 'getopt',
    options: { '-f': o('no error for a missing file, no prompt') },
    getopt: 'dfiIPRrvWx', usage: 'usage: rm [-f | -i] [-dIPRrvWx] file ...\n       unlink [--] file', usageExit: 64,
    verified: 'unverified', source: `${APPLE}/file_cmds rm/rm.1`,
  },
  {
    name: 'mv', path: '/bin/mv', provider: 'system', purpose: 'put a complete file in place',
    synopsis: 'mv [-f | -i | -n] [-hv] source target', syntax: 'getopt',
    options: { '-f': o('overwrite without asking') },
    getopt: 'fhinv', usage: 'usage: mv [-f | -i | -n] [-hv] source target\n       mv [-f | -i | -n] [-v] source ... directory', usageExit: 64,
    verified: 'unverified', source: `${APPLE}/file_cmds mv/mv.1`,
  },
  {
    name: 'chmod', path: '/bin/chmod', provider: 'system', purpose: 'file modes (octal)',
    synopsis: 'chmod [-fhv] [-R [-H | -L | -P]] mode file ...', syntax: 'getopt', options: {},
    usage: 'usage:\tchmod [-fhv] [-R [-H | -L | -P]] [-a | +a | =a  [i][# [ n]]] mode|entry file ...\n\tchmod [-fhv] [-R [-H | -L | -P]] [-E | -C | -N | -i | -I] file ...', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/file_cmds chmod/chmod.1`,
  },
  {
    name: 'head', path: '/usr/bin/head', provider: 'system', purpose: 'read managed files and manifests (observe)',
    synopsis: 'head [-n count | -c bytes] [file ...]', syntax: 'getopt',
    options: { '-c': a('print the first bytes of each file'), '-n': a('print the first lines of each file') },
    getopt: 'c:n:', obsoleteCount: true, usage: 'usage: head [-n lines | -c bytes] [file ...]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/text_cmds head/head.1`,
  },
  {
    name: 'tail', path: '/usr/bin/tail', provider: 'system', purpose: 'trim the heartbeat log',
    synopsis: 'tail [-F | -f | -r] [-q] [-b number | -c number | -n number] [file ...]', syntax: 'getopt',
    options: { '-n': a('the last lines') },
    getopt: 'Fb:c:fn:qr', obsoleteCount: true, usage: 'usage: tail [-F | -f | -r] [-q] [-b # | -c # | -n #] [file ...]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/text_cmds tail/tail.1`,
  },
  {
    name: 'tr', path: '/usr/bin/tr', provider: 'system', purpose: "strip wc's padding",
    synopsis: 'tr [-Ccsu] string1 string2\ntr [-Ccu] -d string1', syntax: 'getopt',
    options: { '-d': o('delete the characters of string1') },
    getopt: 'Ccdsu', usage: 'usage: tr [-Ccsu] string1 string2\n       tr [-Ccu] -d string1\n       tr [-Ccu] -s string1\n       tr [-Ccu] -ds string1 string2', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/text_cmds tr/tr.1`,
  },
  {
    name: 'wc', path: '/usr/bin/wc', provider: 'system', purpose: 'check a written file is complete; log length',
    synopsis: 'wc [-Lclmw] [file ...]', syntax: 'getopt',
    options: { '-c': o('bytes'), '-l': o('lines') },
    usage: 'usage: wc [-Lclmw] [file ...]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/text_cmds wc/wc.1`,
  },
  {
    name: 'find', path: '/usr/bin/find', provider: 'system', purpose: 'partial blobs, manifests, Homebrew kegs (observe)',
    synopsis: 'find [-H | -L | -P] [-EXdsx] [-f path] path ... [expression]', syntax: 'getopt', options: {},
    primaries: {
      '-type': { args: 1, man: 'file type: f regular file, d directory' },
      '-name': { args: 1, man: 'last path component matches the pattern' },
      '-mindepth': { args: 1, man: 'ignore files less than n levels below the operands' },
      '-maxdepth': { args: 1, man: 'descend at most n levels below the operands' },
      '-exec': { args: 'exec', man: 'run the utility; `{} +` passes as many paths as fit' },
    },
    usage: 'usage: find [-H | -L | -P] [-EXdsx] [-f path] path ... [expression]\n       find [-H | -L | -P] [-EXdsx] -f path [path ...] [expression]', usageExit: 1,
    verified: 'unverified', source: `${APPLE}/shell_cmds find/find.1`,
  },
  {
    name: 'test', path: '/bin/test', provider: 'system', builtin: true, purpose: 'file tests and string comparison',
    synopsis: 'test expression\n[ expression ]', syntax: 'words', options: {},
    verified: 'unverified', source: `${APPLE}/shell_cmds test/test.1`,
  },
  {
    name: '[', path: '/bin/[', provider: 'system', builtin: true, purpose: 'test, spelled with brackets',
    synopsis: '[ expression ]', syntax: 'words', options: {},
    verified: 'unverified', source: `${APPLE}/shell_cmds test/test.1`,
  },
  {
    name: 'printf', path: '/usr/bin/printf', provider: 'system', builtin: true, purpose: 'write text exactly (never echo: zsh\'s echo reads backslashes)',
    synopsis: 'printf format [arguments ...]', syntax: 'words', options: {},
    verified: 'unverified', source: `${APPLE}/shell_cmds printf/printf.1`,
  },
  {
    name: 'echo', path: '/bin/echo', provider: 'system', builtin: true, purpose: 'fixed words only (probe markers)',
    synopsis: 'echo [-n] [string ...]', syntax: 'words', options: {},
    verified: 'unverified', source: `${APPLE}/shell_cmds echo/echo.1`,
  },
  {
    name: 'true', path: '/usr/bin/true', provider: 'system', builtin: true, purpose: 'sudo -n true: is sudo passwordless',
    synopsis: 'true', syntax: 'words', options: {},
    verified: 'unverified', source: `${APPLE}/shell_cmds true/true.1`,
  },
  {
    name: 'false', path: '/usr/bin/false', provider: 'system', builtin: true, purpose: 'a failed probe section',
    synopsis: 'false', syntax: 'words', options: {},
    verified: 'unverified', source: `${APPLE}/shell_cmds false/false.1`,
  },
  {
    name: 'bash', path: '/bin/bash', provider: 'system', purpose: "the Homebrew installer (bash 3.2 on macOS); cron's heartbeat line",
    synopsis: 'bash [options] [file]', syntax: 'getopt', options: { '-c': o('read commands from the first operand') },
    verified: 'unverified', source: 'bash(1), GNU bash 3.2.57 (macOS)',
  },
  // ---- Homebrew ---------------------------------------------------------------
  {
    name: 'brew', path: '<prefix>/bin/brew', provider: 'homebrew', purpose: 'formulae and casks; stop brew services',
    synopsis: 'brew command [--verbose|-v] [options] [formula] ...', syntax: 'words', options: {},
    subcommands: {
      install: { man: 'install a formula, or with --cask a cask', options: { '--cask': o('treat the names as casks') } },
      uninstall: { man: 'uninstall a formula, or with --cask a cask', options: { '--cask': o('treat the names as casks') } },
      services: { man: 'services stop NAME: unload Homebrew\'s own agent for a formula' },
    },
    verified: 'unverified', source: 'docs.brew.sh/Manpage',
  },
  {
    name: 'ollama', path: '<prefix>/bin/ollama', provider: 'homebrew', purpose: 'the CLI\'s version when it is not Homebrew\'s; `ollama serve` run by launchd',
    synopsis: 'ollama [flags] | ollama [command]', syntax: 'words', options: { '--version': o('print the client (and server) version') },
    subcommands: { list: { man: 'the installed models as a table' }, serve: { man: 'run the server' } },
    verified: 'unverified', source: 'github.com/ollama/ollama cmd/cmd.go',
  },
] as const satisfies readonly MacUtility[];

export type MacUtilityName = (typeof MAC_UTILITIES)[number]['name'];

/** The entry for a utility name, or undefined when the contract has none. */
export function macUtility(name: string): MacUtility | undefined {
  return (MAC_UTILITIES as readonly MacUtility[]).find((u) => u.name === name);
}

/** The PATH of an SSH command on a Mac: `zsh -c` in a non-login session. */
export const MAC_SSH_PATH = '/usr/bin:/bin:/usr/sbin:/sbin';

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
