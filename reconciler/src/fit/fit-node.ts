// Does a node's worst case fit its memory? The worst case is the
// OLLAMA_MAX_LOADED_MODELS largest assigned models loaded at once, each with
// the node's pinned context and parallel slots.
import type { FullOllamaEnv } from '../model/desired.ts';
import type { Hardware, ModelFacts } from '../schema/fleet.ts';
import { estimateModelNeed, runtimeOf, usableMemory } from './estimate.ts';
import type { MemorySettings, ModelNeed, RuntimeSettings } from './estimate.ts';

/** What the fit needs to know about a node; a DesiredNode with known hardware is one. */
export interface FitInput {
  name: string;
  hardware_id: string;
  hardware: Hardware;
  /** Normalised references (`name:tag`). */
  models: readonly string[];
  ollama_env: FullOllamaEnv;
}

export type ModelCatalog = Readonly<Record<string, ModelFacts>>;

export interface FitResult {
  node: string;
  hardware_id: string;
  hardware_model: string;
  ram_gb: number;
  usable_gb: number;
  basis: 'apple-gpu' | 'cpu';
  usable_explanation: string;
  runtime: RuntimeSettings;
  /** Every assigned model the catalog knows, largest need first. */
  models: ModelNeed[];
  /** Assigned models missing from the catalog (validate reports them); not counted. */
  unknown_models: string[];
  /** min(OLLAMA_MAX_LOADED_MODELS, models assigned). */
  loaded_at_once: number;
  /** The models that can be loaded together and need the most. */
  worst_case: ModelNeed[];
  worst_case_gb: number;
  /** usable minus worst case; negative when it does not fit. */
  headroom_gb: number;
  fits: boolean;
}

function byNeedDescending(a: ModelNeed, b: ModelNeed): number {
  return b.need_gb - a.need_gb || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0);
}

export function fitNode(input: FitInput, catalog: ModelCatalog, memory: MemorySettings): FitResult {
  const runtime = runtimeOf(input.ollama_env);
  const usable = usableMemory(input.hardware, memory);
  const models: ModelNeed[] = [];
  const unknown: string[] = [];
  for (const ref of new Set(input.models)) {
    const facts = catalog[ref];
    if (facts) models.push(estimateModelNeed(ref, facts, runtime, memory));
    else unknown.push(ref);
  }
  models.sort(byNeedDescending);
  const loaded = Math.min(runtime.maxLoaded, models.length);
  const worst = models.slice(0, loaded);
  const worstGb = worst.reduce((sum, m) => sum + m.need_gb, 0);
  return {
    node: input.name,
    hardware_id: input.hardware_id,
    hardware_model: input.hardware.model,
    ram_gb: usable.ram_gb,
    usable_gb: usable.usable_gb,
    basis: usable.basis,
    usable_explanation: usable.explanation,
    runtime,
    models,
    unknown_models: unknown.sort(),
    loaded_at_once: loaded,
    worst_case: worst,
    worst_case_gb: worstGb,
    headroom_gb: usable.usable_gb - worstGb,
    fits: worstGb <= usable.usable_gb,
  };
}

function withModels(input: FitInput, models: readonly string[]): FitInput {
  return { ...input, models };
}

/**
 * The largest completion model the node does not have yet that is bigger than
 * everything it has and would still fit next to it; null when none would.
 */
export function bestLargerModel(input: FitInput, catalog: ModelCatalog, memory: MemorySettings): ModelNeed | null {
  const current = fitNode(input, catalog, memory);
  const largest = current.models[0]?.need_gb ?? 0;
  let best: ModelNeed | null = null;
  for (const [ref, facts] of Object.entries(catalog)) {
    if (facts.kind !== 'completion' || input.models.includes(ref)) continue;
    const need = estimateModelNeed(ref, facts, current.runtime, memory);
    if (need.need_gb <= largest) continue;
    if (best && byNeedDescending(need, best) >= 0) continue;
    if (fitNode(withModels(input, [...input.models, ref]), catalog, memory).fits) best = need;
  }
  return best;
}

/**
 * For a node that does not fit: the largest model of the same kind, smaller
 * than its largest one, that would make it fit in that one's place.
 */
export function suggestSmallerModel(input: FitInput, catalog: ModelCatalog, memory: MemorySettings): ModelNeed | null {
  const current = fitNode(input, catalog, memory);
  const largest = current.models[0];
  if (!largest) return null;
  const kind = catalog[largest.model]?.kind;
  const rest = input.models.filter((m) => m !== largest.model);
  let best: ModelNeed | null = null;
  for (const [ref, facts] of Object.entries(catalog)) {
    if (facts.kind !== kind || input.models.includes(ref)) continue;
    const need = estimateModelNeed(ref, facts, current.runtime, memory);
    if (need.need_gb >= largest.need_gb) continue;
    if (best && byNeedDescending(need, best) >= 0) continue;
    if (fitNode(withModels(input, [...rest, ref]), catalog, memory).fits) best = need;
  }
  return best;
}

export interface HardwareChoice {
  id: string;
  hardware: Hardware;
  usable_gb: number;
}

/**
 * The cheapest Apple Silicon configuration in the catalog (least RAM, then
 * price) whose usable memory covers `needGb`; null when none does.
 */
export function smallestFittingHardware(needGb: number, hardwareCatalog: Readonly<Record<string, Hardware>>, memory: MemorySettings): HardwareChoice | null {
  let best: HardwareChoice | null = null;
  for (const [id, hardware] of Object.entries(hardwareCatalog)) {
    if (!hardware.metal) continue;
    const usable = usableMemory(hardware, memory).usable_gb;
    if (usable < needGb) continue;
    if (best) {
      const a = hardware.ram_gb - best.hardware.ram_gb;
      const b = (hardware.price_usd ?? Number.MAX_SAFE_INTEGER) - (best.hardware.price_usd ?? Number.MAX_SAFE_INTEGER);
      if (a > 0 || (a === 0 && (b > 0 || (b === 0 && id > best.id)))) continue;
    }
    best = { id, hardware, usable_gb: usable };
  }
  return best;
}
