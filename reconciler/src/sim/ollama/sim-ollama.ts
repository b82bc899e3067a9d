// One simulated node's Ollama: model store, pulls, loaded models, faults and
// the serving environment, behind a request handler. Whoever owns the
// sockets (the fleet simulator, or SimOllamaServer) calls handleRequest.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join } from 'node:path';
import { generateEd25519KeyPair } from '../../net/ssh-keys.ts';
import { findCatalogEntry, loadModelCatalog, type ModelCatalog } from './catalog.ts';
import type { SimModelCaches } from './api-context.ts';
import { handleOllamaRequest, type OllamaApiContext } from './http-api.ts';
import { ModelCaches } from './model-caches.ts';
import { LoadedModels, type LoadedModel, type SimHardware } from './loaded-models.ts';
import { planModel } from './model-layers.ts';
import { displayShortest, parseModelName } from './model-name.ts';
import { ModelStore } from './model-store.ts';
import { Puller, type PullFailFault } from './pull.ts';
import { readRuntimeSettings, type RuntimeSettings, type ServeEnv } from './serve-env.ts';
import type { Flow } from '../network.ts';

export const SIM_OLLAMA_VERSION = '0.12.6';

export type SimOllamaFault = 'ollama-500' | 'pull-fail' | 'disk-full' | 'slow';

export interface SimOllamaOptions {
  node: string;
  /** The node's HOME; models live in HOME/.ollama/models unless OLLAMA_MODELS says otherwise. */
  home: string;
  /** The node's sim-only state folder (nothing of mine is required there). */
  stateDir: string;
  hardware: SimHardware;
  /** Free bytes on the volume of the model store; checked before every chunk of a pull. Default: unlimited. */
  diskFreeBytes?: () => number;
  /** The node's clock (clock-skew fault). Default: the host's. */
  now?: () => Date;
  /** Default: fleet/catalog/models.yaml of this repository. */
  catalog?: ModelCatalog;
  /** Simulated registry speed. Default 110 MB/s. */
  pullBytesPerSecond?: number;
  /** Progress tick (Ollama reports every 60 ms). */
  progressIntervalMs?: number;
  /** Server version /api/version reports. */
  version?: string;
  /** A download's flow over the fleet's shared network (sim/network.ts); replaces pullBytesPerSecond. */
  openPullFlow?: () => Flow;
}

export interface StoredModelInfo {
  name: string;
  digest: string;
  size: number;
  modifiedAt: Date;
}

export interface SimOllama {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Start (env) or stop (null) `ollama serve`; a second start is a restart (models unloaded, pulls cut). */
  setServing(env: ServeEnv | null): void;
  isServing(): boolean;
  /** The environment the server runs with, null when stopped. */
  servingEnv(): ServeEnv | null;
  /** Installs models at once (no pull), e.g. for the 'provisioned' preset; rejects for a ref the catalog lacks. */
  seedModels(refs: readonly string[], options?: { modifiedAt?: Date }): Promise<void>;
  setFault(kind: SimOllamaFault, params?: Record<string, unknown>): void;
  clearFault(kind: SimOllamaFault): void;
  activeFaults(): SimOllamaFault[];
  /** Apparent bytes of the model store, partial downloads included. */
  usedBytes(): number;
  modelsDir(): string;
  listModels(): StoredModelInfo[];
  loadedModels(): LoadedModel[];
  close(): Promise<void>;
}

const DEFAULT_500_MESSAGE = 'internal server error';

class SimOllamaNode implements SimOllama, OllamaApiContext {
  readonly version: string;
  readonly catalog: ModelCatalog;
  readonly loaded: LoadedModels;
  readonly puller: Puller;
  readonly caches: SimModelCaches = new ModelCaches();
  private readonly options: SimOllamaOptions;
  private env: ServeEnv | null = null;
  private runtime: RuntimeSettings = readRuntimeSettings({});
  private modelStore: ModelStore;
  private readonly faults = new Map<SimOllamaFault, Record<string, unknown>>();
  private readonly inflight = new Set<AbortController>();
  private readonly clock: () => Date;

  constructor(options: SimOllamaOptions) {
    this.options = options;
    this.version = options.version ?? SIM_OLLAMA_VERSION;
    this.catalog = options.catalog ?? loadModelCatalog();
    this.clock = options.now ?? ((): Date => new Date());
    this.loaded = new LoadedModels(options.hardware, this.clock);
    this.modelStore = new ModelStore(this.defaultModelsDir());
    const interval = options.progressIntervalMs ?? 60;
    this.puller = new Puller({
      store: () => this.modelStore,
      catalog: this.catalog,
      now: this.clock,
      diskFreeBytes: () => (this.faults.has('disk-full') ? 0 : (options.diskFreeBytes?.() ?? Number.POSITIVE_INFINITY)),
      bytesPerSecond: () => options.pullBytesPerSecond ?? 110e6,
      intervalMs: interval,
      pullFail: () => this.pullFailFault(),
      clearPullFail: () => this.faults.delete('pull-fail'),
      ...(options.openPullFlow ? { openFlow: options.openPullFlow } : {}),
    });
  }

  private defaultModelsDir(): string {
    return join(this.options.home, '.ollama', 'models');
  }

  private pullFailFault(): PullFailFault | undefined {
    const p = this.faults.get('pull-fail');
    if (!p) return undefined;
    return {
      afterFraction: typeof p.afterFraction === 'number' ? p.afterFraction : 0.4,
      once: p.once === true,
      message: typeof p.message === 'string' ? p.message : 'max retries exceeded: unexpected EOF',
    };
  }

  // OllamaApiContext
  store(): ModelStore {
    return this.modelStore;
  }

  now(): Date {
    return this.clock();
  }

  settings(): RuntimeSettings {
    return this.runtime;
  }

  fault500(): string | undefined {
    const p = this.faults.get('ollama-500');
    if (!p) return undefined;
    return typeof p.message === 'string' ? p.message : DEFAULT_500_MESSAGE;
  }

  track(controller: AbortController): () => void {
    this.inflight.add(controller);
    return () => this.inflight.delete(controller);
  }

  // SimOllama
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const slow = this.faults.get('slow');
    const delay = slow ? (typeof slow.delayMs === 'number' ? slow.delayMs : 1500) : 0;
    if (delay > 0) setTimeout(() => handleOllamaRequest(this, req, res), delay);
    else handleOllamaRequest(this, req, res);
  }

  private cutRequests(): void {
    for (const c of this.inflight) c.abort();
    this.inflight.clear();
  }

  setServing(env: ServeEnv | null): void {
    this.cutRequests();
    this.loaded.clear();
    this.caches.clear();
    this.env = env === null ? null : { ...env };
    if (env === null) return;
    this.runtime = readRuntimeSettings(env);
    const dir = this.runtime.modelsDir;
    this.modelStore = new ModelStore(dir !== undefined && isAbsolute(dir) ? dir : this.defaultModelsDir());
    this.writeKeypair();
    this.modelStore.startUp(this.runtime.prune, Date.now());
  }

  /** `ollama serve` creates ~/.ollama/id_ed25519 on its first start. */
  private writeKeypair(): void {
    const dir = join(this.options.home, '.ollama');
    const key = join(dir, 'id_ed25519');
    if (existsSync(key)) return;
    mkdirSync(dir, { recursive: true });
    const pair = generateEd25519KeyPair();
    writeFileSync(key, pair.private, { mode: 0o600 });
    writeFileSync(`${key}.pub`, `${pair.public}\n`, { mode: 0o644 });
  }

  isServing(): boolean {
    return this.env !== null;
  }

  servingEnv(): ServeEnv | null {
    return this.env;
  }

  seedModels(refs: readonly string[], options: { modifiedAt?: Date } = {}): Promise<void> {
    for (const ref of refs) {
      const name = parseModelName(ref);
      const entry = name ? findCatalogEntry(this.catalog, displayShortest(name)) : undefined;
      if (!name || !entry) return Promise.reject(new Error(`cannot seed ${ref}: it is not in the model catalog`));
      this.modelStore.install(name, planModel(entry.ref, entry.facts), options.modifiedAt ?? this.clock());
    }
    return Promise.resolve();
  }

  setFault(kind: SimOllamaFault, params: Record<string, unknown> = {}): void {
    this.faults.set(kind, params);
  }

  clearFault(kind: SimOllamaFault): void {
    this.faults.delete(kind);
  }

  activeFaults(): SimOllamaFault[] {
    return [...this.faults.keys()];
  }

  usedBytes(): number {
    return this.modelStore.usedBytes();
  }

  modelsDir(): string {
    return this.modelStore.dir;
  }

  listModels(): StoredModelInfo[] {
    return this.modelStore.list().map((m) => ({ name: displayShortest(m.name), digest: m.digest, size: m.size, modifiedAt: m.modifiedAt }));
  }

  loadedModels(): LoadedModel[] {
    return this.loaded.list();
  }

  close(): Promise<void> {
    this.setServing(null);
    return Promise.resolve();
  }
}

export function createSimOllama(options: SimOllamaOptions): SimOllama {
  return new SimOllamaNode(options);
}
