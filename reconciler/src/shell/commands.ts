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
  /** How many words it takes when more than one (scutil --set pref value). */
  readonly words?: number;
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
   * stopping at the first operand or `--`. `permute`: the same, but options
   * may follow operands (curl). `words`: each option is a word of its own
   * (long options, `-productVersion`), anywhere. `operands`: no options, every
   * word is an operand (test's expressions, printf's format).
   */
  readonly syntax: 'getopt' | 'permute' | 'words' | 'operands';
  readonly options: Readonly<Record<string, MacOption>>;
  /** The first operand names a subcommand (launchctl list, brew install). */
  readonly subcommands?: Readonly<Record<string, MacSubcommand>>;
  /** find's expression: primaries with the number of words each takes. */
  readonly primaries?: Readonly<Record<string, { readonly args: number | 'exec'; readonly man: string }>>;
  /** The utility runs its operands as a command (sudo, env): they are checked as one. */
  readonly runsCommand?: true;
  /** The usage text the utility prints after its complaint about an option. */
  readonly usage?: string;
  /** How it names an unknown option: getopt(3) says "illegal option", getopt_long(3) "invalid option". */
  readonly optionError?: 'invalid option';
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

const APPLE = 'apple-oss-distributions';
const TEXT = `${APPLE}/text_cmds@text_cmds-190.0.1`;
const FILE = `${APPLE}/file_cmds@file_cmds-448.0.3`;
const SHELL = `${APPLE}/shell_cmds@shell_cmds-319.0.1`;
const o = (man: string): MacOption => ({ arg: false, man });
const a = (man: string): MacOption => ({ arg: true, man });

// Versions: the tags Apple published with macOS 15 (text_cmds-190.0.1,
// file_cmds-448.0.3, shell_cmds-319.0.1, system_cmds-1012, configd-1345,
// bootp-490, cron-50, curl-158, sudo-113); where macOS 13 or 14 differ in a
// way that matters, the entry says so.
export const MAC_UTILITIES = [
  // ---- facts about the Mac --------------------------------------------------
  {
    name: 'sw_vers', path: '/usr/bin/sw_vers', provider: 'system', purpose: 'macOS version and build (observe)',
    synopsis: 'sw_vers [-productName | -productVersion | -productVersionExtra | -buildVersion]', syntax: 'words',
    options: { '-productVersion': o('print only the product version, e.g. 14.5') },
    verified: 'unverified', source: 'sw_vers(1) (closed source; the 13-15 man text was not found; output checked against transcripts in macos-commands.md)',
  },
  {
    name: 'uname', path: '/usr/bin/uname', provider: 'system', purpose: 'architecture: arm64 or x86_64 (observe)',
    synopsis: 'uname [-amnoprsv]', syntax: 'getopt', getopt: 'amnoprsv',
    options: { '-m': o('the hardware platform (sysctl hw.machine): arm64 on Apple Silicon, x86_64 on Intel') },
    usage: 'usage: uname [-amnoprsv]', usageExit: 1,
    verified: 'checked', source: `${SHELL}:uname/uname.1, uname/uname.c`,
  },
  {
    name: 'sysctl', path: '/usr/sbin/sysctl', provider: 'system', purpose: 'RAM, CPU, model, Apple Silicon (observe)',
    synopsis: 'sysctl [-bdeFhilNnoqtWx] [-B bufsize] [-f filename] name[=value[,value]] ...', syntax: 'getopt',
    options: { '-n': o("don't show the variable names") },
    usage: 'usage: sysctl [-bdeFhilNnoqtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n       sysctl [-bdeFhlNnoqtWx] [ -B <bufsize> ] -a', usageExit: 1,
    verified: 'checked', source: `${APPLE}/system_cmds@system_cmds-1012:sysctl/sysctl.8 (macOS 13/14: the first unknown name ends the run; 15 tries every name, exit status = failures)`,
  },
  {
    name: 'scutil', path: '/usr/sbin/scutil', provider: 'system', purpose: 'get and set ComputerName, HostName, LocalHostName',
    synopsis: 'scutil --get pref | --set pref [newval]', syntax: 'words',
    options: {
      '--get': a('print the preference (ComputerName, LocalHostName, HostName); unset: "<pref>: not set" on stderr, exit 1'),
      '--set': { arg: true, words: 2, man: 'set the preference to newval (or stdin); needs root' },
    },
    verified: 'checked', source: `${APPLE}/configd@configd-1345:scutil.tproj/scutil.8, scutil.tproj/prefs.c`,
  },
  {
    name: 'hostname', path: '/bin/hostname', provider: 'system', purpose: "the node's host name, as `fleet verify` shows it",
    synopsis: 'hostname [-f] [-s | -d] [name-of-host]', syntax: 'getopt', options: {},
    usage: 'usage: hostname [-f] [-s | -d] [name-of-host]', usageExit: 1,
    verified: 'checked', source: `${SHELL}:hostname/hostname.1`,
  },
  {
    name: 'id', path: '/usr/bin/id', provider: 'system', purpose: 'uid for the gui/<uid> launchd domain',
    synopsis: 'id [user] | id -u [-nr] [user] | id -g [-nr] [user] | id -G [-n] [user] | id -p [user]', syntax: 'getopt',
    options: { '-u': o('display the effective user ID as a number') },
    usage: 'usage: id [user]\n       id -A\n       id -F [user]\n       id -G [-n] [user]\n\n       id -P [user]\n       id -g [-nr] [user]\n       id -p [user]\n       id -u [-nr] [user]', usageExit: 1,
    verified: 'checked', source: `${SHELL}:id/id.1, id/id.c`,
  },
  {
    name: 'ipconfig', path: '/usr/sbin/ipconfig', provider: 'system', purpose: "the node's LAN address (heartbeat, observe)",
    synopsis: 'ipconfig getifaddr interface-name', syntax: 'words', options: {},
    subcommands: { getifaddr: { man: 'print the IP address of the first network service on the interface; none: no output, exit 1' } },
    verified: 'checked', source: `${APPLE}/bootp@bootp-490:ipconfig.tproj/ipconfig.8, ipconfig.tproj/client.c`,
  },
  {
    name: 'date', path: '/bin/date', provider: 'system', purpose: 'heartbeat timestamps in UTC (BSD date has no -d)',
    synopsis: 'date [-jnRu] [-I[date|hours|minutes|seconds]] [-f input_fmt] [-r filename | seconds] [-v [+|-]val[y|m|w|d|H|M|S]] [+output_fmt]', syntax: 'getopt',
    options: { '-u': o('display or set the date in UTC (TZ=UTC0)') },
    usage: 'usage: date [-jnRu] [-I[date|hours|minutes|seconds]] [-f input_fmt]\n            [-r filename|seconds] [-v[+|-]val[y|m|w|d|H|M|S]]\n            [[[[mm]dd]HH]MM[[cc]yy][.SS] | new_date] [+output_fmt]', usageExit: 1,
    verified: 'checked', source: `${SHELL}:date/date.1, date/date.c`,
  },
  {
    name: 'df', path: '/bin/df', provider: 'system', purpose: 'free space on the volume holding ~/.ollama',
    synopsis: 'df [--libxo] [-b | -g | -H | -h | -k | -m | -P] [-acIilntY] [-,] [-T type] [file | filesystem ...]', syntax: 'getopt',
    options: {
      '-P': o('POSIX output: 512-byte blocks unless -k, no inode columns, the POSIX headers'),
      '-k': o('1024-byte blocks; overrides -P and BLOCKSIZE'),
    },
    optionError: 'invalid option', usage: 'usage: df [--libxo] [-b | -g | -H | -h | -k | -m | -P] [-acIilnY] [-,] [-T type] [-t type]\n          [file | filesystem ...]', usageExit: 64,
    verified: 'checked', source: `${FILE}:df/df.1, df/df.c prtstat (header "Filesystem 1024-blocks Used Available Capacity  Mounted on")`,
  },
  {
    name: 'du', path: '/usr/bin/du', provider: 'system', purpose: 'size of ~/.ollama/models',
    synopsis: 'du [-Aclnx] [-H | -L | -P] [-g | -h | -k | -m] [-a | -s | -d depth] [-B blocksize] [-I mask] [-t threshold] [file ...]', syntax: 'getopt',
    options: { '-s': o('one entry per operand (same as -d 0)'), '-k': o('1024-byte blocks') },
    optionError: 'invalid option', usage: 'usage: du [-Aclnx] [-H | -L | -P] [-g | -h | -k | -m] [-a | -s | -d depth] [-B blocksize] [-I mask] [-t threshold] [file ...]', usageExit: 64,
    verified: 'checked', source: `${FILE}:du/du.1`,
  },
  // ---- root, launchd, cron ---------------------------------------------------
  {
    name: 'sudo', path: '/usr/bin/sudo', provider: 'system', purpose: 'root for renames, never prompting',
    synopsis: 'sudo [-ABbEHnPS] [-C num] [-g group] [-h host] [-p prompt] [-u user] command [arg ...]', syntax: 'getopt', runsCommand: true,
    options: { '-n': o('non-interactive: never prompt; when a password is needed print "sudo: a password is required" and exit 1') },
    verified: 'checked', source: `${APPLE}/sudo@sudo-113:sudo/docs/sudo.mdoc.in, plugins/sudoers/logging.c`,
  },
  {
    name: 'launchctl', path: '/bin/launchctl', provider: 'system', purpose: 'the Ollama launchd agent',
    synopsis: 'launchctl subcommand [arguments ...]', syntax: 'words', options: {},
    subcommands: {
      list: { man: "list [label]: with a label, that job's dictionary; not loaded: exit 113" },
      bootstrap: { man: 'bootstrap domain-target service-path: load the service into the domain (gui/<uid>)' },
      bootout: { man: 'bootout service-target: remove the service from its domain' },
      kickstart: { man: 'kickstart [-kp] service-target: run the service now', options: { '-k': o('kill the running instance before restarting it') } },
    },
    verified: 'checked', source: 'launchctl(1) (closed source), as quoted from macOS 15 in public notes; paths and exit codes in macos-commands.md',
  },
  {
    name: 'plutil', path: '/usr/bin/plutil', provider: 'system', purpose: 'lint a plist before loading it',
    synopsis: 'plutil [command_option] [other_options] file ...', syntax: 'words',
    options: { '-lint': o('check the files for syntax errors: "file: OK" and exit 0, else the error and exit 1') },
    verified: 'checked', source: 'plutil(1) from the macOS SDK man pages (keith.github.io/xcode-man-pages/plutil.1.html)',
  },
  {
    name: 'crontab', path: '/usr/bin/crontab', provider: 'system', purpose: 'read (-l) and install (-) the heartbeat line',
    synopsis: 'crontab [-u user] file\ncrontab [-u user] { -e | -l | -r }', syntax: 'getopt', getopt: 'u:lerx:',
    options: { '-l': o('list the crontab; none: "crontab: no crontab for USER" on stderr, exit 1') },
    usage: 'crontab: usage error: unrecognized option\nusage: crontab [-u user] file\n       crontab [-u user] { -e | -l | -r }', usageExit: 1,
    verified: 'checked', source: `${APPLE}/cron@cron-50:crontab/crontab.1, crontab/crontab.c (the file operand "-" is stdin; cron runs jobs with SHELL=/bin/sh, PATH=/usr/bin:/bin)`,
  },
  // ---- network -----------------------------------------------------------------
  {
    name: 'curl', path: '/usr/bin/curl', provider: 'system', purpose: "the node's own Ollama (observe); the Homebrew installer; heartbeat POSTs",
    synopsis: 'curl [options / URLs]', syntax: 'permute',
    options: {
      '-s': o('silent: no progress meter or error messages'),
      '-S': o('with -s, still show an error message when it fails'),
      '-f': o('fail with no output and exit 22 on HTTP errors'),
      '-L': o('follow 3XX redirects'),
      '-m': a('--max-time: maximum seconds for each transfer'),
      '--connect-timeout': a('maximum seconds for the connection phase'),
      '-w': a('--write-out: variables such as %{http_code} and %{exitcode} (curl 7.75+) after the transfer'),
      '-o': a('write the body to this file'),
      '-X': a('request method, sent verbatim'),
      '-H': a('extra header'),
      '-d': a('POST the data (application/x-www-form-urlencoded unless a header says otherwise)'),
    },
    verified: 'checked', source: `${APPLE}/curl@curl-158:curl/docs/curl.1 (macOS 13.0 ships curl 7.84.0: no CIDR in NO_PROXY)`,
  },
  // ---- files and text ----------------------------------------------------------
  {
    name: 'cat', path: '/bin/cat', provider: 'system', purpose: 'write a file from stdin',
    synopsis: 'cat [-belnstuv] [file ...]', syntax: 'getopt', options: {},
    getopt: 'belnstuv', usage: 'usage: cat [-belnstuv] [file ...]', usageExit: 1,
    verified: 'checked', source: `${TEXT}:cat/cat.1`,
  },
  {
    name: 'mkdir', path: '/bin/mkdir', provider: 'system', purpose: 'managed directories',
    synopsis: 'mkdir [-pv] [-m mode] directory_name ...', syntax: 'getopt',
    options: { '-p': o("create intermediate directories as needed; no error if a directory exists") },
    getopt: 'm:pv', usage: 'usage: mkdir [-pv] [-m mode] directory_name ...', usageExit: 64,
    verified: 'checked', source: `${FILE}:mkdir/mkdir.1`,
  },
  {
    name: 'rm', path: '/bin/rm', provider: 'system', purpose: 'temporaries and removed files',
    synopsis: 'rm [-f | -i] [-dIRrvWx] file ...', syntax: 'getopt',
    options: { '-f': o("remove without asking; a missing file is no error and changes no exit status") },
    getopt: 'dfiIPRrvWx', usage: 'usage: rm [-f | -i] [-dIPRrvWx] file ...\n       unlink [--] file', usageExit: 64,
    verified: 'checked', source: `${FILE}:rm/rm.1`,
  },
  {
    name: 'mv', path: '/bin/mv', provider: 'system', purpose: 'put a complete file in place',
    synopsis: 'mv [-f | -i | -n] [-hv] source target', syntax: 'getopt',
    options: { '-f': o("don't ask before overwriting the destination") },
    getopt: 'fhinv', usage: 'usage: mv [-f | -i | -n] [-hv] source target\n       mv [-f | -i | -n] [-v] source ... directory', usageExit: 64,
    verified: 'checked', source: `${FILE}:mv/mv.1`,
  },
  {
    name: 'chmod', path: '/bin/chmod', provider: 'system', purpose: 'file modes (absolute, octal)',
    synopsis: 'chmod [-fhv] [-R [-H | -L | -P]] mode file ...', syntax: 'operands', options: {},
    verified: 'checked', source: `${FILE}:chmod/chmod.1 (an absolute mode is an octal number)`,
  },
  {
    name: 'head', path: '/usr/bin/head', provider: 'system', purpose: 'read managed files and manifests (observe)',
    synopsis: 'head [-n count | -c bytes] [file ...]', syntax: 'getopt',
    options: { '-c': a('print the first bytes of each file'), '-n': a('print the first lines of each file (0 is an error on macOS)') },
    getopt: 'c:n:', obsoleteCount: true, optionError: 'invalid option', usage: 'usage: head [-n lines | -c bytes] [file ...]', usageExit: 1,
    verified: 'checked', source: `${TEXT}:head/head.1, head/head.c (several files: "==> name <==" headers)`,
  },
  {
    name: 'tail', path: '/usr/bin/tail', provider: 'system', purpose: 'trim the heartbeat log; serve a blob from a byte offset (LAN copy)',
    synopsis: 'tail [-F | -f | -r] [-qv] [-b number | -c number | -n number] [file ...]', syntax: 'getopt',
    options: {
      '-n': a('start at the given line: +N from the start, -N or N from the end'),
      '-c': a('the location is a number of bytes: +N starts at byte N of the input (1 is the first), -N or N counts from the end'),
    },
    getopt: 'Fb:c:fn:qr', obsoleteCount: true, optionError: 'invalid option', usage: 'usage: tail [-F | -f | -r] [-q] [-b # | -c # | -n #] [file ...]', usageExit: 1,
    verified: 'checked', source: `${TEXT}:tail/tail.1 (-v is new in macOS 15)`,
  },
  {
    name: 'stat', path: '/usr/bin/stat', provider: 'system', purpose: 'the size of a partial blob (LAN copy resume)',
    synopsis: 'stat [-FLnq] [-f format | -l | -r | -s | -x] [-t timefmt] [file ...]', syntax: 'getopt',
    options: { '-f': a('display information using the format; %z is the size of the file in bytes') },
    usage: 'usage: stat [-FLnq] [-f format | -l | -r | -s | -x] [-t timefmt] [file|handle ...]', usageExit: 1,
    verified: 'checked', source: `${FILE}:stat/stat.1, stat/stat.c (getopt "f:FlLnqrst:x"; BSD's -f, not GNU's -c)`,
  },
  {
    name: 'shasum', path: '/usr/bin/shasum', provider: 'system', purpose: 'verify a copied blob or manifest against its sha256 (LAN copy)',
    synopsis: 'shasum [OPTION]... [FILE]...', syntax: 'getopt',
    options: { '-a': a('the algorithm: 1 (default), 224, 256, 384, 512...; reads standard input when no file is named and prints "<hex>  -"') },
    verified: 'unverified', source: 'perl Digest::SHA shasum(1), /usr/bin/shasum on every macOS release (sha256sum only from macOS 15: /sbin/sha256sum)',
  },
  {
    name: 'grep', path: '/usr/bin/grep', provider: 'system', purpose: "drop this fleet's per-copy key lines from authorized_keys",
    synopsis: 'grep [-abcdDEFGHhIiJLlMmnOopqRSsUVvwXxZz] [-A num] [-B num] [-C[num]] [-e pattern] [-f file] [pattern] [file ...]', syntax: 'getopt',
    options: { '-v': o('select the lines not matching any pattern'), '-F': o('the pattern is a fixed string, not a regular expression') },
    getopt: '0123456789A:B:C:D:EFGHIJLMOSRUVXZabcd:e:f:hilm:nopqrsuvwxyz', optionError: 'invalid option',
    usage: 'usage: grep [-abcdDEFGHhIiJLlMmnOopqRSsUVvwXxZz] [-A num] [-B num] [-C[num]]\n\t[-e pattern] [-f file] [--binary-files=value] [--color=when]\n\t[--context[=num]] [--directories=action] [--label] [--line-buffered]\n\t[--null] [pattern] [file ...]', usageExit: 2,
    verified: 'checked', source: `${TEXT}:grep/grep.1, grep/grep.c (getopt_long; exit 0 selected, 1 none selected, >1 error)`,
  },
  {
    name: 'ssh', path: '/usr/bin/ssh', provider: 'system', purpose: "a LAN copy: the target fetches a blob from its source with a per-copy key, the source's host key pinned",
    synopsis: 'ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address] [-c cipher_spec] [-D port] [-E log_file] [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file] [-J destination] [-L address] [-l login_name] [-m mac_spec] [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address] [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]] destination [command [argument ...]]',
    syntax: 'getopt',
    options: {
      '-F': a('the per-user configuration file; /dev/null ignores ~/.ssh/config'),
      '-i': a('the identity (private key) file'),
      '-o': a('an option in ssh_config form: IdentitiesOnly, BatchMode, StrictHostKeyChecking, UserKnownHostsFile, GlobalKnownHostsFile, ConnectTimeout, ServerAliveInterval, ServerAliveCountMax, ControlMaster (auto: share one connection), ControlPath (its socket), ControlPersist (the master stays that many seconds after its last client)'),
      '-O': a('control an active connection multiplexing master: exit asks it to exit'),
      '-p': a('the port on the remote host'),
      '-l': a('the user to log in as'),
    },
    verified: 'unverified', source: 'OpenSSH ssh(1) and ssh_config(5) (macOS ships OpenSSH 9.x; `restrict` and from= in authorized_keys need sshd 7.2+); exit 255 when ssh itself fails, else the remote status',
  },
  {
    name: 'tr', path: '/usr/bin/tr', provider: 'system', purpose: "strip wc's padding",
    synopsis: 'tr [-Ccsu] string1 string2\ntr [-Ccu] -d string1', syntax: 'getopt',
    options: { '-d': o('delete the characters of string1'), '-c': o('complement the set of characters in string1 (with -d: keep only those in it)') },
    getopt: 'Ccdsu', usage: 'usage: tr [-Ccsu] string1 string2\n       tr [-Ccu] -d string1\n       tr [-Ccu] -s string1\n       tr [-Ccu] -ds string1 string2', usageExit: 1,
    verified: 'checked', source: `${TEXT}:tr/tr.1`,
  },
  {
    name: 'wc', path: '/usr/bin/wc', provider: 'system', purpose: 'check a written file is complete; log length',
    synopsis: 'wc [--libxo] [-Lclmw] [file ...]', syntax: 'getopt',
    options: { '-c': o('the number of bytes'), '-l': o('the number of lines') },
    usage: 'usage: wc [-Lclmw] [file ...]', usageExit: 1,
    verified: 'checked', source: `${TEXT}:wc/wc.1, wc/wc.c (each count printed " %7ju": padded)`,
  },
  {
    name: 'find', path: '/usr/bin/find', provider: 'system', purpose: 'partial blobs, manifests, Homebrew kegs (observe); stale temporaries',
    synopsis: 'find [-H | -L | -P] [-EXdsx] [-f path] path ... [expression]', syntax: 'getopt', options: {},
    primaries: {
      '-type': { args: 1, man: 'true if the file is of type t: d directory, f regular file, l symbolic link, ...' },
      '-name': { args: 1, man: 'true if the last component of the path matches the shell pattern; a backslash escapes [ ] * ?' },
      '-mindepth': { args: 1, man: "always true; don't apply tests or actions at levels below n" },
      '-maxdepth': { args: 1, man: 'always true; descend at most n levels below the operands' },
      '-exec': { args: 'exec', man: 'run the utility; with `{} +`, as many paths per run as fit (like xargs)' },
    },
    usage: 'usage: find [-H | -L | -P] [-EXdsx] [-f path] path ... [expression]\n       find [-H | -L | -P] [-EXdsx] -f path [path ...] [expression]', usageExit: 1,
    verified: 'checked', source: `${SHELL}:find/find.1, find/function.c (a path operand is required)`,
  },
  {
    name: 'test', path: '/bin/test', provider: 'system', builtin: true, purpose: 'file tests and string comparison',
    synopsis: 'test expression\n[ expression ]', syntax: 'operands', options: {},
    verified: 'checked', source: `${SHELL}:test/test.1 (never "==": zsh expands a word starting with "=")`,
  },
  {
    name: '[', path: '/bin/[', provider: 'system', builtin: true, purpose: 'test, spelled with brackets',
    synopsis: '[ expression ]', syntax: 'operands', options: {},
    verified: 'checked', source: `${SHELL}:test/test.1 (a hard link of /bin/test)`,
  },
  {
    name: 'printf', path: '/usr/bin/printf', provider: 'system', builtin: true, purpose: "write text exactly (not echo: zsh's echo reads backslashes)",
    synopsis: 'printf format [arguments ...]', syntax: 'operands', options: {},
    verified: 'checked', source: `${SHELL}:printf/printf.1`,
  },
  {
    name: 'echo', path: '/bin/echo', provider: 'system', builtin: true, purpose: 'fixed words only (probe markers)',
    synopsis: 'echo [-n] [string ...]', syntax: 'operands', options: {},
    verified: 'checked', source: `${SHELL}:echo/echo.1 (zsh's builtin echo interprets backslashes; /bin/sh's prints -n literally)`,
  },
  {
    name: 'true', path: '/usr/bin/true', provider: 'system', builtin: true, purpose: 'sudo -n true: is sudo passwordless',
    synopsis: 'true', syntax: 'operands', options: {},
    verified: 'checked', source: `${SHELL}:true/true.1`,
  },
  {
    name: 'false', path: '/usr/bin/false', provider: 'system', builtin: true, purpose: 'a failed probe section',
    synopsis: 'false', syntax: 'operands', options: {},
    verified: 'checked', source: `${SHELL}:false/false.1`,
  },
  // ---- the node's heartbeat key (install-secret) and heartbeat.sh's signature ----
  {
    name: 'umask', path: '/usr/bin/umask', provider: 'system', builtin: true, purpose: 'install-secret: 077 before the key file exists, so it is never readable by others',
    synopsis: 'umask [-p] [-S] [mode]', syntax: 'operands', options: {},
    verified: 'unverified', source: 'sh(1)/zsh builtin; /usr/bin/umask is the generic builtin wrapper (shell_cmds builtin/builtin.sh)',
  },
  {
    name: 'openssl', path: '/usr/bin/openssl', provider: 'system', purpose: "heartbeat.sh: SHA-256 of stdin for the HMAC (LibreSSL ships with macOS, no Homebrew); the key never on a command line",
    synopsis: 'openssl command [command_opts] [command_args]', syntax: 'words', options: {},
    subcommands: {
      dgst: { man: 'dgst [-cdr] [-binary] [-digest] [-hex] [file ...]: digest of the files, or of stdin', options: { '-sha256': o('the SHA-256 digest (-digest: any digest name)'), '-r': o('coreutils format: the hex digest, a space, "*stdin"') } },
    },
    verified: 'checked', source: 'LibreSSL usr.bin/openssl/dgst.c ($OpenBSD: dgst.c,v 1.21): options binary, c, d, hex, hmac, r, -<digest>; "-r" prints "%02x..." then " *stdin"',
  },
  {
    name: 'cut', path: '/usr/bin/cut', provider: 'system', purpose: "heartbeat.sh: the 64 hex digits of openssl's -r output",
    synopsis: 'cut -b list [-n] [file ...]\ncut -c list [file ...]\ncut -f list [-s] [-w | -d delim] [file ...]', syntax: 'getopt',
    options: { '-c': a('select the character positions in list (1-64)') },
    getopt: 'b:c:d:f:snw', usage: 'usage: cut -b list [-n] [file ...]\n       cut -c list [file ...]\n       cut -f list [-s] [-w | -d delim] [file ...]', usageExit: 1,
    verified: 'unverified', source: `${TEXT}:cut/cut.1`,
  },
  {
    name: 'sed', path: '/usr/bin/sed', provider: 'system', purpose: "heartbeat.sh: split the key's hex into pairs (s/../& /g)",
    synopsis: 'sed [-Ealnru] command [file ...]', syntax: 'getopt', options: {},
    verified: 'unverified', source: `${TEXT}:sed/sed.1 (a script operand only, no options)`,
  },
  {
    name: 'bash', path: '/bin/bash', provider: 'system', purpose: "the Homebrew installer (bash 3.2.57 on macOS); cron's heartbeat line",
    synopsis: 'bash [options] [file]', syntax: 'getopt', options: { '-c': o('read commands from the first operand') },
    verified: 'checked', source: `${APPLE}/bash (GNU bash 3.2.57; no associative arrays, no \${x,,})`,
  },
  // ---- Homebrew ---------------------------------------------------------------
  {
    name: 'brew', path: '<prefix>/bin/brew', provider: 'homebrew', purpose: 'formulae and casks; stop brew services',
    synopsis: 'brew command [--verbose|-v] [options] [formula] ...', syntax: 'words', options: {},
    subcommands: {
      install: { man: 'install a formula, or with --cask a cask', options: { '--cask': o('treat the names as casks') } },
      uninstall: { man: 'uninstall a formula, or with --cask a cask', options: { '--cask': o('treat the names as casks') } },
      services: { man: "services stop NAME: unload Homebrew's own agent for a formula" },
    },
    verified: 'unverified', source: 'docs.brew.sh/Manpage',
  },
  {
    name: 'ollama', path: '<prefix>/bin/ollama', provider: 'homebrew', purpose: "the CLI's version when it is not Homebrew's; `ollama serve` run by launchd",
    synopsis: 'ollama [flags] | ollama [command]', syntax: 'words', options: { '--version': o('print the client (and server) version') },
    subcommands: { list: { man: 'the installed models as a table' }, serve: { man: 'run the server' } },
    verified: 'checked', source: 'github.com/ollama/ollama cmd/cmd.go',
  },
] as const satisfies readonly MacUtility[];

export type MacUtilityName = (typeof MAC_UTILITIES)[number]['name'];

/** The entry for a utility name, or undefined when the contract has none. */
export function macUtility(name: string): MacUtility | undefined {
  return (MAC_UTILITIES as readonly MacUtility[]).find((u) => u.name === name);
}

/** The PATH of an SSH command on a Mac: `zsh -c` in a non-login session. */
export const MAC_SSH_PATH = '/usr/bin:/bin:/usr/sbin:/sbin';

/**
 * The one seam between a Mac and the simulator, as a shell expansion: empty on
 * a Mac, the node's own root directory in the simulator. Every absolute Mac
 * path in a command line or a managed script goes through it (macPath, or
 * `"${MAC_ROOT}$dir/bin/brew"` where the path is a shell variable); a test
 * fails when FLEET_ROOT is spelled anywhere else outside sim/.
 */
export const MAC_ROOT = '${FLEET_ROOT-}';

/**
 * An absolute Mac path (e.g. `/opt/homebrew/bin/brew`) as a command-line word
 * that honours the simulator's root; the path itself must be safe text.
 */
export function macPath(path: string): ShellLine {
  if (!/^\/[A-Za-z0-9._/ -]*$/.test(path)) throw new Error(`macPath: not a plain absolute path: ${path}`);
  return raw(`"${MAC_ROOT}"'${path}'`);
}

/** The official unattended Homebrew installer URL, which the simulator's curl serves locally. */
export const HOMEBREW_INSTALL_URL = 'https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh';
