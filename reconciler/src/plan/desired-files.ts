// The exact content of every file the reconciler manages on a node, and the
// heartbeat crontab entry. Pure: plan compares these with what observe saw
// (by sha256), apply writes them unchanged, so the two can never disagree.
import { createHash } from 'node:crypto';
import { build as buildPlist } from 'plist';
import type { DesiredNode, FullOllamaEnv } from '../load/desired.ts';
import type { FleetSettingsDoc } from '../schema/fleet.ts';
import type { ManagedFileId, ObservedFacts } from '../schema/observed.ts';
import { IPV4 } from '../schema/common.ts';
import { quote } from '../shell/quote.ts';
import { MAC_ROOT } from '../shell/commands.ts';

export type BrewPrefix = '/opt/homebrew' | '/usr/local';

export const AGENT_LABEL = 'com.symphony.ollama';
export const BREW_SERVICE = 'ollama';

/** Where each managed file lives, relative to the home directory. */
export const MANAGED_PATHS: Record<ManagedFileId, string> = {
  ollama_env: '.ollama/ollama.env',
  launchd_plist: `Library/LaunchAgents/${AGENT_LABEL}.plist`,
  heartbeat_script: '.symphony/heartbeat.sh',
  harpa_instructions: '.symphony/harpa_setup_instructions.txt',
  self_registration: '.symphony/registry/self_registration.json',
};

/** The node's heartbeat key (64 hex digits and a newline, 0600), relative to home: installed by apply, never read by observe. */
export const HEARTBEAT_KEY_PATH = '.symphony/heartbeat.key';

/** Directories the managed files and logs need, relative to home, parents first. */
export function managedDirs(node: DesiredNode): string[] {
  const dirs = ['.symphony', '.symphony/logs', '.symphony/registry'];
  if (node.role.services.ollama) dirs.push('.ollama', 'Library/LaunchAgents');
  return dirs;
}

export function brewPrefixFor(architecture: 'arm64' | 'x86_64'): BrewPrefix {
  return architecture === 'arm64' ? '/opt/homebrew' : '/usr/local';
}

/** The node's home: what observe saw, else the macOS default for the SSH user. */
export function homeOf(facts: Pick<ObservedFacts, 'home'> | undefined, sshUser: string): string {
  const home = facts?.home;
  return home !== undefined && home !== null && home.startsWith('/') ? home.replace(/\/+$/, '') : `/Users/${sshUser}`;
}

export function sha256Of(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export interface FileContext {
  node: DesiredNode;
  settings: FleetSettingsDoc;
  /** Absolute home directory on the node. */
  home: string;
  brewPrefix: BrewPrefix;
  /** Bob's registry API base URL, e.g. http://192.168.1.10:8765 (no trailing slash). */
  registryUrl: string;
  /** The node's current address as it reports it, for the registration payload; null: unknown. */
  ip: string | null;
  /** ISO time for `registered_at`: the node's added date, never the clock. */
  registeredAt: string;
}

export interface DesiredFile {
  file: ManagedFileId;
  /** Absolute path on the node. */
  path: string;
  content: string;
  mode: number;
  sha256: string;
}

/** Which managed files the node's role wants. */
export function wantedFiles(node: DesiredNode): ManagedFileId[] {
  const files: ManagedFileId[] = [];
  if (node.role.services.ollama) files.push('ollama_env', 'launchd_plist');
  files.push('heartbeat_script');
  if (node.role.services.harpa) files.push('harpa_instructions');
  files.push('self_registration');
  return files;
}

export function renderDesiredFiles(ctx: FileContext): DesiredFile[] {
  return wantedFiles(ctx.node).map((file) => {
    const content = renderFile(file, ctx);
    return { file, path: `${ctx.home}/${MANAGED_PATHS[file]}`, content, mode: file === 'heartbeat_script' ? 0o755 : 0o644, sha256: sha256Of(content) };
  });
}

function renderFile(file: ManagedFileId, ctx: FileContext): string {
  switch (file) {
    case 'ollama_env': return renderOllamaEnv(ctx.node.ollama_env);
    case 'launchd_plist': return renderLaunchdPlist(ctx);
    case 'heartbeat_script': return renderHeartbeatScript(ctx);
    case 'harpa_instructions': return renderHarpaInstructions(ctx);
    case 'self_registration': return renderSelfRegistration(ctx);
  }
}

// The seed's three variables come first, in the seed's order; the rest follow in a fixed order.
const ENV_ORDER = ['OLLAMA_HOST', 'OLLAMA_KEEP_ALIVE', 'OLLAMA_MAX_LOADED_MODELS', 'OLLAMA_CONTEXT_LENGTH', 'OLLAMA_NUM_PARALLEL', 'OLLAMA_FLASH_ATTENTION', 'OLLAMA_KV_CACHE_TYPE'] as const;

/** The Ollama server environment as ordered string pairs (what both the env file and the plist carry). */
export function ollamaEnvEntries(env: FullOllamaEnv): [string, string][] {
  const entries: [string, string][] = [];
  for (const key of ENV_ORDER) {
    const value = env[key];
    if (value === undefined) continue;
    entries.push([key, String(value)]);
  }
  return entries;
}

/** `~/.ollama/ollama.env`: KEY=value lines, values quoted for sh in case someone sources the file. */
export function renderOllamaEnv(env: FullOllamaEnv): string {
  return ollamaEnvEntries(env).map(([k, v]) => `${k}=${quote(v)}\n`).join('');
}

export function renderLaunchdPlist(ctx: FileContext): string {
  const env: Record<string, string> = {};
  for (const [k, v] of ollamaEnvEntries(ctx.node.ollama_env)) env[k] = v;
  return buildPlist({
    Label: AGENT_LABEL,
    ProgramArguments: [`${ctx.brewPrefix}/bin/ollama`, 'serve'],
    EnvironmentVariables: env,
    RunAtLoad: true,
    KeepAlive: true,
    StandardOutPath: `${ctx.home}/.symphony/logs/ollama.log`,
    StandardErrorPath: `${ctx.home}/.symphony/logs/ollama_error.log`,
  }) + '\n';
}

/**
 * `~/.symphony/heartbeat.sh`: run by cron every minute; POSTs {node_id, ip,
 * timestamp} to Bob, signed with the node's key when it has one (see
 * daemon/heartbeat-auth.ts): HMAC-SHA256 built from RFC 2104 with
 * `openssl dgst -sha256 -r` (LibreSSL on macOS, no Homebrew) reading only
 * stdin, and printf, a shell builtin: the key never appears on a command line.
 * Runs under bash 3.2 (macOS) and any POSIX sh.
 */
export function renderHeartbeatScript(ctx: FileContext): string {
  const url = `${ctx.registryUrl}/api/heartbeat`;
  const log = `${ctx.home}/.symphony/logs/heartbeat.log`;
  const keyFile = `${ctx.home}/${HEARTBEAT_KEY_PATH}`;
  return [
    '#!/bin/bash',
    '# Managed by Symphony Fleet (`fleet apply`): local edits are replaced.',
    "# Tells Bob's registry API this node is alive; cron runs it every minute.",
    // cron's PATH (/usr/bin:/bin) lacks /usr/sbin, where ipconfig lives: extend it, never replace it.
    // MAC_ROOT is empty on a Mac; a simulated Mac keeps its /usr/sbin under it (shell/commands.ts).
    `PATH="\${PATH:-/usr/bin:/bin}:${MAC_ROOT}/usr/sbin:${MAC_ROOT}/sbin"`,
    `node_id=${quote(ctx.node.name)}`,
    `url=${quote(url)}`,
    `log=${quote(log)}`,
    `key_file=${quote(keyFile)}`,
    'ip=$(ipconfig getifaddr en0 2>/dev/null || ipconfig getifaddr en1 2>/dev/null || echo UNKNOWN)',
    // Only a dotted quad may enter the JSON body.
    "case $ip in ''|*[!0-9.]*|*..*|.*|*.|*.*.*.*.*) ip=UNKNOWN ;; *.*.*.*) ;; *) ip=UNKNOWN ;; esac",
    'ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
    `body=$(printf '{"node_id":"%s","ip":"%s","timestamp":"%s"}' "$node_id" "$ip" "$ts")`,
    // Hex pairs on stdin as octal escapes for printf (xor with $1 when given).
    "octets() { for h in $(sed 's/../& /g'); do printf '\\\\%03o' $((0x$h ^ ${1:-0})); done; }",
    'sig_ts=; sig=',
    'if [ -r "$key_file" ]; then',
    "  key=$(tr -dc '0-9a-f' <\"$key_file\")",
    '  if [ ${#key} -eq 64 ]; then',
    '    sig_ts=$(date -u +%s)',
    // The key padded to SHA-256's 64-byte block.
    '    block=$(printf \'%s%s\' "$key" 0000000000000000000000000000000000000000000000000000000000000000)',
    "    inner=$({ printf \"$(printf '%s' \"$block\" | octets 54)\"; printf 'v1:%s:%s' \"$sig_ts\" \"$body\"; } | openssl dgst -sha256 -r | cut -c1-64)",
    "    sig=$({ printf \"$(printf '%s' \"$block\" | octets 92)\"; printf \"$(printf '%s' \"$inner\" | octets)\"; } | openssl dgst -sha256 -r | cut -c1-64)",
    '  fi',
    'fi',
    'if [ ${#sig} -eq 64 ]; then',
    "  set -- -H \"X-Symphony-Timestamp: $sig_ts\" -H \"X-Symphony-Signature: v1=$sig\"",
    'else',
    '  set --',
    'fi',
    // (not `status`: zsh keeps that name read-only, and the script must run under any shell a person uses)
    "if answer=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \"$@\" -d \"$body\" \"$url\" 2>&1); then",
    "  printf '%s %s HTTP %s\\n' \"$ts\" \"$ip\" \"$answer\" >>\"$log\"",
    'else',
    "  printf '%s %s failed: %s\\n' \"$ts\" \"$ip\" \"$answer\" >>\"$log\"",
    'fi',
    // Keep the log from growing forever; macOS's wc pads the count with spaces.
    'lines=$(wc -l <"$log")',
    'if [ "${lines##* }" -gt 2000 ]; then tail -n 1000 "$log" >"$log.tmp" && mv -f "$log.tmp" "$log"; fi',
    '',
  ].join('\n');
}

export function renderHarpaInstructions(ctx: FileContext): string {
  const n = ctx.node;
  const tasks = n.openclaw.harpa_task_types.length > 0 ? n.openclaw.harpa_task_types.join(', ') : 'browser';
  return [
    `HARPA AI setup for ${n.display_name} (${n.name}, role ${n.role.name})`,
    '',
    'HARPA AI is a Chrome extension: it cannot be installed from the command line.',
    'Do this once, at the Mac itself (or over Screen Sharing), logged in as the node\'s admin user.',
    '',
    '1. Open Google Chrome (installed by `fleet apply` with Homebrew).',
    '2. Open https://chromewebstore.google.com and search for "HARPA AI".',
    '3. Click "Add to Chrome", then "Add extension".',
    '4. Pin HARPA AI to the toolbar (puzzle-piece icon, then the pin).',
    '5. Open HARPA (Alt+A) and sign in with the Symphony account.',
    '6. In HARPA settings, enable the Grid / remote control connection so Bob can send it tasks.',
    '7. Keep Chrome running; set it to open at login (System Settings, General, Login Items).',
    '',
    `This node's HARPA worker takes these task types: ${tasks}.`,
    `Bob's registry API: ${ctx.registryUrl}`,
    '',
    'When done, nothing else is needed: `fleet generate` lists the worker in openclaw_workers.json',
    'once the node is reachable and Chrome is installed.',
    '',
  ].join('\n');
}

// A type alias (not an interface) so it fits the register step's Record<string, unknown>.
export type SelfRegistration = {
  node_id: string;
  display_name: string;
  role: string;
  ip: string;
  hostname: string;
  services: { ollama: boolean; ollama_port: number; docker: boolean; harpa: boolean };
  registered_at: string;
};

/** The payload of `POST /api/nodes/register`, as symphony-interfaces.md lists it. */
export function selfRegistrationOf(ctx: FileContext): SelfRegistration {
  const n = ctx.node;
  return {
    node_id: n.name,
    display_name: n.display_name,
    role: n.role.name,
    // Bob's registry API takes an IPv4 address or UNKNOWN, as the heartbeat sends.
    ip: ctx.ip !== null && new RegExp(IPV4).test(ctx.ip) ? ctx.ip : 'UNKNOWN',
    hostname: `${n.name}.local`,
    services: { ollama: n.role.services.ollama, ollama_port: ctx.settings.ollama.port, docker: n.role.services.docker, harpa: n.role.services.harpa },
    registered_at: ctx.registeredAt,
  };
}

export function renderSelfRegistration(ctx: FileContext): string {
  return `${JSON.stringify(selfRegistrationOf(ctx), null, 2)}\n`;
}

/** `registered_at` stays what the node already has, so re-planning does not churn the file. */
export function registeredAtOf(node: DesiredNode, observedContent: string | undefined, today: string): string {
  if (node.added !== undefined) return `${node.added}T00:00:00Z`;
  if (observedContent !== undefined) {
    try {
      const parsed: unknown = JSON.parse(observedContent);
      if (typeof parsed === 'object' && parsed !== null && 'registered_at' in parsed && typeof parsed.registered_at === 'string' && /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(parsed.registered_at)) {
        return parsed.registered_at;
      }
    } catch {
      // A hand-edited or truncated file: fall through to today.
    }
  }
  return `${today}T00:00:00Z`;
}

// ---- crontab ----

export const HEARTBEAT_CRON_LINE = '* * * * * bash ~/.symphony/heartbeat.sh';
export const HEARTBEAT_MARKER = '# symphony-fleet: heartbeat (managed by fleet apply; this line and the next are replaced)';

/** A line that runs our heartbeat, however it was written (the seed wrote an absolute path). */
function isHeartbeatLine(line: string): boolean {
  const t = line.trim();
  return !t.startsWith('#') && /(^|[\s/~])\.symphony\/heartbeat\.sh(\s|$|["';])/.test(t);
}

/** The whole new crontab: other lines kept in order, ours replaced (never duplicated), or removed when `line` is null. */
export function renderCrontab(current: readonly string[], line: string | null): string[] {
  const kept = current.filter((l) => l.trim() !== HEARTBEAT_MARKER && !isHeartbeatLine(l));
  return line === null ? kept : [...kept, HEARTBEAT_MARKER, line];
}

/** Heartbeat lines as they are now (for messages). */
export function heartbeatLinesOf(current: readonly string[]): string[] {
  return current.filter(isHeartbeatLine);
}

/**
 * In sync when our heartbeat command is there exactly once (when wanted) and
 * nowhere else. Comments, blank lines and positions are ignored, so a probe that
 * drops comments never sees drift and other people's lines are none of our business.
 */
export function crontabInSync(current: readonly string[], line: string | null): boolean {
  const ours = heartbeatLinesOf(current).map((l) => l.trim());
  return line === null ? ours.length === 0 : ours.length === 1 && ours[0] === line;
}
