// Where the fleet keeps its things on a Mac: the launchd agent's label, the
// managed files and directories under the login's home, Homebrew's prefix by
// architecture, the heartbeat's key and crontab line. One definition that
// observe reads, plan compares and apply writes.
import type { ManagedFileId, ObservedFacts } from '../schema/observed.ts';

export type BrewPrefix = '/opt/homebrew' | '/usr/local';

/** Homebrew's prefix: /opt/homebrew on Apple Silicon, /usr/local on Intel. */
export function brewPrefix(architecture: 'arm64' | 'x86_64'): BrewPrefix {
  return architecture === 'arm64' ? '/opt/homebrew' : '/usr/local';
}

/** The fleet's launchd agent for `ollama serve`. */
export const AGENT_LABEL = 'com.symphony.ollama';
/** The Homebrew formula whose own service would compete with the agent. */
export const BREW_SERVICE = 'ollama';
/** Homebrew's own agent for Ollama (`brew services start ollama`): a second server on the agent's port. */
export const BREW_OLLAMA_LABEL = `homebrew.mxcl.${BREW_SERVICE}`;

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

/** Every directory the fleet manages, relative to home, parents first (observe reports each as `~/<dir>`). */
export const MANAGED_DIRS = ['.symphony', '.symphony/logs', '.symphony/registry', '.ollama', 'Library/LaunchAgents'] as const;

/** The directories a node needs: Ollama's two only where its role runs Ollama. */
export function managedDirs(runsOllama: boolean): string[] {
  return MANAGED_DIRS.filter((d) => runsOllama || (d !== '.ollama' && d !== 'Library/LaunchAgents'));
}

/** The login's home on the node: what observe saw, else macOS's default for the SSH user. */
export function homeOf(facts: Pick<ObservedFacts, 'home'> | undefined, sshUser: string): string {
  const home = facts?.home;
  return home !== undefined && home !== null && home.startsWith('/') ? home.replace(/\/+$/, '') : `/Users/${sshUser}`;
}

/** The heartbeat's crontab line (cron runs it with /bin/sh and PATH=/usr/bin:/bin). */
export const HEARTBEAT_CRON_LINE = '* * * * * bash ~/.symphony/heartbeat.sh';
/** The comment above it: the two are replaced together, never duplicated. */
export const HEARTBEAT_MARKER = '# symphony-fleet: heartbeat (managed by fleet apply; this line and the next are replaced)';
