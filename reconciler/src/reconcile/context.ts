// The one object that carries every adapter a reconcile uses: time, the log,
// the connection guard, how nodes are reached, the Ollama client, Bob's files
// and where progress goes. Made by the caller (the CLI, the daemon, a
// benchmark, a test), never held in a module variable, so two reconciles can
// run side by side.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import type { OllamaLike, ProgressSink } from '../apply/context.ts';
import { bobHomeFor, loadBobConfig, type BobConfig } from '../bob/bob-config.ts';
import { openNodeSecrets, type NodeSecretStore } from '../bob/node-secrets.ts';
import type { Desired } from '../model/desired.ts';
import { createGuard, guardedFetch, loopbackOnly, type ConnectionGuard } from '../net/guard.ts';
import { createConnectionPool, type ConnectionPool } from '../observe/connections.ts';
import { localConnectOptions } from '../observe/local-connect.ts';
import { readTargets } from '../observe/read-targets.ts';
import { silentLog, systemClock, type Clock, type Log } from '../ports.ts';
import type { Targets } from '../schema/targets.ts';

/** Bob's side: its settings, the nodes' heartbeat keys, the fleet lock, where generated/ goes. */
export interface BobFiles {
  home: string;
  config: BobConfig;
  secrets: NodeSecretStore;
  lockPath: string;
  generatedDir: string;
}

export interface ReconcileContext {
  clock: Clock;
  log: Log;
  guard: ConnectionGuard;
  /** The simulated fleet's addresses (a targets file), when the nodes are not reached by their own. */
  targets?: Targets;
  /** The targets file's path, for messages that say how to point fleet at a fleet. */
  targetsFile?: string;
  /** Opens the SSH connection pool for these nodes; the reconcile closes it. */
  connect(desired: Desired): Promise<ConnectionPool>;
  createOllama(host: string): OllamaLike;
  bob: BobFiles;
  /** Told every step and transfer as it runs (bars on a terminal, the daemon's status). */
  progress?: Partial<ProgressSink>;
  /** The executor's first retry wait (tests shorten it). */
  backoffBaseMs?: number;
}

/** The fleet lock on Bob: `fleet apply` and the daemon never change nodes at the same time. */
export function fleetLockPath(bobHome: string): string {
  return join(bobHome, '.symphony', 'fleet.lock');
}

export interface ContextOptions {
  generatedDir: string;
  targetsFile?: string;
  /** Bob's home; default: the real home, or `<targets dir>/bob` for a simulated fleet. */
  bobHome?: string;
  lockPath?: string;
  bobConfig?: BobConfig;
  secrets?: NodeSecretStore;
  clock?: Clock;
  log?: Log;
  guard?: ConnectionGuard;
  progress?: Partial<ProgressSink>;
  createOllama?: (host: string, guard: ConnectionGuard) => OllamaLike;
  backoffBaseMs?: number;
}

/** The context on this machine: the system clock, the guard from FLEET_LOOPBACK_ONLY, Bob's files from fleetd.yaml. */
export async function createContext(options: ContextOptions): Promise<ReconcileContext> {
  const targets = options.targetsFile !== undefined ? await readTargets(options.targetsFile) : undefined;
  const home = options.bobHome ?? bobHomeFor(options.targetsFile, homedir());
  const config = options.bobConfig ?? (await loadBobConfig(home));
  const secrets = options.secrets ?? (await openNodeSecrets(config.secretsDir));
  const guard = options.guard ?? createGuard({ loopbackOnly: loopbackOnly() });
  const makeOllama = options.createOllama ?? ((host: string, g: ConnectionGuard): OllamaLike => new Ollama({ host, fetch: guardedFetch(g) }));
  return {
    clock: options.clock ?? systemClock,
    log: options.log ?? silentLog,
    guard,
    ...(targets !== undefined ? { targets } : {}),
    ...(options.targetsFile !== undefined ? { targetsFile: options.targetsFile } : {}),
    connect: async (desired) => createConnectionPool(desired, { ...(targets !== undefined ? { targets } : {}), guard, local: await localConnectOptions(config) }),
    createOllama: (host) => makeOllama(host, guard),
    bob: { home, config, secrets, lockPath: options.lockPath ?? fleetLockPath(home), generatedDir: options.generatedDir },
    ...(options.progress !== undefined ? { progress: options.progress } : {}),
    ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
  };
}
