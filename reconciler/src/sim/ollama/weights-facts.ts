// What the GGUF header of a weights blob would say. A real server reads the
// architecture, layers, heads and context from the blob itself, so a copy or
// a created model under any name reports the facts of its weights. The
// simulated weights are sparse files, so the same lookup goes by digest: the
// catalog entry whose planned weights blob has that digest.
import { createHash } from 'node:crypto';
import type { ModelFacts } from '../../schema/fleet.ts';
import { findCatalogEntry, type ModelCatalog } from './catalog.ts';
import { MEDIA_MODEL, planModel } from './model-layers.ts';

export interface WeightsFacts {
  /** The catalog reference the weights were published under. */
  ref: string;
  facts: ModelFacts;
}

const indexes = new WeakMap<ModelCatalog, Map<string, WeightsFacts>>();

function indexOf(catalog: ModelCatalog): Map<string, WeightsFacts> {
  let index = indexes.get(catalog);
  if (!index) {
    index = new Map();
    for (const [ref, facts] of Object.entries(catalog)) {
      const weights = planModel(ref, facts).layers.find((l) => l.mediaType === MEDIA_MODEL);
      if (weights) index.set(weights.digest, { ref, facts });
    }
    indexes.set(catalog, index);
  }
  return index;
}

/**
 * Facts of the weights blob `digest`. `publishedAs` is the model's name, used
 * only when the digest is unknown: a store pulled before the catalog's sizes
 * were edited still answers for its models.
 */
export function weightsFacts(catalog: ModelCatalog, digest: string, publishedAs: string): WeightsFacts | undefined {
  return indexOf(catalog).get(digest) ?? findCatalogEntry(catalog, publishedAs);
}

/** GGUF <arch>.embedding_length: what the catalog says, else heads x head size. */
export function embeddingLength(facts: ModelFacts): number {
  return facts.embedding_length ?? (facts.heads ?? facts.kv_heads) * facts.head_dim;
}

/**
 * GGUF general.parameter_count. The catalog gives billions to one decimal;
 * real counts are not round (llama3.1:8b has 8030261248), so a model of a
 * billion or more gets a stable offset under 0.05 B, which keeps what
 * format.HumanNumber prints ("8.0B") equal to the registry's parameter_size.
 */
export function parameterCount(ref: string, facts: ModelFacts): number {
  const count = Math.round(facts.parameters_b * 1e9);
  if (facts.parameters_b < 1) return count;
  return count + 1_000_000 + (createHash('sha256').update(ref).digest().readUInt32BE(0) % 48_000_000);
}
