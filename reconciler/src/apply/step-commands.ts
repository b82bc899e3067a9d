// The exact remote command lines of each provisioning step, as the add-node guide's
// provision_node.sh runs them on a Mac, built only with sh``. Pure: no I/O.
//
// Paths: the plan names files by their absolute path on the node (the home
// directory observe saw), used as they are; `~/x` becomes "$HOME"/x (a quoted
// `~` does not expand). Homebrew's files go through macPath(), which honours the
// simulator's root (MAC_ROOT, shell/commands.ts).
import { FleetError } from '../errors.ts';
import { raw, sh, quote, type ShellLine } from '../shell/quote.ts';
import { HOMEBREW_INSTALL_URL, macPath } from '../shell/commands.ts';
import type { StepOf } from '../model/steps.ts';

/**
 * A name that a command on the node reads as an operand (a package, a
 * service, a host name). One that starts with `-` would be read as an option,
 * an empty one as no name at all: the schemas never let either through, and
 * this refuses them again here.
 */
export function operand(value: string, what: string): string {
  if (value.startsWith('-')) throw new FleetError('invalid-input', `${what} ${JSON.stringify(value)} starts with "-": a command on the node would read it as an option`);
  if (value === '') throw new FleetError('invalid-input', `${what} is empty: a command on the node would read it as no name at all`);
  return value;
}

/** A path on the node as a shell word. */
export function nodePath(path: string): ShellLine {
  if (path === '~' || path === '$HOME') return raw('"$HOME"');
  const home = /^(~|\$HOME)\/(.*)$/s.exec(path);
  if (home) return home[2] === '' ? raw('"$HOME"/') : sh`"$HOME"/${home[2] ?? ''}`;
  if (path.startsWith('/')) return sh`${path}`;
  // Relative paths are relative to the login directory, where SSH commands start.
  return sh`"$HOME"/${path}`;
}

/** The path as a person types it in a Terminal on the node (for manual steps). */
export function displayPath(path: string): string {
  const home = /^(~|\$HOME)\/(.*)$/s.exec(path);
  if (home) return `~/${quote(home[2] ?? '')}`;
  return quote(path);
}

export function brewPath(prefix: string): ShellLine {
  return macPath(`${prefix}/bin/brew`);
}

/** Brew never asks questions, never auto-updates in the middle of a provisioning run. */
const BREW_ENV = raw('NONINTERACTIVE=1 HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1');

export interface RemoteCommand {
  /** What the command does, for messages ("set the hostname"). */
  what: string;
  line: ShellLine;
  stdin?: string;
}

// ---- set-hostname ---------------------------------------------------------

export function hostnameCommands(step: StepOf<'set-hostname'>): RemoteCommand[] {
  const pairs: [string, string][] = [
    ['ComputerName', step.computer_name],
    ['HostName', step.host_name],
    ['LocalHostName', step.local_host_name],
  ];
  return pairs.map(([key, value]) => ({ what: `sudo -n scutil --set ${key}`, line: sh`sudo -n scutil --set ${key} ${operand(value, key)}` }));
}

/** What a person runs in a Terminal on the node when sudo needs a password. */
export function hostnameManualInstructions(step: StepOf<'set-hostname'>, node: string): string[] {
  return [
    `On ${node}, open Terminal and run (it asks for the administrator password):`,
    `sudo scutil --set ComputerName ${quote(step.computer_name)}`,
    `sudo scutil --set HostName ${quote(step.host_name)}`,
    `sudo scutil --set LocalHostName ${quote(step.local_host_name)}`,
    'Or give the admin account passwordless sudo for scutil, then run `fleet apply` again.',
  ];
}

// ---- Homebrew -------------------------------------------------------------

export function homebrewInstalledCommand(prefix: string): ShellLine {
  return sh`test -x ${brewPath(prefix)}`;
}

/** Homebrew: the official installer, unattended. */
export function homebrewInstallCommand(): ShellLine {
  return sh`NONINTERACTIVE=1 /bin/bash -c "$(curl -fsSL ${HOMEBREW_INSTALL_URL})"`;
}

export function homebrewManualInstructions(node: string): string[] {
  return [
    `Homebrew's installer needs an administrator on ${node}. On ${node}, open Terminal and run:`,
    `/bin/bash -c "$(curl -fsSL ${HOMEBREW_INSTALL_URL})"`,
    'then run `fleet apply` again.',
  ];
}

export function packageInstallCommand(prefix: string, step: StepOf<'install-package'>): ShellLine {
  const name = operand(step.name, `the ${step.package}`);
  return step.package === 'cask'
    ? sh`${BREW_ENV} ${brewPath(prefix)} install --cask ${name}`
    : sh`${BREW_ENV} ${brewPath(prefix)} install ${name}`;
}

export function packageUninstallCommand(prefix: string, step: StepOf<'uninstall-package'>): ShellLine {
  const name = operand(step.name, `the ${step.package}`);
  return step.package === 'cask'
    ? sh`${BREW_ENV} ${brewPath(prefix)} uninstall --cask ${name}`
    : sh`${BREW_ENV} ${brewPath(prefix)} uninstall ${name}`;
}

export function packageManualInstructions(prefix: string, step: StepOf<'install-package'> | StepOf<'uninstall-package'>, node: string): string[] {
  const verb = step.kind === 'install-package' ? 'install' : 'uninstall';
  const cask = step.package === 'cask' ? ' --cask' : '';
  return [
    `${step.name} needs an administrator password to ${verb} on ${node}. On ${node}, open Terminal and run:`,
    `${prefix}/bin/brew ${verb}${cask} ${quote(step.name)}`,
    'then run `fleet apply` again.',
  ];
}

/** "is not installed" from brew uninstall: the goal is reached. */
export function isNotInstalledMessage(text: string): boolean {
  return /No (such keg|available formula|cask)|is not installed|not installed/i.test(text);
}

export function stopBrewServiceCommand(prefix: string, name: string): ShellLine {
  return sh`${BREW_ENV} ${brewPath(prefix)} services stop ${operand(name, 'the service')}`;
}

// ---- directories and files ------------------------------------------------

export function makeDirsCommand(paths: readonly string[]): ShellLine {
  const words = paths.map((p) => nodePath(p).__shell).join(' ');
  return sh`mkdir -p ${raw(words)}`;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i <= 0) return i === 0 ? '/' : '.';
  return path.slice(0, i);
}

/** A file name as a find(1) -name pattern that matches only itself: fnmatch's specials escaped. */
function literalPattern(name: string): string {
  return name.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

/**
 * Provisioning writes each file whole or not at all: the content arrives on
 * stdin into a temporary file in the same directory; only when every byte
 * arrived (a killed apply closes stdin early, and `cat` would happily stop
 * there) and, for a plist, `plutil -lint` accepts it, `mv -f` swaps it in.
 * Stale temporaries of a killed run go first, found by `find` rather than a
 * glob: zsh aborts the whole command when a glob matches nothing.
 */
export function writeFileCommand(step: Pick<StepOf<'write-file'>, 'path' | 'mode'>, content: string, tag: string, options: { plist?: boolean } = {}): RemoteCommand {
  const target = nodePath(step.path);
  const tmp = nodePath(`${step.path}.tmp.${tag}`);
  const dir = nodePath(parentOf(step.path));
  const base = step.path.slice(step.path.lastIndexOf('/') + 1);
  const bytes = Buffer.byteLength(content, 'utf8');
  const mode = (step.mode & 0o7777).toString(8).padStart(4, '0');
  const fail = (message: string, status: number): ShellLine => sh`{ printf '%s\n' ${message} >&2; rm -f ${tmp}; exit ${status}; }`;
  const lint = options.plist
    ? sh`&& { plutil -lint ${tmp} >/dev/null || ${fail(`plutil -lint rejected ${step.path}`, 65)}; } `
    : raw('');
  const line = sh`mkdir -p ${dir} && find ${dir} -maxdepth 1 -type f -name ${`${literalPattern(base)}.tmp.*`} -exec rm -f {} + && cat > ${tmp} && { test "$(wc -c < ${tmp} | tr -d ' ')" = ${String(bytes)} || ${fail(`incomplete write of ${step.path}`, 75)}; } && chmod ${mode} ${tmp} ${lint}&& mv -f ${tmp} ${target}`;
  return { what: `write ${step.path}`, line, stdin: content };
}

// ---- launchd ----------------------------------------------------------------

export function uidCommand(): ShellLine {
  return sh`id -u`;
}

export function lintPlistCommand(plistPath: string): ShellLine {
  return sh`plutil -lint ${nodePath(plistPath)}`;
}

export function bootstrapCommand(uid: number, plistPath: string): ShellLine {
  return sh`launchctl bootstrap ${`gui/${uid}`} ${nodePath(plistPath)}`;
}

export function bootoutCommand(uid: number, label: string): ShellLine {
  return sh`launchctl bootout ${`gui/${uid}/${label}`}`;
}

export function kickstartCommand(uid: number, label: string, restart: boolean): ShellLine {
  return restart ? sh`launchctl kickstart -k ${`gui/${uid}/${label}`}` : sh`launchctl kickstart ${`gui/${uid}/${label}`}`;
}

export function removeFileCommand(path: string): ShellLine {
  return sh`rm -f ${nodePath(path)}`;
}

export function launchdDomainInstructions(node: string, uid: number, plistPath: string): string[] {
  return [
    `${node} has no gui/${uid} launchd domain: nobody is logged in at its console, so the Ollama agent cannot start.`,
    `Turn on automatic login for the admin account on ${node} (System Settings > Users & Groups > Automatically log in as), or log in once at the console,`,
    `then run on ${node}: launchctl bootstrap gui/${uid} ${displayPath(plistPath)}`,
    'or run `fleet apply` again.',
  ];
}

// ---- crontab ----------------------------------------------------------------

export function readCrontabCommand(): ShellLine {
  return sh`crontab -l`;
}


/**
 * Installs the whole table with `crontab -`. The table travels inside the
 * command line (one SSH message, all or nothing), not on stdin, so a killed
 * apply can never install half a table.
 */
export function writeCrontabCommand(lines: readonly string[]): ShellLine {
  if (lines.length === 0) return sh`printf '' | crontab -`;
  return sh`printf '%s\\n' ${lines} | crontab -`;
}

/**
 * The heartbeat, once, right after its crontab line went in: Bob hears from
 * the node now rather than at the next cron minute (the guide's
 * "Test manually": `bash ~/.symphony/heartbeat.sh`).
 */
export function firstHeartbeatCommand(scriptPath: string): ShellLine {
  return sh`bash ${nodePath(scriptPath)}`;
}

// ---- disk -------------------------------------------------------------------

export function diskFreeCommand(): ShellLine {
  return sh`df -Pk "$HOME"`;
}

// ---- the node's heartbeat key ----------------------------------------------

/**
 * Writes a secret (the node's heartbeat key) from stdin: umask 077 before the
 * first byte lands, so it is never readable by others, not even for a moment;
 * the whole key or nothing (a size check), then renamed into place. One fixed
 * temporary name that a re-run truncates: no glob (zsh aborts on an unmatched
 * one), no key left behind under another name.
 */
export function writeSecretCommand(path: string, content: string): RemoteCommand {
  const target = nodePath(path);
  const tmp = nodePath(`${path}.tmp`);
  const bytes = Buffer.byteLength(content, 'utf8');
  const line = sh`umask 077 && mkdir -p ${nodePath(parentOf(path))} && cat > ${tmp} && { test "$(wc -c < ${tmp} | tr -d ' ')" = ${String(bytes)} || { echo ${`incomplete write of ${path}`} >&2; rm -f ${tmp}; exit 75; }; } && chmod 0600 ${tmp} && mv -f ${tmp} ${target}`;
  return { what: `write ${path} (mode 600)`, line, stdin: content };
}
