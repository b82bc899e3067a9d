// Finding the model a request names, the way the route handlers do:
// getExistingName over the manifests on disk, then the manifest at that
// name's path, then GetModel through the inference cache.
import type { OllamaApiContext } from './api-context.ts';
import { canonicalName, fullName, type ModelName } from './model-name.ts';
import { resolveStored, type ResolvedModel, type ResolveResult } from './model-resolve.ts';
import { ManifestScanError } from './model-store.ts';

export type NameResult = { ok: true; name: ModelName } | { ok: false; message: string };

/** getExistingName: fails only when the manifests folder cannot be read. */
export function existingName(ctx: OllamaApiContext, name: ModelName): NameResult {
  try {
    return { ok: true, name: canonicalName(name, ctx.store().scan().map((m) => m.name)) };
  } catch (err) {
    if (err instanceof ManifestScanError) return { ok: false, message: err.message };
    throw err;
  }
}

/** s.getModel: GetModel through the inference cache (kept per manifest digest). */
export function getModel(ctx: OllamaApiContext, name: ModelName): ResolveResult {
  const opened = ctx.store().open(name);
  if (!opened.ok) return opened;
  const stored = opened.model;
  let failure: ResolveResult | undefined;
  const model = ctx.caches.inference.get(fullName(name), stored.digest, () => {
    const r = resolveStored(ctx.store(), ctx.catalog, stored, name);
    if (r.ok) return r.model;
    failure = r;
    return undefined;
  });
  if (model) return { ok: true, model: { ...model, stored } };
  return failure ?? { ok: false, notExist: true, message: 'model not found' };
}

export type { ResolvedModel };
