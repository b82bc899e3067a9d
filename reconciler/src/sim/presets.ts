// Starting points for a simulated node. 'fresh': a Mac out of the box (default
// hostname, no Homebrew, no Ollama, empty crontab), so provisioning from zero
// can be tested. 'provisioned': what provision_node.sh leaves today on Bob,
// Maestro and Stagehand (symphony-interfaces.md): Homebrew, Ollama and the
// role's casks, ~/.ollama/ollama.env with three lines, the launchd agent,
// ~/.symphony with heartbeat and registration, the crontab line. Models are
// seeded by the node once its Ollama exists.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'plist';
import { readCasks, readFormulae, writeCask, writeFormula, writeHomebrew } from './homebrew-files.ts';
import type { NodePaths } from './layout.ts';
import { brewPrefix } from '../model/mac-layout.ts';

export type PresetName = 'fresh' | 'provisioned';

export interface PresetSpec {
  name: string;
  displayName: string;
  preset: PresetName;
  arch: 'arm64' | 'x86_64';
  /** "Mac mini", "iMac": for the factory ComputerName. */
  modelName: string;
  /** Factory names get " (n)" / "-n" like Bonjour does for duplicates on one LAN. */
  index: number;
  ownerFirstName: string;
  sudo: 'passwordless' | 'password';
  role: string;
  /** Provisioned only. */
  ollama: boolean;
  formulae: readonly string[];
  casks: readonly string[];
  /** Bob's registry as provision_node.sh wrote it (http://<bob ip>:8765). */
  registryUrl: string;
  nodeIp: string;
  harpa: boolean;
  docker: boolean;
}

/** The agent today's nodes run Ollama with. */
export const SYMPHONY_AGENT_LABEL = 'com.symphony.ollama';
export const TODAY_OLLAMA_ENV: Readonly<Record<string, string>> = {
  OLLAMA_HOST: '0.0.0.0',
  OLLAMA_KEEP_ALIVE: '24h',
  OLLAMA_MAX_LOADED_MODELS: '2',
};

function write(path: string, text: string, mode?: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, mode === undefined ? undefined : { mode });
}

export function factoryNames(spec: Pick<PresetSpec, 'ownerFirstName' | 'modelName' | 'index'>): { computerName: string; localHostName: string } {
  const suffix = spec.index === 0 ? '' : ` (${spec.index + 1})`;
  const computerName = `${spec.ownerFirstName}'s ${spec.modelName}${suffix}`;
  const local = `${spec.ownerFirstName}s-${spec.modelName}`.replace(/[^A-Za-z0-9]+/g, '-') + (spec.index === 0 ? '' : `-${spec.index + 1}`);
  return { computerName, localHostName: local };
}

/** The launchd agent provision_node.sh writes. */
export function renderSymphonyAgent(home: string, prefix: string, env: Readonly<Record<string, string>>): string {
  return build({
    Label: SYMPHONY_AGENT_LABEL,
    ProgramArguments: [`${prefix}/bin/ollama`, 'serve'],
    EnvironmentVariables: { ...env },
    RunAtLoad: true,
    KeepAlive: true,
    StandardOutPath: `${home}/.symphony/logs/ollama.log`,
    StandardErrorPath: `${home}/.symphony/logs/ollama_error.log`,
  });
}

export function renderHeartbeatScript(nodeId: string, registryUrl: string): string {
  return `#!/bin/bash
# Symphony heartbeat: tells Bob this node is alive (cron, every minute).
NODE_ID=${nodeId}
BOB_URL=${registryUrl}
IP=$(ipconfig getifaddr en0 || ipconfig getifaddr en1 || echo UNKNOWN)
TS=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -s -m 10 -X POST "$BOB_URL/api/heartbeat" -H 'Content-Type: application/json' \\
  -d "{\\"node_id\\": \\"$NODE_ID\\", \\"ip\\": \\"$IP\\", \\"timestamp\\": \\"$TS\\"}" >> "$HOME/.symphony/logs/heartbeat.log" 2>&1
echo >> "$HOME/.symphony/logs/heartbeat.log"
`;
}

export const HEARTBEAT_CRON_LINE = '* * * * * bash ~/.symphony/heartbeat.sh';

/** Writes the preset's files; returns the models the node should hold (seeded later). */
export function applyPreset(paths: NodePaths, spec: PresetSpec, ollamaVersion: string, ollamaCliPath: string): void {
  const names = join(paths.state, 'names');
  mkdirSync(names, { recursive: true });
  mkdirSync(join(paths.home, 'Library'), { recursive: true });
  mkdirSync(join(paths.root, 'Applications'), { recursive: true });
  write(join(paths.state, 'sudo'), `${spec.sudo}\n`);
  write(join(paths.state, 'remotelogin'), 'On\n');
  write(join(paths.state, 'preset'), `${spec.preset}\n`);
  if (spec.preset === 'fresh') {
    const factory = factoryNames(spec);
    write(join(names, 'ComputerName'), `${factory.computerName}\n`);
    write(join(names, 'LocalHostName'), `${factory.localHostName}\n`);
    return;
  }
  write(join(names, 'ComputerName'), `${spec.displayName}\n`);
  write(join(names, 'LocalHostName'), `${spec.name}\n`);
  write(join(names, 'HostName'), `${spec.name}\n`);

  const prefix = brewPrefix(spec.arch);
  writeHomebrew(paths.root, prefix);
  const formulae = readFormulae(ollamaVersion);
  const wanted = new Set([...(spec.ollama ? ['ollama'] : []), ...spec.formulae]);
  for (const f of formulae) if (wanted.has(f.name)) writeFormula(paths.root, prefix, f, ollamaCliPath);
  const casks = readCasks();
  for (const c of casks) if (spec.casks.includes(c.name)) writeCask(paths.root, prefix, c);

  const symphony = join(paths.home, '.symphony');
  mkdirSync(join(symphony, 'registry'), { recursive: true });
  mkdirSync(join(symphony, 'logs'), { recursive: true });
  if (spec.ollama) {
    write(join(paths.home, '.ollama', 'ollama.env'), Object.entries(TODAY_OLLAMA_ENV).map(([k, v]) => `${k}=${v}\n`).join(''));
    write(join(paths.home, 'Library', 'LaunchAgents', `${SYMPHONY_AGENT_LABEL}.plist`), renderSymphonyAgent(paths.home, prefix, TODAY_OLLAMA_ENV));
  }
  write(join(symphony, 'heartbeat.sh'), renderHeartbeatScript(spec.name, spec.registryUrl), 0o755);
  write(join(paths.state, 'crontab'), `${HEARTBEAT_CRON_LINE}\n`);
  if (spec.harpa) write(join(symphony, 'harpa_setup_instructions.txt'), 'Open Google Chrome, install HARPA AI from the Chrome Web Store, sign in, and enable the Symphony grid.\n');
  const registration = {
    node_id: spec.name,
    display_name: spec.displayName,
    role: spec.role,
    ip: spec.nodeIp,
    hostname: `${spec.name}.local`,
    services: { ollama: spec.ollama, ollama_port: 11434, docker: spec.docker, harpa: spec.harpa },
    registered_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  write(join(symphony, 'registry', 'self_registration.json'), `${JSON.stringify(registration, null, 2)}\n`);
}
