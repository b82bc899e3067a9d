// A model catalog entry from what a node's Ollama says about the model:
// /api/show (details and the GGUF metadata in model_info) and its /api/tags
// entry (bytes on disk). Key names as Ollama's fs/ggml/ggml.go reads them:
// `general.architecture`, `general.parameter_count`, and per architecture
// `<arch>.block_count`, `<arch>.attention.head_count`,
// `<arch>.attention.head_count_kv` (a number, or one per layer),
// `<arch>.attention.key_length` (when absent: embedding_length / head_count),
// `<arch>.context_length`, `<arch>.embedding_length` (written to the catalog
// only when it is not heads x head_dim). Pure.
import type { ModelFacts } from '../schema/fleet.ts';

/** What /api/show returns (the fields used here), as the official client types it loosely. */
export interface ShowAnswer {
  details?: { family?: string; parameter_size?: string; quantization_level?: string };
  model_info?: Record<string, unknown>;
  capabilities?: string[];
}

export interface ModelFactsResult {
  /** null when a fact the fit estimate needs is missing. */
  facts: ModelFacts | null;
  /** model_info keys (or other fields) that were needed and not there. */
  missing: string[];
  /** Where each fact came from, for people: `layers: llama.block_count = 32`. */
  sources: string[];
}

/** A number, or the largest of one per layer (Ollama's UintOrMaxArrayValue). */
function count(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (Array.isArray(v)) {
    const nums = v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return nums.length > 0 ? Math.max(...nums) : undefined;
  }
  return undefined;
}

/** `8.0B`, `137M`, `70.6B` -> billions. */
function parseParameterSize(text: string | undefined): number | undefined {
  const m = /^([0-9.]+)\s*([KMBT])$/i.exec((text ?? '').trim());
  if (!m) return undefined;
  const scale: Record<string, number> = { K: 1e-6, M: 1e-3, B: 1, T: 1e3 };
  return Number(m[1]) * (scale[(m[2] ?? '').toUpperCase()] ?? Number.NaN);
}

/** Billions as the catalog writes them: 8, 70.6, 0.137. */
function roundBillions(b: number): number {
  return b >= 1 ? Math.round(b * 10) / 10 : Number(b.toPrecision(3));
}

export function modelFactsFromShow(show: ShowAnswer, sizeBytes: number | undefined): ModelFactsResult {
  const info = show.model_info ?? {};
  const missing: string[] = [];
  const sources: string[] = [];
  const arch = typeof info['general.architecture'] === 'string' ? info['general.architecture'] : undefined;
  if (arch === undefined) missing.push('model_info general.architecture');
  const key = (k: string): string => `${arch ?? '<arch>'}.${k}`;
  const take = (field: string, k: string): number | undefined => {
    const v = count(info[key(k)]);
    if (v === undefined) missing.push(`model_info ${key(k)}`);
    else sources.push(`${field}: ${key(k)} = ${v}`);
    return v;
  };
  const layers = take('layers', 'block_count');
  const heads = take('heads', 'attention.head_count');
  const kvHeads = take('kv_heads', 'attention.head_count_kv');
  const context = take('max_context', 'context_length');
  let headDim = count(info[key('attention.key_length')]);
  const embedding = count(info[key('embedding_length')]);
  if (headDim !== undefined) sources.push(`head_dim: ${key('attention.key_length')} = ${headDim}`);
  else {
    if (embedding !== undefined && heads !== undefined) {
      headDim = embedding / heads;
      sources.push(`head_dim: ${key('embedding_length')} / head_count = ${embedding} / ${heads} = ${headDim}`);
    } else missing.push(`model_info ${key('attention.key_length')} or ${key('embedding_length')}`);
  }
  const count0 = count(info['general.parameter_count']);
  const billions = count0 !== undefined ? count0 / 1e9 : parseParameterSize(show.details?.parameter_size);
  if (billions === undefined) missing.push('model_info general.parameter_count (or details.parameter_size)');
  const quantization = show.details?.quantization_level;
  if (quantization === undefined || !/^[A-Za-z0-9_]+$/.test(quantization)) missing.push('details.quantization_level');
  if (sizeBytes === undefined || !Number.isInteger(sizeBytes) || sizeBytes < 1) missing.push('size (the model\'s /api/tags entry)');
  const caps = show.capabilities ?? [];
  const kind: ModelFacts['kind'] = caps.includes('embedding') && !caps.includes('completion') ? 'embedding' : 'completion';
  if (missing.length > 0 || arch === undefined || layers === undefined || kvHeads === undefined || context === undefined || headDim === undefined || billions === undefined || quantization === undefined || sizeBytes === undefined) {
    return { facts: null, missing, sources };
  }
  if (!Number.isInteger(headDim)) return { facts: null, missing: [`a whole head size (${key('embedding_length')} / head_count = ${headDim})`], sources };
  const family = show.details?.family;
  const facts: ModelFacts = {
    parameters_b: roundBillions(billions),
    quantization,
    size_bytes: sizeBytes,
    architecture: arch,
    ...(family !== undefined && /^[a-z0-9._-]+$/.test(family) ? { family } : {}),
    layers,
    ...(heads !== undefined ? { heads } : {}),
    kv_heads: kvHeads,
    head_dim: headDim,
    // Kept only when it says something head_dim does not (the catalog's rule).
    ...(embedding !== undefined && heads !== undefined && embedding !== heads * headDim ? { embedding_length: embedding } : {}),
    max_context: context,
    kind,
  };
  return { facts, missing: [], sources };
}
