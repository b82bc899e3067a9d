// Where a simulated fleet keeps its files. One directory per node:
//   <stateDir>/nodes/<name>/home    HOME of the login user
//   <stateDir>/nodes/<name>/root    FLEET_ROOT: /opt/homebrew, /usr/local, /Applications live here;
//                                   /usr/bin, /bin, /usr/sbin, /sbin link to <stateDir>/userland
//   <stateDir>/nodes/<name>/state   sim-only facts the sh stand-ins read (node.env, names/, sudo, crontab, faults/)
//   <stateDir>/nodes/<name>/host_ed25519(.pub)   persistent host key
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The macOS command stand-ins (mac-userland.ts puts them at their macOS paths). */
export const STANDINS_DIR = fileURLToPath(new URL('./macos/bin', import.meta.url));
/** Shell helpers the stand-ins source. */
export const STANDINS_LIB_DIR = fileURLToPath(new URL('./macos/lib', import.meta.url));
/** The simulated Homebrew: brew, its installer and what it can install. */
export const HOMEBREW_DIR = fileURLToPath(new URL('./macos/homebrew', import.meta.url));

export interface FleetPaths {
  stateDir: string;
  clientKey: string;
  clientPublicKey: string;
  targets: string;
  pidFile: string;
  control: string;
  log: string;
}

export interface NodePaths {
  name: string;
  dir: string;
  home: string;
  root: string;
  state: string;
  hostKey: string;
  /** The replacement key used while the host-key-rotated fault is on. */
  rotatedHostKey: string;
  nodeEnv: string;
}

export function fleetPathsOf(stateDir: string): FleetPaths {
  return {
    stateDir,
    clientKey: join(stateDir, 'client_ed25519'),
    clientPublicKey: join(stateDir, 'client_ed25519.pub'),
    targets: join(stateDir, 'targets.json'),
    pidFile: join(stateDir, 'sim.pid'),
    control: join(stateDir, 'control.json'),
    log: join(stateDir, 'sim.log'),
  };
}

export function nodePathsOf(stateDir: string, name: string): NodePaths {
  const dir = join(stateDir, 'nodes', name);
  const state = join(dir, 'state');
  return {
    name,
    dir,
    home: join(dir, 'home'),
    root: join(dir, 'root'),
    state,
    hostKey: join(dir, 'host_ed25519'),
    rotatedHostKey: join(dir, 'host_ed25519.rotated'),
    nodeEnv: join(state, 'node.env'),
  };
}
