// The memory a model needs once loaded, and the memory a Mac gives models.
// Pure arithmetic over the model catalog, the hardware catalog and the
// `memory` constants in fleet.yaml; no number here is a lookup table.
// Units: 1 GB = 2^30 bytes, the unit Macs sell RAM in ("16 GB" is 16 GiB).
import type { FullOllamaEnv } from '../model/desired.ts';
import type { FleetSettingsDoc, Hardware, ModelFacts } from '../schema/fleet.ts';

export type MemorySettings = FleetSettingsDoc['memory'];
export type KvCacheType = 'f16' | 'q8_0' | 'q4_0';

export const BYTES_PER_GB = 2 ** 30;

/** The server settings that change memory use, as the node's ollama.env pins them. */
export interface RuntimeSettings {
  context: number;
  parallel: number;
  maxLoaded: number;
  /** What the env asks for. */
  kvCacheType: KvCacheType;
  /** What Ollama uses: a quantized KV cache needs flash attention, otherwise f16. */
  effectiveKvCacheType: KvCacheType;
}

const KV_BYTES: Record<KvCacheType, number> = { f16: 2, q8_0: 1, q4_0: 0.5 };

export function kvBytesPerElement(type: KvCacheType): number {
  return KV_BYTES[type];
}

export function runtimeOf(env: FullOllamaEnv): RuntimeSettings {
  const kvCacheType = env.OLLAMA_KV_CACHE_TYPE ?? 'f16';
  return {
    context: env.OLLAMA_CONTEXT_LENGTH,
    parallel: env.OLLAMA_NUM_PARALLEL,
    maxLoaded: env.OLLAMA_MAX_LOADED_MODELS,
    kvCacheType,
    effectiveKvCacheType: env.OLLAMA_FLASH_ATTENTION === true ? kvCacheType : 'f16',
  };
}

export interface ModelNeed {
  model: string;
  /** Context the model is loaded with: the pinned one, capped at the model's trained context. */
  context: number;
  weights_gb: number;
  kv_gb: number;
  overhead_gb: number;
  need_gb: number;
}

/**
 * need = weights (bytes on disk)
 *      + KV cache: 2 (K and V) x layers x kv_heads x head_dim x bytes per element x context x parallel
 *      + runtime overhead (graph, buffers)
 */
export function estimateModelNeed(model: string, facts: ModelFacts, runtime: RuntimeSettings, memory: MemorySettings): ModelNeed {
  const context = Math.min(runtime.context, facts.max_context);
  const kvBytes = 2 * facts.layers * facts.kv_heads * facts.head_dim * kvBytesPerElement(runtime.effectiveKvCacheType) * context * runtime.parallel;
  const weights_gb = facts.size_bytes / BYTES_PER_GB;
  const kv_gb = kvBytes / BYTES_PER_GB;
  const overhead_gb = memory.runtime_overhead_gb;
  return { model, context, weights_gb, kv_gb, overhead_gb, need_gb: weights_gb + kv_gb + overhead_gb };
}

export interface UsableMemoryResult {
  ram_gb: number;
  usable_gb: number;
  basis: 'apple-gpu' | 'cpu';
  /** How usable_gb came about, for messages: "2/3 of 24 GB, the Metal working set". */
  explanation: string;
}

function describeFraction(f: number): string {
  const known: [number, string][] = [[2 / 3, '2/3'], [3 / 4, '3/4'], [1 / 2, '1/2']];
  for (const [value, label] of known) if (Math.abs(f - value) < 0.005) return label;
  return `${Math.round(f * 100)}%`;
}

/**
 * Apple Silicon: Metal's recommendedMaxWorkingSetSize, about 2/3 of RAM up to
 * the threshold (36 GB) and 3/4 above. Intel (no Metal): Ollama runs on the
 * CPU, so RAM minus what macOS keeps for itself.
 */
export function usableMemory(hardware: Pick<Hardware, 'ram_gb' | 'metal'>, memory: MemorySettings): UsableMemoryResult {
  const ram = hardware.ram_gb;
  if (hardware.metal) {
    const fraction = ram <= memory.apple_gpu_threshold_gb ? memory.apple_gpu_fraction_small : memory.apple_gpu_fraction_large;
    return { ram_gb: ram, usable_gb: ram * fraction, basis: 'apple-gpu', explanation: `${describeFraction(fraction)} of ${ram} GB, the Metal working set` };
  }
  const usable = Math.max(0, ram - memory.intel_os_reserve_gb);
  return { ram_gb: ram, usable_gb: usable, basis: 'cpu', explanation: `${ram} GB minus ${memory.intel_os_reserve_gb} GB for macOS; CPU only, no Metal` };
}

/** "41.3" : one decimal, the precision the estimate deserves. */
export function formatGb(gb: number): string {
  return (Math.round(gb * 10) / 10).toFixed(1);
}
