// startSimFleet: a fleet of simulated Macs in this process. Each node gets its
// own loopback address (127.B.C.<i+1>, a block of the fleet's own; or 127.0.0.1
// where only that exists),
// ephemeral ports, a persistent host key and its own directories under
// stateDir; targets.json tells the reconciler where everything is.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { FleetError } from '../errors.ts';
import type { Hardware } from '../schema/fleet.ts';
import type { Targets } from '../schema/targets.ts';
import { startSimBobRegistry, type RegistryCall, type SimBobRegistry } from './bob-registry.ts';
import { startControlEndpoint, type ControlEndpoint } from './control-endpoint.ts';
import { startEgressTrap, type EgressAttempt, type EgressTrap } from './egress-trap.ts';
import type { FaultKind, FaultParams } from './faults.ts';
import { readFleetSource, generatedNodeNames, type SimNodeInput } from './fleet-source.ts';
import { canBind } from './gated-listener.ts';
import { generateEd25519KeyPair } from '../net/ssh-keys.ts';
import { modelNameOf, readHardwareCatalog } from './hardware-profile.ts';
import { fleetPathsOf, type FleetPaths } from './layout.ts';
import type { PresetName } from './presets.ts';
import { startSimNode, type SimNode } from './sim-node.ts';
import { SimNetwork, type NetworkOptions } from './network.ts';

export const DEFAULT_HARDWARE_CATALOG = fileURLToPath(new URL('../../../fleet/catalog/hardware.yaml', import.meta.url));
/** Hardware of made-up nodes (--nodes N): the seed's recommended worker. */
export const DEFAULT_HARDWARE_ID = 'mac-mini-m4-24gb';
/** Models a made-up provisioned node holds: Bob's today. */
export const DEFAULT_MODELS: readonly string[] = ['llama3.2:3b', 'nomic-embed-text:latest'];

export interface SimFleetOptions {
  stateDir: string;
  /** A fleet directory (fleet/): one node per nodes/*.yaml that is not retired. */
  fromDir?: string;
  /** Otherwise n made-up nodes node-01..; default 3. */
  nodes?: number;
  /** Or exactly these nodes. */
  specs?: readonly SimNodeInput[];
  preset?: PresetName;
  /** SSH login name; default: fleet.yaml ssh.user, else "admin". */
  user?: string;
  /** Hardware of made-up nodes. */
  hardwareId?: string;
  hardwareCatalogPath?: string;
  /**
   * Bob's registry API on loopback (a daemon's): the targets carry it, so the
   * files rendered for the nodes name it, and a node's curl redirects Bob's
   * fleet.yaml address to it. Without it the fleet runs a simulated Bob
   * (bob-registry.ts) that records every call.
   */
  registryUrl?: string;
  /** Serve the control endpoint for `fleet sim` (default true). */
  controlEndpoint?: boolean;
  /** Run crontab entries each minute (default true). */
  cron?: boolean;
  ollama?: { pullBytesPerSecond?: number; progressIntervalMs?: number };
  /**
   * The network as it is (network.ts): one internet line for the whole fleet
   * and a LAN link per Mac from the hardware catalog (ethernet_gbps, 1 GbE when
   * absent). Without it each node pulls at ollama.pullBytesPerSecond of its own
   * and node-to-node streams are not metered.
   */
  network?: NetworkOptions;
  /** The simulated registry's models (default: fleet/catalog/models.yaml of this repository). */
  modelCatalogPath?: string;
  log?: (line: string) => void;
}

export interface SimFleetControl {
  setFault(node: string, kind: FaultKind, params?: FaultParams): Promise<void>;
  clearFault(node: string, kind: FaultKind): Promise<void>;
  faults(node: string): Partial<Record<FaultKind, FaultParams>>;
}

export interface SimFleet {
  readonly stateDir: string;
  readonly paths: FleetPaths;
  readonly nodes: readonly SimNode[];
  readonly targets: Targets;
  readonly targetsPath: string;
  /** The control endpoint's URL (undefined when disabled). */
  readonly controlUrl: string | undefined;
  readonly clientKeyPath: string;
  node(name: string): SimNode;
  readonly control: SimFleetControl;
  /** Every command line exec'd on the node over SSH, in order. */
  commandLog(node: string): readonly string[];
  /** known_hosts text for the fleet (`[ip]:port ssh-ed25519 ...`), for stock ssh. */
  knownHosts(): string;
  /** Bob's registry URL the nodes use (the daemon's, or the simulated Bob's). */
  readonly registryUrl: string;
  /** What the simulated Bob received; empty when a daemon plays Bob. */
  registryCalls(): readonly RegistryCall[];
  /** Requests a node made to anything off loopback: refused, and recorded here. */
  egressAttempts(): readonly EgressAttempt[];
  /** The shared network, when the fleet has one: bytes over the line and the LAN, the line's samples. */
  readonly network: SimNetwork | undefined;
  stop(): Promise<void>;
}

/** What a node's curl refused to send (its stand-in writes state/egress.log). */
function refusedByCurl(node: SimNode): EgressAttempt[] {
  let text: string;
  try {
    text = readFileSync(join(node.paths.state, 'egress.log'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const [at = '', , ...url] = l.split(' ');
    return { at, method: 'curl', target: url.join(' '), from: node.ip };
  });
}

/**
 * A fleet's own block of loopback addresses, 127.B.C.0/24 and up, picked from
 * its state directory: the same on every start of that directory, and
 * another for each fleet, so fleets that run side by side (tests) never share
 * an address and every node can listen on Ollama's own port, 11434.
 */
export function addressBlock(stateDir: string): { b: number; c: number } {
  const h = createHash('sha256').update(stateDir).digest();
  return { b: 1 + ((h[0] ?? 0) % 254), c: ((h[1] ?? 0) % 15) * 16 };
}

/** Node i's address in a block: 127.B.C.1, 127.B.C.2, ... 127.B.(C+1).1 ... (254 a row). */
export function nodeAddress(i: number, block: { b: number; c: number } = { b: 0, c: 1 }): string {
  return `127.${block.b}.${block.c + Math.floor(i / 254)}.${(i % 254) + 1}`;
}

function ensureClientKey(paths: FleetPaths): string {
  if (!existsSync(paths.clientKey)) {
    const pair = generateEd25519KeyPair('fleet-sim-client');
    writeFileSync(paths.clientKey, pair.private, { mode: 0o600 });
    writeFileSync(paths.clientPublicKey, `${pair.public}\n`);
  }
  return readFileSync(paths.clientPublicKey, 'utf8').trim();
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export async function startSimFleet(options: SimFleetOptions): Promise<SimFleet> {
  const stateDir = resolve(options.stateDir);
  const paths = fleetPathsOf(stateDir);
  mkdirSync(join(stateDir, 'nodes'), { recursive: true });
  const log = options.log ?? (() => undefined);
  const preset = options.preset ?? 'fresh';

  const source = options.fromDir ? readFleetSource(options.fromDir) : undefined;
  const catalog = source?.hardwareCatalog ?? readHardwareCatalog(options.hardwareCatalogPath ?? DEFAULT_HARDWARE_CATALOG);
  const inputs: readonly SimNodeInput[] =
    options.specs ?? source?.nodes ?? generatedNodeNames(options.nodes ?? 3).map((name) => ({ name, hardware: options.hardwareId ?? DEFAULT_HARDWARE_ID, ollama: true, models: DEFAULT_MODELS, formulae: ['ollama'], casks: ['google-chrome'] }));
  if (inputs.length === 0) throw new FleetError('invalid-input', 'a simulated fleet needs at least one node');
  const user = options.user ?? source?.user ?? 'admin';
  const clientPublicKey = ensureClientKey(paths);

  const egress: EgressTrap = await startEgressTrap({ onAttempt: (a) => log(`egress refused: ${a.method} ${a.target} from ${a.from}`) });
  let simBob: SimBobRegistry | undefined;
  try {
    if (options.registryUrl === undefined) simBob = await startSimBobRegistry();
  } catch (err) {
    await egress.close();
    throw err;
  }
  const registryUrl = options.registryUrl ?? (simBob as SimBobRegistry).url;
  const registry = new URL(registryUrl);
  const bobAddress = source?.bobAddress ?? '192.168.1.10';
  const bobPort = source?.registryPort ?? 8765;
  // A node whose heartbeat still names Bob's LAN address (provision_node.sh wrote it) reaches the simulated Bob.
  const hostMap: Record<string, string> = { [`${bobAddress}:${bobPort}`]: registry.host };
  const block = addressBlock(stateDir);
  const distinctIps = await canBind(nodeAddress(0, block));

  const nodes: SimNode[] = [];
  const byName = new Map<string, SimNode>();
  const network = options.network ? new SimNetwork(options.network) : undefined;
  let control: ControlEndpoint | undefined;
  let cronTimer: NodeJS.Timeout | undefined;
  const stopAll = async (): Promise<void> => {
    if (cronTimer) clearTimeout(cronTimer);
    await control?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await simBob?.close();
    await egress.close();
  };

  try {
    // a few at a time: key generation and seeding are CPU and disk work on a small machine
    const batch = 10;
    for (let start = 0; start < inputs.length; start += batch) {
      const started = await Promise.all(
        inputs.slice(start, start + batch).map(async (input, j) => {
          const i = start + j;
          const hardware: Hardware | undefined = typeof input.hardware === 'string' ? catalog[input.hardware] : input.hardware;
          if (!hardware) throw new FleetError('invalid-input', `node ${input.name}: unknown hardware id "${typeof input.hardware === 'string' ? input.hardware : input.hardware.model}"`);
          const ip = distinctIps ? nodeAddress(i, block) : '127.0.0.1';
          const nodePreset = input.preset ?? preset;
          network?.addNode(input.name, ip, hardware.ethernet_gbps ?? 1);
          return startSimNode({
            stateDir,
            ip,
            user,
            hardware,
            ...(typeof input.hardware === 'string' ? { hardwareId: input.hardware } : {}),
            clientPublicKey,
            hostMap,
            models: input.models ?? [],
            preset: {
              name: input.name,
              displayName: input.displayName ?? input.name.charAt(0).toUpperCase() + input.name.slice(1),
              preset: nodePreset,
              arch: hardware.architecture,
              modelName: modelNameOf(hardware.model),
              index: i,
              ownerFirstName: 'John',
              sudo: input.sudo ?? 'passwordless',
              role: input.role ?? 'llm_worker',
              ollama: input.ollama ?? true,
              formulae: input.formulae ?? [],
              casks: input.casks ?? [],
              registryUrl,
              nodeIp: ip,
              harpa: input.harpa ?? false,
              docker: input.docker ?? false,
            },
            ...(options.ollama ? { ollama: options.ollama } : {}),
            egressUrl: egress.url,
            ...(network ? { network } : {}),
            ...(options.modelCatalogPath !== undefined ? { modelCatalogPath: options.modelCatalogPath } : {}),
            log,
          });
        }),
      );
      for (const n of started) {
        nodes.push(n);
        byName.set(n.name, n);
      }
    }
    if (options.controlEndpoint !== false) control = await startControlEndpoint(byName);
  } catch (err) {
    await stopAll();
    throw err;
  }

  if (options.cron !== false) {
    const tick = (): void => {
      const at = new Date();
      for (const n of nodes) n.runCron(n.now());
      cronTimer = setTimeout(tick, 60_000 - (at.getSeconds() * 1000 + at.getMilliseconds()) + 50);
      cronTimer.unref();
    };
    const at = new Date();
    cronTimer = setTimeout(tick, 60_000 - (at.getSeconds() * 1000 + at.getMilliseconds()) + 50);
    cronTimer.unref();
  }

  const targets: Targets = {
    ...(control ? { control_url: control.url } : {}),
    bob: { registry_url: registryUrl },
    nodes: Object.fromEntries(
      nodes.map((n) => [
        n.name,
        {
          addresses: [n.ip],
          ssh_port: n.sshPort(),
          user,
          key_path: paths.clientKey,
          host_key: n.hostKey(),
          ollama_url: `http://${n.ip}:${n.ollamaPort()}`,
          ollama_port: 11434,
        },
      ]),
    ),
  };
  writeFileSync(join(stateDir, 'known_hosts'), nodes.map((n) => `[${n.ip}]:${n.sshPort()} ${n.hostKey()}\n`).join(''));
  writeJsonAtomic(paths.targets, targets);
  if (control) writeJsonAtomic(paths.control, { url: control.url, pid: process.pid });

  const nodeOf = (name: string): SimNode => {
    const n = byName.get(name);
    if (!n) throw new FleetError('not-found', `no simulated node "${name}"; nodes: ${[...byName.keys()].join(', ')}`);
    return n;
  };

  return {
    stateDir,
    paths,
    nodes,
    targets,
    targetsPath: paths.targets,
    controlUrl: control?.url,
    clientKeyPath: paths.clientKey,
    node: nodeOf,
    control: {
      setFault: (node, kind, params) => nodeOf(node).setFault(kind, params),
      clearFault: (node, kind) => nodeOf(node).clearFault(kind),
      faults: (node) => nodeOf(node).faults(),
    },
    commandLog: (node) => nodeOf(node).commandLog(),
    knownHosts: () => nodes.map((n) => `[${n.ip}]:${n.sshPort()} ${n.hostKey()}\n`).join(''),
    registryUrl,
    registryCalls: () => simBob?.calls() ?? [],
    egressAttempts: () => [...egress.attempts(), ...nodes.flatMap((n) => refusedByCurl(n))],
    network,
    stop: stopAll,
  };
}
