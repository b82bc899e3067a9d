// Model pulls against the simulated registry (the catalog), shaped like
// server/images.go PullModel and server/download.go: a manifest, then each
// layer downloaded in up to 16 ranges with progress ticks, `-partial` files
// that survive an interruption and resume, a digest check, the manifest write.
// Time is simulated: a tick moves `bytesPerSecond * intervalMs` bytes.
import { setTimeout as sleep } from 'node:timers/promises';
import { findCatalogEntry, type ModelCatalog } from './catalog.ts';
import { planModel, type LayerPlan } from './model-layers.ts';
import { displayShortest, type ModelName } from './model-name.ts';
import { splitIntoParts, type DownloadPart, type ModelStore } from './model-store.ts';
import type { Flow } from '../network.ts';

/** api.ProgressResponse; zero digest/total/completed are left out, as Go's omitempty does. */
export interface ProgressLine {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export function progressLine(status: string, digest?: string, total?: number, completed?: number): ProgressLine {
  const line: ProgressLine = { status };
  if (digest) line.digest = digest;
  if (total) line.total = total;
  if (completed) line.completed = completed;
  return line;
}

export interface PullFailFault {
  /** Fail once a layer is this far (0..1) and not finished; each attempt still moves at least one tick. */
  afterFraction: number;
  once: boolean;
  message: string;
}

export interface PullEnvironment {
  store: () => ModelStore;
  catalog: ModelCatalog;
  now: () => Date;
  diskFreeBytes: () => number;
  bytesPerSecond: () => number;
  intervalMs: number;
  pullFail: () => PullFailFault | undefined;
  /** Called when a `once` pull-fail fault has fired. */
  clearPullFail: () => void;
  /** The fleet's shared network (sim/network.ts): a download is a flow over the line; absent, bytesPerSecond per node. */
  openFlow?: () => Flow;
}

export class PullError extends Error {}

/** Layers at least this big get several progress lines even at test speeds. */
const MULTI_TICK_BYTES = 1_000_000;
const MIN_TICKS = 4;
const PERSIST_EVERY_MS = 200;

/** One blob being fetched; shared by every pull that needs it (Ollama's blobDownloadManager). */
class BlobDownload {
  readonly layer: LayerPlan;
  readonly parts: DownloadPart[];
  readonly total: number;
  completed: number;
  private waiters = 0;
  private readonly listeners = new Set<() => void>();
  readonly done: Promise<void>;
  private lastPersist = 0;
  private readonly env: PullEnvironment;
  private readonly store: ModelStore;

  constructor(layer: LayerPlan, parts: DownloadPart[], env: PullEnvironment, store: ModelStore, onEnd: () => void) {
    this.env = env;
    this.store = store;
    this.layer = layer;
    this.parts = parts;
    this.total = parts.reduce((n, p) => n + p.Size, 0);
    this.completed = parts.reduce((n, p) => n + p.Completed, 0);
    this.done = this.run().finally(onEnd);
    // A failed download is reported through each waiter; nobody else awaits `done`.
    this.done.catch(() => undefined);
  }

  join(onTick: () => void): () => void {
    this.waiters++;
    this.listeners.add(onTick);
    return () => {
      this.waiters--;
      this.listeners.delete(onTick);
    };
  }

  /** The -partial file grows every tick (disk accounting); part files are rewritten now and then, as Ollama does. */
  private persist(force: boolean): void {
    this.store.growPartial(this.layer.digest, this.completed);
    const t = Date.now();
    if (!force && t - this.lastPersist < PERSIST_EVERY_MS) return;
    this.lastPersist = t;
    this.store.writeParts(this.layer.digest, this.parts);
  }

  /** Spreads `bytes` over the unfinished parts, as parallel range requests would. */
  private advance(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const open = this.parts.filter((p) => p.Completed < p.Size);
      if (open.length === 0) break;
      const share = Math.max(1, Math.floor(left / open.length));
      for (const p of open) {
        const n = Math.min(share, p.Size - p.Completed, left);
        p.Completed += n;
        left -= n;
        if (left <= 0) break;
      }
    }
    this.completed = this.parts.reduce((n, p) => n + p.Completed, 0);
  }

  private async run(): Promise<void> {
    const flow = this.env.openFlow?.();
    try {
      await this.runOn(flow);
    } finally {
      flow?.close();
    }
  }

  private async runOn(flow: Flow | undefined): Promise<void> {
    this.persist(true);
    const ticks = this.total >= MULTI_TICK_BYTES ? MIN_TICKS : 1;
    const startedAt = this.completed;
    while (this.completed < this.total) {
      await sleep(this.env.intervalMs);
      if (this.waiters === 0) {
        this.persist(true);
        throw new PullError('context canceled');
      }
      const most = Math.min(Math.ceil(this.total / ticks), this.total - this.completed);
      const perTick = Math.max(1, Math.floor(this.env.bytesPerSecond() * this.env.intervalMs / 1000));
      let chunk = flow === undefined ? Math.min(perTick, most) : flow.drain(most);
      const free = Math.floor(this.env.diskFreeBytes());
      const diskShort = chunk > free;
      if (diskShort) chunk = Math.max(0, free);
      this.advance(chunk);
      const fault = this.env.pullFail();
      const tripped = fault !== undefined && this.total >= MULTI_TICK_BYTES && this.completed < this.total
        && this.completed > startedAt && this.completed >= fault.afterFraction * this.total;
      if (diskShort || tripped) {
        this.persist(true);
        for (const l of this.listeners) l();
        if (diskShort) throw new PullError(`write ${this.store.partialPath(this.layer.digest)}: no space left on device`);
        if (fault?.once) this.env.clearPullFail();
        throw new PullError(fault?.message ?? 'max retries exceeded: unexpected EOF');
      }
      this.persist(false);
      for (const l of this.listeners) l();
    }
    this.store.finishDownload(this.layer, this.parts);
  }
}

/** Pulls, per node: downloads in flight by digest. */
export class Puller {
  private readonly downloads = new Map<string, BlobDownload>();
  private readonly env: PullEnvironment;

  constructor(env: PullEnvironment) {
    this.env = env;
  }

  /**
   * Pulls `name`, reporting each progress line to `emit`. Rejects with PullError carrying Ollama's message
   * (the stream's `{"error": ...}`); `signal` is the client going away.
   */
  async pull(name: ModelName, emit: (line: ProgressLine) => void, signal: AbortSignal): Promise<void> {
    const store = this.env.store();
    const display = displayShortest(name);
    const existing = store.find(name);
    const unused = new Set(existing ? [...existing.manifest.layers.map((l) => l.digest), existing.manifest.config.digest] : []);

    emit(progressLine('pulling manifest'));
    await sleep(this.env.intervalMs);
    this.throwIfAborted(signal);
    const entry = findCatalogEntry(this.env.catalog, display);
    if (!entry) throw new PullError('pull model manifest: file does not exist');
    const plan = planModel(entry.ref, entry.facts);

    for (const layer of [...plan.layers, plan.config]) {
      unused.delete(layer.digest);
      await this.pullLayer(store, layer, emit, signal);
    }

    emit(progressLine('verifying sha256 digest'));
    await sleep(this.env.intervalMs);
    this.throwIfAborted(signal);
    emit(progressLine('writing manifest'));
    store.writeManifest(name, plan.manifest, this.env.now());
    if (unused.size > 0) {
      emit(progressLine('removing unused layers'));
      store.removeUnusedBlobs([...unused]);
    }
    emit(progressLine('success'));
  }

  private throwIfAborted(signal: AbortSignal): void {
    if (signal.aborted) throw new PullError('context canceled');
  }

  private async pullLayer(store: ModelStore, layer: LayerPlan, emit: (line: ProgressLine) => void, signal: AbortSignal): Promise<void> {
    const status = `pulling ${layer.digest.slice(7, 19)}`;
    const have = store.blobSize(layer.digest);
    if (have !== undefined) {
      emit(progressLine(status, layer.digest, have, have));
      return;
    }
    let download = this.downloads.get(layer.digest);
    if (!download) {
      const resumed = store.readParts(layer.digest);
      const parts = resumed.length > 0 && resumed.reduce((n, p) => n + p.Size, 0) === layer.size ? resumed : splitIntoParts(layer.size);
      download = new BlobDownload(layer, parts, this.env, store, () => this.downloads.delete(layer.digest));
      this.downloads.set(layer.digest, download);
    }
    const d = download;
    const report = (): void => emit(progressLine(status, layer.digest, d.total, d.completed));
    report();
    const leave = d.join(report);
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = (): void => reject(new PullError('context canceled'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void d.done.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([d.done, aborted]);
    } finally {
      leave();
    }
  }

  /** Pulls still moving bytes (for a stop of the server: they end as the client sees a dropped stream). */
  activeDigests(): string[] {
    return [...this.downloads.keys()];
  }
}
