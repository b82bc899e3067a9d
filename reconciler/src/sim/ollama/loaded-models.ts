// Models held in memory after a request, as /api/ps reports them: the
// context they were loaded with, their memory (weights + KV cache + runtime),
// how much of it sits on the GPU, and when keep-alive lets them go.
import type { ModelFacts } from '../../schema/fleet.ts';
import { defaultContextLength, gpuMemoryBytes, type RuntimeSettings } from './serve-env.ts';

export interface SimHardware {
  ramBytes: number;
  metal: boolean;
  arch: 'arm64' | 'x86_64';
}

export interface LoadedModel {
  name: string;
  digest: string;
  size: number;
  sizeVram: number;
  contextLength: number;
  /** ms since the epoch; Infinity for a negative keep-alive. */
  expiresAt: number;
  details: Record<string, unknown>;
}

/** Graph and runtime memory per loaded model, beside weights and KV cache. */
const RUNTIME_OVERHEAD_BYTES = 750_000_000;
const EMBEDDING_OVERHEAD_BYTES = 250_000_000;

export interface LoadRequest {
  name: string;
  digest: string;
  weightsBytes: number;
  facts: Pick<ModelFacts, 'layers' | 'kv_heads' | 'head_dim' | 'max_context' | 'kind'>;
  details: Record<string, unknown>;
  /** Request options.num_ctx, when given. */
  numCtx: number | undefined;
  /** Request keep_alive in ms, when given. */
  keepAliveMs: number | undefined;
}

export class LoadedModels {
  private readonly models = new Map<string, LoadedModel>();
  private readonly hardware: SimHardware;
  private readonly now: () => Date;

  constructor(hardware: SimHardware, now: () => Date) {
    this.hardware = hardware;
    this.now = now;
  }

  private dropExpired(): void {
    const t = this.now().getTime();
    for (const [k, m] of this.models) if (m.expiresAt <= t) this.models.delete(k);
  }

  /** Loads (or refreshes) a model after a request; keep-alive 0 unloads it at once. Returns what was loaded. */
  load(req: LoadRequest, settings: RuntimeSettings): LoadedModel {
    this.dropExpired();
    const gpu = gpuMemoryBytes(this.hardware);
    const wanted = req.numCtx ?? settings.contextLength ?? defaultContextLength(gpu, req.facts.max_context);
    const contextLength = Math.min(wanted, req.facts.max_context);
    const kv = 2 * req.facts.layers * req.facts.kv_heads * req.facts.head_dim * settings.kvBytesPerElement * contextLength * settings.numParallel;
    const size = Math.round(req.weightsBytes + kv + (req.facts.kind === 'embedding' ? EMBEDDING_OVERHEAD_BYTES : RUNTIME_OVERHEAD_BYTES));
    const keepAlive = req.keepAliveMs ?? settings.keepAliveMs;
    const expiresAt = keepAlive === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.now().getTime() + keepAlive;

    const current = this.models.get(req.name);
    if (current && current.contextLength === contextLength && current.size === size) {
      current.expiresAt = expiresAt;
    } else {
      this.models.delete(req.name);
      // The scheduler makes room: first by count, then (on the GPU) by memory, soonest to expire first.
      const byExpiry = (): LoadedModel[] => [...this.models.values()].sort((a, b) => a.expiresAt - b.expiresAt);
      while (this.models.size >= settings.maxLoadedModels) this.models.delete(byExpiry()[0]?.name ?? '');
      const vramOf = (): number => [...this.models.values()].reduce((n, m) => n + m.sizeVram, 0);
      if (gpu > 0) while (this.models.size > 0 && vramOf() + size > gpu) this.models.delete(byExpiry()[0]?.name ?? '');
      const sizeVram = gpu > 0 ? Math.max(0, Math.min(size, gpu - vramOf())) : 0;
      this.models.set(req.name, { name: req.name, digest: req.digest, size, sizeVram, contextLength, expiresAt, details: req.details });
    }
    const loaded = this.models.get(req.name) as LoadedModel;
    if (keepAlive <= 0) this.models.delete(req.name);
    return { ...loaded };
  }

  unload(name: string): boolean {
    return this.models.delete(name);
  }

  isLoaded(name: string): boolean {
    this.dropExpired();
    return this.models.has(name);
  }

  /** Longest remaining time first, as /api/ps orders them. */
  list(): LoadedModel[] {
    this.dropExpired();
    return [...this.models.values()].map((m) => ({ ...m })).sort((a, b) => b.expiresAt - a.expiresAt);
  }

  clear(): void {
    this.models.clear();
  }
}
