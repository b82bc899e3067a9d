// What the HTTP routes of one simulated Ollama need from the node: its store,
// catalog (the simulated registry), clock, loaded models, settings, pulls,
// faults and the per-process caches.
import type { ModelCatalog } from './catalog.ts';
import type { LoadedModels } from './loaded-models.ts';
import type { ModelCaches } from './model-caches.ts';
import type { ResolvedModel } from './model-resolve.ts';
import type { ModelStore } from './model-store.ts';
import type { Puller } from './pull.ts';
import type { RuntimeSettings } from './serve-env.ts';

/** One /api/tags entry (api.ListModelResponse). */
export type ListSummary = Record<string, unknown>;
/** One /api/show answer (api.ShowResponse), or why there is none. */
export type ShowResult = { ok: true; response: Record<string, unknown> } | { ok: false; status: number; message: string };

export type SimModelCaches = ModelCaches<ListSummary, ResolvedModel, Record<string, unknown>>;

export interface OllamaApiContext {
  version: string;
  store(): ModelStore;
  catalog: ModelCatalog;
  now(): Date;
  loaded: LoadedModels;
  settings(): RuntimeSettings;
  puller: Puller;
  /** Cleared when the server restarts. */
  caches: SimModelCaches;
  /** The error message every /api/* answers with while the 500 fault is on. */
  fault500(): string | undefined;
  /** Registers a request's abort controller so stopping the server ends it; returns the unregister. */
  track(controller: AbortController): () => void;
}
