// Every command line the product can send to a Mac, built with the product's
// own builders: the probe, each step kind's commands (ordinary values, then
// the hostile values of test/fixtures/hostile/values.json), heartbeat.sh and
// the crontab line that runs it. The mapped type below makes a new step kind
// a compile error here until it says which lines it sends.
import { readFileSync } from 'node:fs';
import { buildProbe } from '../../reconciler/src/observe/probe.ts';
import {
  bootoutCommand, bootstrapCommand, diskFreeCommand, homebrewInstallCommand, homebrewInstalledCommand, hostnameCommands, kickstartCommand,
  lintPlistCommand, makeDirsCommand, packageInstallCommand, packageUninstallCommand, readCrontabCommand, removeFileCommand,
  stopBrewServiceCommand, uidCommand, writeCrontabCommand, writeFileCommand, writeSecretCommand, firstHeartbeatCommand, type RemoteCommand,
} from '../../reconciler/src/apply/step-commands.ts';
import { renderCrontab } from '../../reconciler/src/plan/desired-files.ts';
import type { StepKind, StepOf } from '../../reconciler/src/model/steps.ts';
import { raw } from '../../reconciler/src/shell/quote.ts';
import {
  copyBlobCommand, copyKeyLine, grantCopyKeyCommand, installCopyKeyCommands, installManifestCommand, partialSizeCommand, readManifestCommand,
  removeCopyKeyCommand, revokeCopyKeysCommand, serveScriptCommand, SERVE_SCRIPT,
} from '../../reconciler/src/apply/copy-commands.ts';
import { ollamaListCommand } from '../../reconciler/src/verify/verify-node.ts';
import { HEARTBEAT_CRON_LINE, HEARTBEAT_MARKER } from '../../reconciler/src/model/mac-layout.ts';

export interface Line {
  /** What produced it: `probe`, a step kind, `heartbeat.sh`, `cron`. */
  source: string;
  line: string;
  stdin?: string;
}

/** A value a builder refused to put into a command line (it would read as an option). */
export interface Refusal {
  source: string;
  value: string;
  message: string;
}

/** The hostile values of the fixture; `@MARKER@` becomes a file whose appearance means something ran. */
export function hostileValues(marker: string): string[] {
  const raw = JSON.parse(readFileSync(new URL('../fixtures/hostile/values.json', import.meta.url), 'utf8')) as { values: string[] };
  return raw.values.map((v) => v.replaceAll('@MARKER@', marker));
}

const base = { id: 'x', node: 'virtuoso', why: '', after: [] };
const PREFIX = '/opt/homebrew';

/** For each step kind: the lines it sends with `value` in every place a value can go, or where its work happens instead. */
type Sends = (value: string, home: string) => RemoteCommand[];
const STEP_LINES: { [K in StepKind]: Sends | 'ollama-api' | 'bob' | 'person' } = {
  'set-hostname': (v) => hostnameCommands({ ...base, kind: 'set-hostname', computer_name: v, host_name: v, local_host_name: v }),
  'install-homebrew': () => [
    { what: 'test -x brew', line: homebrewInstalledCommand(PREFIX) },
    { what: 'installer', line: homebrewInstallCommand() },
  ],
  'install-package': (v) => [
    { what: 'brew install', line: packageInstallCommand(PREFIX, { ...base, kind: 'install-package', package: 'formula', name: v }) },
    { what: 'brew install --cask', line: packageInstallCommand(PREFIX, { ...base, kind: 'install-package', package: 'cask', name: v }) },
  ],
  'uninstall-package': (v) => [
    { what: 'brew uninstall', line: packageUninstallCommand(PREFIX, { ...base, kind: 'uninstall-package', package: 'formula', name: v }) },
    { what: 'brew uninstall --cask', line: packageUninstallCommand(PREFIX, { ...base, kind: 'uninstall-package', package: 'cask', name: v }) },
  ],
  'make-dirs': (v, home) => [{ what: 'mkdir', line: makeDirsCommand([`~/.symphony/${v}`, `${home}/.symphony/abs ${v}`, '~/.symphony/logs']) }],
  'write-file': (v, home) => {
    const step: Pick<StepOf<'write-file'>, 'path' | 'mode'> = { path: `${home}/.symphony/${v.replaceAll('/', '_') || 'empty'}.txt`, mode: 0o644 };
    const plist: Pick<StepOf<'write-file'>, 'path' | 'mode'> = { path: `${home}/Library/LaunchAgents/${v.replaceAll('/', '_') || 'empty'}.plist`, mode: 0o644 };
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n<key>Label</key>\n<string>x</string>\n</dict>\n</plist>\n`;
    return [writeFileCommand(step, `${v}\n$(touch x)\n`, 'r4nd'), writeFileCommand(plist, body, 'p1ist', { plist: true })];
  },
  // The key travels on stdin; only its path (fixed) is on the line.
  'install-secret': (v, home) => [writeSecretCommand(`${home}/.symphony/${v.replaceAll('/', '_') || 'empty'}.key`, `${'0'.repeat(64)}\n`)],
  'stop-brew-service': (v) => [{ what: 'brew services stop', line: stopBrewServiceCommand(PREFIX, v) }],
  'load-agent': (v, home) => [
    { what: 'id -u', line: uidCommand() },
    { what: 'plutil -lint', line: lintPlistCommand(`${home}/Library/LaunchAgents/${v}.plist`) },
    { what: 'bootout', line: bootoutCommand(501, v) },
    { what: 'bootstrap', line: bootstrapCommand(501, `${home}/Library/LaunchAgents/${v}.plist`) },
    { what: 'kickstart', line: kickstartCommand(501, v, false) },
  ],
  'restart-agent': (v) => [{ what: 'kickstart -k', line: kickstartCommand(501, v, true) }],
  'unload-agent': (v, home) => [
    { what: 'bootout', line: bootoutCommand(501, v) },
    { what: 'rm -f', line: removeFileCommand(`${home}/Library/LaunchAgents/${v}.plist`) },
  ],
  // The pull itself goes through the Ollama API; the disk check is a command.
  'pull-model': () => [{ what: 'df', line: diskFreeCommand() }],
  // A LAN copy: Bob reads the manifest and edits authorized_keys on the source; the target fetches, verifies and installs.
  'copy-model': (v) => {
    const source = { host: v, port: 22, user: v, hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' };
    const digest = `sha256:${'ab'.repeat(32)}`;
    const key = copyKeyLine('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', 'c0py', '192.168.1.21');
    return [
      { what: 'cat manifest', line: readManifestCommand('library/llama3.1:8b') },
      serveScriptCommand('c0py'),
      { what: 'grant', line: grantCopyKeyCommand(key) },
      ...installCopyKeyCommands('c0py', `${v}\n`, source),
      { what: 'copy blob', line: copyBlobCommand(digest, 1234, source, 'c0py') },
      { what: 'partial size', line: partialSizeCommand(digest) },
      installManifestCommand('llama3.1:8b', `{"v":${JSON.stringify(v)}}`, 'cd'.repeat(32), 'c0py'),
      { what: 'rm key', line: removeCopyKeyCommand('c0py') },
      { what: 'rm key, end the connection', line: removeCopyKeyCommand('c0py', source) },
      { what: 'revoke', line: revokeCopyKeysCommand('c0py') },
      { what: 'revoke stale', line: revokeCopyKeysCommand() },
      { what: 'disk', line: diskFreeCommand() },
    ];
  },
  'remove-model': 'ollama-api',
  'set-crontab': (v) => [
    { what: 'crontab -l', line: readCrontabCommand() },
    { what: 'first heartbeat', line: firstHeartbeatCommand('~/.symphony/heartbeat.sh') },
    { what: 'crontab -', line: writeCrontabCommand(renderCrontab([`0 3 * * * ${v.replaceAll('\n', ' ')}`, 'MAILTO=""'], HEARTBEAT_CRON_LINE)) },
    { what: 'crontab - (removed)', line: writeCrontabCommand(renderCrontab([HEARTBEAT_MARKER, HEARTBEAT_CRON_LINE], null)) },
  ],
  register: 'bob',
  'write-generated': 'bob',
  'reload-openclaw': 'bob',
  manual: 'person',
};

/** Step kinds that send commands to a Mac. */
export const REMOTE_STEP_KINDS = (Object.keys(STEP_LINES) as StepKind[]).filter((k) => typeof STEP_LINES[k] === 'function');

export function stepLines(kind: StepKind, value: string, home: string, refused: Refusal[] = []): Line[] {
  const sends = STEP_LINES[kind];
  if (typeof sends !== 'function') return [];
  let commands: RemoteCommand[];
  try {
    commands = sends(value, home);
  } catch (err) {
    refused.push({ source: kind, value, message: (err as Error).message });
    return [];
  }
  return commands.map((p) => ({ source: kind, line: p.line.__shell, ...(p.stdin === undefined ? {} : { stdin: p.stdin }) }));
}

export function probeLines(ollamaPort: number): Line[] {
  return [
    { source: 'probe', line: buildProbe({ ollamaPort, nonce: 'f1xednonce00' }).script.__shell },
    { source: 'probe (kept-open connection)', line: buildProbe({ ollamaPort, nonce: 'f1xednonce00', skipBootSections: true }).script.__shell },
  ];
}

/** heartbeat.sh as cron runs it (bash), and the crontab line itself (run by /bin/sh). */
export function scriptLines(heartbeatScript: string): Line[] {
  return [
    { source: 'heartbeat.sh', line: heartbeatScript },
    { source: 'cron', line: HEARTBEAT_CRON_LINE.replace(/^(\S+\s+){5}/, '') },
    // What a copy key's forced command runs on the source (sshd: the login shell runs it).
    { source: 'serve-blob', line: SERVE_SCRIPT },
  ];
}

/** Ordinary values: what a real fleet's steps carry. */
export const ORDINARY = 'virtuoso';

/** fleet verify's `hostname && ollama list`, for both Homebrew prefixes. */
export function verifyLines(): Line[] {
  return [
    { source: 'verify', line: ollamaListCommand('/opt/homebrew').__shell },
    { source: 'verify', line: ollamaListCommand('/usr/local').__shell },
  ];
}

/** Homebrew and its Ollama, as a provisioned node has them (so verify's lines find the CLI). */
function provisionLines(): Line[] {
  const ollama = packageInstallCommand(PREFIX, { ...base, kind: 'install-package', package: 'formula', name: 'ollama' });
  return [...stepLines('install-homebrew', ORDINARY, ''), { source: 'install-package', line: ollama.__shell }];
}

export function allLines(options: { home: string; marker: string; ollamaPort: number; heartbeatScript: string }, refused: Refusal[] = []): Line[] {
  const lines: Line[] = [...probeLines(options.ollamaPort), ...provisionLines(), ...verifyLines()];
  for (const value of [ORDINARY, ...hostileValues(options.marker)]) {
    for (const kind of REMOTE_STEP_KINDS) lines.push(...stepLines(kind, value, options.home, refused));
  }
  // after the steps made ~/.symphony/logs, as on a provisioned node
  return [...lines, ...scriptLines(options.heartbeatScript)];
}

/** A raw line (for tests that need one built by hand). */
export const rawLine = raw;
