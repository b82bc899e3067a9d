// The probe: ONE remote script that gathers every fact observe needs in a
// single exec. Each command runs inside a section delimited by a nonce marker
// (see parse-sections.ts), with its exit status recorded, so the pure parsers
// can tell "unset" from "failed". It runs under zsh on a real Mac (login shell,
// no profile: brew and ollama are not on PATH) and /bin/sh in the simulator,
// so it is plain POSIX sh without globs (zsh aborts on an unmatched one).
// Mac-only absolute paths carry MAC_ROOT (shell/commands.ts), empty on a real Mac, the
// node's fake root in the simulator.
//
// Few processes, because each costs: Homebrew's kegs are listed with one
// `find` instead of two Ruby `brew list` runs, its Ollama service is read from
// launchd instead of `brew services list`, the three local Ollama calls share
// one curl, and the managed files are read by one `head`.
import { randomBytes } from 'node:crypto';
import type { ManagedFileId } from '../schema/observed.ts';
import { MANAGED_FILES } from '../schema/observed.ts';
import { raw, sh } from '../shell/quote.ts';
import { MAC_ROOT } from '../shell/commands.ts';
import type { ShellLine } from '../shell/quote.ts';
import { AGENT_LABEL, BREW_SERVICE, MANAGED_PATHS } from '../plan/desired-files.ts';
import { CLI_FROM_KEG } from './parse-ollama.ts';
import { probeMarker } from './parse-sections.ts';

/** Managed files, relative to the node's home: the paths plan and apply write. */
export const MANAGED_FILE_PATHS: Record<ManagedFileId, string> = MANAGED_PATHS;

/** Managed directories, relative to home; reported in facts.dirs as `~/<dir>`. */
export const MANAGED_DIRS = ['.ollama', '.symphony', '.symphony/logs', '.symphony/registry', 'Library/LaunchAgents'] as const;

export const OLLAMA_AGENT_LABEL = AGENT_LABEL;

/** Homebrew's own agent for Ollama (`brew services start ollama`): a second server on the agent's port. */
export const BREW_OLLAMA_LABEL = `homebrew.mxcl.${BREW_SERVICE}`;

/** A file bigger than this is read only up to it (+1 byte, to know it was cut). */
export const FILE_READ_MAX = 256 * 1024;

/** Sysctl names every Mac knows, asked in one call (optional ones get their own call). */
export const SYSCTL_NAMES = ['hw.memsize', 'hw.ncpu', 'hw.model', 'machdep.cpu.brand_string'] as const;

/** The local Ollama calls, in the order the one curl makes them. */
export const LOCAL_OLLAMA_PATHS = ['/api/version', '/api/tags', '/api/ps'] as const;

/**
 * Sections whose facts change only across a reboot (macOS version, chip, RAM)
 * or never (the login's uid and home). A reboot ends the SSH connection, so
 * observe gathers them once per connection and a kept-open connection's
 * probe leaves them out.
 */
export const BOOT_SECTIONS = ['os.sw_vers', 'hw.uname', 'hw.arm64', 'hw.sysctl', 'user.id', 'user.home'] as const;

export const SECTIONS = [
  'name.computer', 'name.host', 'name.local', 'os.sw_vers', 'hw.uname', 'hw.arm64', 'hw.sysctl',
  'user.id', 'user.home', 'disk.df', 'disk.models', 'ollama.partial', 'ollama.manifests',
  'brew.prefix', 'brew.kegs', 'brew.services', 'ollama.cli', 'ollama.local', 'files',
  'launchd.ollama', 'cron', 'sudo', 'net.ip', 'dirs', 'end',
] as const;

export interface Probe {
  nonce: string;
  script: ShellLine;
}

export interface ProbeOptions {
  /** Ollama's port inside the node (what `curl 127.0.0.1:PORT` reaches). */
  ollamaPort: number;
  /** Fixed nonce for tests; random otherwise. */
  nonce?: string;
  /** Seconds curl may take per local Ollama call. */
  curlTimeoutS?: number;
  /** Leave out BOOT_SECTIONS (the caller has them from this connection's first probe). */
  skipBootSections?: boolean;
}

/** What curl's --write-out prints after each response: status and curl's exit code. */
export function curlMarker(nonce: string): string {
  return `@@curl-${nonce}`;
}

export function buildProbe(options: ProbeOptions): Probe {
  const nonce = options.nonce ?? randomBytes(12).toString('hex');
  const curlMax = options.curlTimeoutS ?? 3;
  const urls = LOCAL_OLLAMA_PATHS.map((p) => `http://127.0.0.1:${options.ollamaPort}${p}`);
  const files = MANAGED_FILES.map((id) => MANAGED_FILE_PATHS[id]);
  const lines: ShellLine[] = [
    sh`_fm=${probeMarker(nonce)}`,
    // _fb NAME: begin a section on both streams; _fe STATUS: end it on stdout.
    raw(`_fb() { printf '\\n%s %s\\n' "$_fm" "$1"; printf '\\n%s %s\\n' "$_fm" "$1" >&2; }`),
    raw(`_fe() { printf '\\n%s = %s\\n' "$_fm" "$1"; }`),
    raw('export HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1 HOMEBREW_NO_ANALYTICS=1'),
    raw('_fb name.computer; scutil --get ComputerName; _fe $?'),
    raw('_fb name.host; scutil --get HostName; _fe $?'),
    raw('_fb name.local; scutil --get LocalHostName; _fe $?'),
    ...(options.skipBootSections ? [] : [
      raw('_fb os.sw_vers; sw_vers; _fe $?'),
      raw('_fb hw.uname; uname -m; _fe $?'),
      // Intel has no such name: its own call, so the others are not lost with it.
      raw('_fb hw.arm64; sysctl -n hw.optional.arm64; _fe $?'),
      sh`_fb hw.sysctl; sysctl -n ${SYSCTL_NAMES}; _fe $?`,
      raw('_fb user.id; id -u; _fe $?'),
      raw(`_fb user.home; printf '%s\\n' "$HOME"; _fe $?`),
    ]),
    raw('_fb disk.df; df -Pk "$HOME"; _fe $?'),
    raw('_fb disk.models; du -sk "$HOME/.ollama/models"; _fe $?'),
    raw(`_fb ollama.partial; if [ -d "$HOME/.ollama/models/blobs" ]; then find "$HOME/.ollama/models/blobs" -type f -name '*-partial' -exec wc -c {} +; fi; _fe $?`),
    // Manifests on disk: the models when no Ollama answers (down, or failing). /dev/null
    // first makes head print a `==> path <==` header even for a single file.
    raw(`_fb ollama.manifests; if [ -d "$HOME/.ollama/models/manifests" ]; then find "$HOME/.ollama/models/manifests" -type f -exec head -c 65536 /dev/null {} +; fi; _fe $?`),
    // Apple Silicon prefix first: an Intel (Rosetta) Homebrew may sit beside it.
    raw(`_fb brew.prefix; _fp=; for _p in /opt/homebrew /usr/local; do if [ -x "${MAC_ROOT}$_p/bin/brew" ]; then _fp=$_p; break; fi; done; printf '%s\\n' "$_fp"; _fe $?`),
    // Cellar/<formula>/<version> and Caskroom/<cask>/<version>: what `brew list --versions` reads.
    raw(`_fb brew.kegs; if [ -n "$_fp" ]; then find "${MAC_ROOT}$_fp/Cellar" "${MAC_ROOT}$_fp/Caskroom" -mindepth 2 -maxdepth 2; else false; fi; _fe $?`),
    // What `brew services list` would say about Ollama, from the launchd label
    // it reads: without starting Homebrew's Ruby (most of a second on a Mac).
    sh`_fb brew.services; if [ -n "$_fp" ]; then launchctl list ${BREW_OLLAMA_LABEL}; else false; fi; _fe $?`,
    // Homebrew's ollama is its keg's version (listed above): no Go process and
    // no HTTP round trip for it. Any other ollama is asked.
    raw(`_fb ollama.cli; _fo=; for _o in "${MAC_ROOT}\${_fp:-/opt/homebrew}/bin/ollama" "${MAC_ROOT}/usr/local/bin/ollama" "${MAC_ROOT}/Applications/Ollama.app/Contents/Resources/ollama"; do if [ -x "$_o" ]; then _fo=$_o; break; fi; done; if [ -z "$_fo" ]; then false; elif [ -n "$_fp" ] && [ "$_fo" = "${MAC_ROOT}$_fp/bin/ollama" ] && [ -d "${MAC_ROOT}$_fp/Cellar/ollama" ]; then echo ${CLI_FROM_KEG}; else "$_fo" --version; fi; _fe $?`),
    sh`_fb ollama.local; curl -s --connect-timeout 2 -m ${curlMax} -w ${`\\n${curlMarker(nonce)} %{http_code} %{exitcode}\\n`} ${urls}; _fe $?`,
    // Relative names, so head's headers are known text: `==> .ollama/ollama.env <==`.
    sh`_fb files; (cd "$HOME" && head -c ${FILE_READ_MAX + 1} /dev/null ${files}); _fe $?`,
    sh`_fb launchd.ollama; launchctl list ${OLLAMA_AGENT_LABEL}; _fe $?`,
    raw('_fb cron; crontab -l; _fe $?'),
    raw('_fb sudo; sudo -n true; _fe $?'),
    raw('_fb net.ip; ipconfig getifaddr en0 || ipconfig getifaddr en1; _fe $?'),
    sh`_fb dirs; for _d in ${MANAGED_DIRS}; do if [ -d "$HOME/$_d" ]; then echo "1 $_d"; else echo "0 $_d"; fi; done; _fe $?`,
    raw('_fb end; _fe 0'),
  ];
  return { nonce, script: raw(lines.map((l) => l.__shell).join('\n') + '\n') };
}
