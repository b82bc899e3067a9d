// The model catalog as the simulated registry sees it: fleet/catalog/models.yaml,
// keyed by normalised reference. What is not in it does not exist upstream.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { ModelFacts } from '../../schema/fleet.ts';
import { normalizeModelRef } from '../../model/desired.ts';

export type ModelCatalog = Readonly<Record<string, ModelFacts>>;

export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../../../../fleet/catalog/models.yaml', import.meta.url));

const REQUIRED = ['parameters_b', 'quantization', 'size_bytes', 'architecture', 'layers', 'kv_heads', 'head_dim', 'max_context', 'kind'] as const;

// A fleet of 50 nodes reads the same file: parse it once per version of the file.
const cache = new Map<string, { mtimeMs: number; catalog: ModelCatalog }>();

/** Reads a models.yaml; throws with the file name and the entry when a fact the sim needs is missing. */
export function loadModelCatalog(path: string = DEFAULT_CATALOG_PATH): ModelCatalog {
  const mtimeMs = statSync(path).mtimeMs;
  const hit = cache.get(path);
  if (hit?.mtimeMs === mtimeMs) return hit.catalog;
  const catalog = parseModelCatalog(path);
  cache.set(path, { mtimeMs, catalog });
  return catalog;
}

function parseModelCatalog(path: string): ModelCatalog {
  const doc = parse(readFileSync(path, 'utf8')) as { models?: Record<string, Record<string, unknown>> } | null;
  const out: Record<string, ModelFacts> = {};
  for (const [ref, facts] of Object.entries(doc?.models ?? {})) {
    const missing = REQUIRED.filter((k) => facts[k] === undefined);
    if (missing.length > 0) throw new Error(`${path}: model ${ref} lacks ${missing.join(', ')}`);
    out[normalizeModelRef(ref)] = facts as unknown as ModelFacts;
  }
  return Object.freeze(out);
}

/** Catalog entry of a reference, ignoring case and a missing tag; undefined when the registry has no such model. */
export function findCatalogEntry(catalog: ModelCatalog, ref: string): { ref: string; facts: ModelFacts } | undefined {
  const wanted = normalizeModelRef(ref).toLowerCase();
  for (const [key, facts] of Object.entries(catalog)) {
    if (key.toLowerCase() === wanted) return { ref: key, facts };
  }
  return undefined;
}
