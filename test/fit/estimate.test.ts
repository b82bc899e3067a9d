// The RAM-fit estimate against the seed's tier table, the reference's worked
// example, and properties any memory estimate must have.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateModelNeed, runtimeOf, usableMemory } from '../../reconciler/src/fit/estimate.ts';
import type { MemorySettings } from '../../reconciler/src/fit/estimate.ts';
import { bestLargerModel, fitNode, smallestFittingHardware, suggestSmallerModel } from '../../reconciler/src/fit/fit-node.ts';
import type { FitInput } from '../../reconciler/src/fit/fit-node.ts';
import type { Desired, FullOllamaEnv } from '../../reconciler/src/model/desired.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import type { Hardware, ModelFacts } from '../../reconciler/src/schema/fleet.ts';

let desired: Desired;
let memory: MemorySettings;
let env: FullOllamaEnv;

beforeAll(async () => {
  // The constants and model facts come from the real fleet files, as in production.
  const loaded = await loadFleet('fleet', { cwd: `${import.meta.dirname}/../..`, today: '2026-11-24' });
  if (!loaded.desired) throw new Error(`fleet/ does not load: ${JSON.stringify(loaded.problems)}`);
  desired = loaded.desired;
  memory = desired.settings.memory;
  env = desired.settings.ollama.env;
});

function hardware(ram_gb: number, metal: boolean): Hardware {
  return { model: metal ? 'Test Mac (Apple)' : 'Test iMac (Intel)', chip: metal ? 'Apple M4' : 'Intel', architecture: metal ? 'arm64' : 'x86_64', ram_gb, metal, storage_gb: 2000 };
}

function input(ram: number, metal: boolean, models: string[], maxLoaded = 2): FitInput {
  return { name: 'test', hardware_id: 'test', hardware: hardware(ram, metal), models, ollama_env: { ...env, OLLAMA_MAX_LOADED_MODELS: maxLoaded } };
}

describe('seed tier table (add_node_guide section 2)', () => {
  const cases: [string, number, boolean, string[], number, boolean][] = [
    ['16 GB + codestral:22b is rejected', 16, true, ['codestral:22b'], 2, false],
    ['16 GB llm_worker base with codestral:22b is rejected', 16, true, ['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest', 'codestral:22b'], 2, false],
    ['16 GB runs llama3.2:3b + llama3.1:8b', 16, true, ['llama3.2:3b', 'llama3.1:8b'], 2, true],
    ['24 GB runs llama3.1:8b + mistral:7b at once', 24, true, ['llama3.1:8b', 'mistral:7b'], 2, true],
    ['24 GB runs codestral:22b alone', 24, true, ['codestral:22b'], 1, true],
    ['24 GB cannot hold codestral:22b with llama3.1:8b', 24, true, ['codestral:22b', 'llama3.1:8b'], 2, false],
    ['32 GB runs llama3.1:8b + codestral:22b', 32, true, ['llama3.1:8b', 'codestral:22b'], 2, true],
    ['32 GB runs mistral-nemo:12b + llama3.1:8b', 32, true, ['mistral-nemo:12b', 'llama3.1:8b'], 2, true],
    ['32 GB rejects llama3.1:70b', 32, true, ['llama3.1:70b'], 2, false],
    ['64 GB Apple runs llama3.1:70b', 64, true, ['llama3.1:70b'], 2, true],
    ['96 GB runs llama3.1:70b + llama3.2:3b', 96, true, ['llama3.1:70b', 'llama3.2:3b'], 2, true],
    ['128 GB runs 70B + 30B + 8B at once', 128, true, ['llama3.1:70b', 'qwen2.5-coder:32b', 'llama3.1:8b'], 3, true],
    ['192 GB runs planner 70B + executor 30B + router 8B', 192, true, ['llama3.1:70b', 'qwen2.5-coder:32b', 'llama3.1:8b'], 3, true],
    ['Maestro (64 GB Intel, 2 loaded) fits', 64, false, ['llama3.1:8b', 'llama3.1:70b', 'mistral:7b', 'nomic-embed-text:latest'], 2, true],
    ['8 GB Intel cannot run even llama3.2:3b', 8, false, ['llama3.2:3b'], 1, false],
  ];
  it.each(cases)('%s', (_label, ram, metal, models, maxLoaded, fits) => {
    const result = fitNode(input(ram, metal, models, maxLoaded), desired.models, memory);
    expect(result.fits, `worst ${result.worst_case_gb.toFixed(2)} GB vs usable ${result.usable_gb.toFixed(2)} GB`).toBe(fits);
    expect(result.headroom_gb >= 0).toBe(fits);
  });
});

describe('estimateModelNeed', () => {
  it('matches the reference example: llama3.1:8b at 4096 context, one slot', () => {
    const need = estimateModelNeed('llama3.1:8b', desired.models['llama3.1:8b'] as ModelFacts, runtimeOf(env), memory);
    // 2 x 32 layers x 8 KV heads x 128 x 2 bytes x 4096 = 0.5 GiB
    expect(need.kv_gb).toBe(0.5);
    expect(need.weights_gb).toBeCloseTo(4920753328 / 2 ** 30, 6);
    expect(need.need_gb).toBeCloseTo(4.583 + 0.5 + 0.5, 2);
    expect(need.context).toBe(4096);
  });

  it('caps the context at the model\'s trained context', () => {
    const need = estimateModelNeed('nomic-embed-text:latest', desired.models['nomic-embed-text:latest'] as ModelFacts, runtimeOf({ ...env, OLLAMA_CONTEXT_LENGTH: 131072 }), memory);
    expect(need.context).toBe(2048);
  });

  it('scales the KV cache with parallel slots and the cache type (quantized only with flash attention)', () => {
    const facts = desired.models['llama3.1:8b'] as ModelFacts;
    const kv = (e: Partial<FullOllamaEnv>): number => estimateModelNeed('llama3.1:8b', facts, runtimeOf({ ...env, ...e }), memory).kv_gb;
    expect(kv({ OLLAMA_NUM_PARALLEL: 4 })).toBe(2);
    expect(kv({ OLLAMA_KV_CACHE_TYPE: 'q8_0', OLLAMA_FLASH_ATTENTION: true })).toBe(0.25);
    expect(kv({ OLLAMA_KV_CACHE_TYPE: 'q4_0', OLLAMA_FLASH_ATTENTION: true })).toBe(0.125);
    expect(kv({ OLLAMA_KV_CACHE_TYPE: 'q8_0' })).toBe(0.5);
  });
});

describe('usableMemory', () => {
  it('gives models 2/3 of RAM up to 36 GB and 3/4 above on Apple Silicon', () => {
    expect(usableMemory(hardware(24, true), memory).usable_gb).toBeCloseTo(16, 2);
    expect(usableMemory(hardware(36, true), memory).usable_gb).toBeCloseTo(24, 2);
    expect(usableMemory(hardware(48, true), memory).usable_gb).toBe(36);
    expect(usableMemory(hardware(64, true), memory).basis).toBe('apple-gpu');
  });

  it('gives RAM minus the OS reserve on Intel', () => {
    const u = usableMemory(hardware(64, false), memory);
    expect(u.usable_gb).toBe(64 - memory.intel_os_reserve_gb);
    expect(u.basis).toBe('cpu');
    expect(usableMemory(hardware(4, false), memory).usable_gb).toBe(0);
  });
});

describe('fitNode', () => {
  it('loads the OLLAMA_MAX_LOADED_MODELS largest models in the worst case', () => {
    const r = fitNode(input(64, false, ['nomic-embed-text', 'mistral:7b', 'llama3.1:70b', 'llama3.1:8b'].map((m) => (m.includes(':') ? m : `${m}:latest`)), 2), desired.models, memory);
    expect(r.worst_case.map((m) => m.model)).toEqual(['llama3.1:70b', 'llama3.1:8b']);
    expect(r.loaded_at_once).toBe(2);
    expect(r.models).toHaveLength(4);
  });

  it('skips models the catalog does not know and lists them', () => {
    const r = fitNode(input(24, true, ['llama3.1:8b', 'mystery:1b']), desired.models, memory);
    expect(r.unknown_models).toEqual(['mystery:1b']);
    expect(r.worst_case.map((m) => m.model)).toEqual(['llama3.1:8b']);
  });
});

describe('suggestions', () => {
  it('names the best larger model that still fits', () => {
    expect(bestLargerModel(input(16, true, ['llama3.2:3b', 'nomic-embed-text:latest']), desired.models, memory)?.model).toBe('mistral-nemo:12b');
    expect(bestLargerModel(input(64, false, ['llama3.1:70b', 'llama3.1:8b']), desired.models, memory)).toBeNull();
  });

  it('suggests a smaller model and a bigger machine for a misfit', () => {
    const misfit = input(32, true, ['llama3.1:70b', 'llama3.1:8b']);
    expect(suggestSmallerModel(misfit, desired.models, memory)?.model).toBe('codestral:22b');
    const need = fitNode(misfit, desired.models, memory).worst_case_gb;
    const bigger = smallestFittingHardware(need, desired.hardware, memory);
    expect(bigger?.hardware.ram_gb).toBe(64);
    expect(bigger?.id).toBe('mac-mini-m4-max-64gb'); // the cheapest 64 GB configuration
    expect(smallestFittingHardware(10_000, desired.hardware, memory)).toBeNull();
  });
});

describe('properties', () => {
  const facts = fc.record({
    parameters_b: fc.double({ min: 0.1, max: 500, noNaN: true }),
    quantization: fc.constant('Q4_K_M'),
    size_bytes: fc.integer({ min: 1, max: 500e9 }),
    architecture: fc.constant('llama'),
    layers: fc.integer({ min: 1, max: 200 }),
    kv_heads: fc.integer({ min: 1, max: 64 }),
    head_dim: fc.integer({ min: 1, max: 256 }),
    max_context: fc.integer({ min: 512, max: 1_048_576 }),
    kind: fc.constantFrom('completion' as const, 'embedding' as const),
  });

  it('need grows with context, parallel slots, size and layers', () => {
    fc.assert(fc.property(facts, fc.integer({ min: 512, max: 262144 }), fc.integer({ min: 512, max: 262144 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 50 }), (f, c1, c2, parallel, moreBytes, moreLayers) => {
      const rt = (context: number): ReturnType<typeof runtimeOf> => runtimeOf({ ...env, OLLAMA_CONTEXT_LENGTH: context, OLLAMA_NUM_PARALLEL: parallel });
      const [lo, hi] = c1 <= c2 ? [c1, c2] : [c2, c1];
      const base = estimateModelNeed('m', f, rt(lo), memory);
      expect(estimateModelNeed('m', f, rt(hi), memory).need_gb).toBeGreaterThanOrEqual(base.need_gb);
      expect(estimateModelNeed('m', { ...f, size_bytes: f.size_bytes + moreBytes }, rt(lo), memory).need_gb).toBeGreaterThanOrEqual(base.need_gb);
      expect(estimateModelNeed('m', { ...f, layers: f.layers + moreLayers }, rt(lo), memory).need_gb).toBeGreaterThanOrEqual(base.need_gb);
      expect(base.need_gb).toBeGreaterThan(base.weights_gb);
    }));
  });

  it('more RAM never turns a fit into a misfit; another model never shrinks the worst case', () => {
    const refs = Object.keys(desired.models);
    fc.assert(fc.property(fc.subarray(refs), fc.constantFrom(...refs), fc.integer({ min: 8, max: 256 }), fc.integer({ min: 0, max: 128 }), fc.boolean(), fc.integer({ min: 1, max: 4 }), (models, extra, ram, more, metal, maxLoaded) => {
      const small = fitNode(input(ram, metal, models, maxLoaded), desired.models, memory);
      const big = fitNode(input(ram + more, metal, models, maxLoaded), desired.models, memory);
      if (small.fits) expect(big.fits).toBe(true);
      const withExtra = fitNode(input(ram, metal, [...models, extra], maxLoaded), desired.models, memory);
      expect(withExtra.worst_case_gb).toBeGreaterThanOrEqual(small.worst_case_gb - 1e-9);
    }));
  });
});
