// A Mac's hardware catalog entry from what observe's probe read on it (the
// boot sections: `uname -m`, `sysctl -n hw.optional.arm64`, `sysctl -n
// hw.memsize hw.ncpu hw.model machdep.cpu.brand_string`, `df -Pk "$HOME"`):
// an existing entry when one describes this Mac, else a new one. Pure.
import type { Hardware } from '../schema/fleet.ts';
import type { ObservedFacts } from '../schema/observed.ts';

export interface DetectedHardware {
  architecture: 'arm64' | 'x86_64';
  chip: string;
  ram_gb: number;
  /** Nominal size (256, 512, 1000...) from the data volume's size. */
  storage_gb: number;
  ncpu: number | undefined;
  hw_model: string | undefined;
}

export type HardwareChoiceResult =
  | { ok: true; id: string; hardware: Hardware; created: boolean; why: string }
  | { ok: false; missing: string[] };

/** Sizes SSDs are sold in (decimal GB); an APFS container is a little smaller than its SSD. */
const NOMINAL_GB = [128, 256, 512, 1000, 2000, 4000, 8000, 16000];
const GIB = 2 ** 30;

export function nominalStorageGb(totalBytes: number): number {
  const gb = totalBytes / 1e9;
  return NOMINAL_GB.find((n) => gb <= n * 1.001) ?? Math.ceil(gb);
}

/** What the probe's facts say about the hardware; the names of what is missing otherwise. */
export function detectedHardwareOf(facts: ObservedFacts): { detected: DetectedHardware } | { missing: string[] } {
  const hw = facts.hardware;
  const missing: string[] = [];
  // Under Rosetta `uname -m` says x86_64 on Apple Silicon; hw.optional.arm64 does not lie.
  const architecture = hw.arm64_capable === true ? 'arm64' : hw.architecture === 'arm64' || hw.architecture === 'x86_64' ? hw.architecture : undefined;
  if (architecture === undefined) missing.push('architecture (uname -m)');
  if (hw.chip === null || hw.chip === '') missing.push('chip (sysctl machdep.cpu.brand_string)');
  if (hw.ram_bytes === null) missing.push('memory (sysctl hw.memsize)');
  if (facts.disk.total_bytes === null) missing.push('disk size (df -Pk $HOME)');
  if (missing.length > 0 || architecture === undefined || hw.chip === null || hw.ram_bytes === null || facts.disk.total_bytes === null) return { missing };
  return {
    detected: {
      architecture,
      chip: hw.chip.trim(),
      ram_gb: Math.round(hw.ram_bytes / GIB),
      storage_gb: nominalStorageGb(facts.disk.total_bytes),
      ncpu: hw.ncpu ?? undefined,
      hw_model: hw.hw_model ?? undefined,
    },
  };
}

function describe(d: DetectedHardware): string {
  return `${d.chip}, ${d.ram_gb} GB, ${d.architecture}${d.hw_model === undefined ? '' : `, hw.model ${d.hw_model}`}, ${d.storage_gb} GB disk`;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/\((r|tm)\)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
}

/**
 * The catalog entry for a detected Mac. Chip, memory and architecture must
 * match; hw.model picks among entries that share them (a Mac mini M4 and a
 * MacBook Pro M4); the entry's storage must not exceed the Mac's (the disk
 * check would promise space that is not there). Otherwise a new entry, named
 * after an entry with the same hw.model when there is one.
 */
export function chooseHardware(d: DetectedHardware, catalog: Readonly<Record<string, Hardware>>, date: string): HardwareChoiceResult {
  const same = Object.entries(catalog).filter(([, h]) => h.chip === d.chip && h.ram_gb === d.ram_gb && h.architecture === d.architecture);
  const byModel = d.hw_model === undefined ? [] : same.filter(([, h]) => h.hw_model === d.hw_model);
  const pool = byModel.length > 0 ? byModel : same.filter(([, h]) => h.hw_model === undefined || d.hw_model === undefined);
  const fitting = pool.filter(([, h]) => h.storage_gb <= d.storage_gb).sort(([a, ha], [b, hb]) => hb.storage_gb - ha.storage_gb || (a < b ? -1 : 1));
  const found = fitting[0];
  if (found !== undefined) {
    const [id, hardware] = found;
    const disk = hardware.storage_gb < d.storage_gb ? ` (it has ${d.storage_gb} GB of disk; the entry's ${hardware.storage_gb} GB keeps the disk check on the safe side)` : '';
    return { ok: true, id, hardware, created: false, why: `${describe(d)}: catalog entry ${id}, ${hardware.model}${disk}` };
  }
  const sibling = Object.entries(catalog).find(([, h]) => d.hw_model !== undefined && h.hw_model === d.hw_model);
  const smallerDisk = pool[0];
  const model = sibling?.[1].model ?? smallerDisk?.[1].model ?? `Mac (hw.model ${d.hw_model ?? 'unknown'})`;
  let id = smallerDisk !== undefined ? `${smallerDisk[0]}-${d.storage_gb}gb-disk` : `${slug(model)}-${d.ram_gb}gb`;
  const taken = new Set(Object.keys(catalog));
  for (let i = 2; taken.has(id); i++) id = `${id.replace(/-\d+$/, '')}-${i}`;
  const named = sibling !== undefined ? `named after ${sibling[0]} (same hw.model)` : smallerDisk !== undefined ? `like ${smallerDisk[0]}, with this Mac's smaller disk` : 'model name unknown: write its marketing name in `model`';
  const hardware: Hardware = {
    model,
    chip: d.chip,
    architecture: d.architecture,
    ram_gb: d.ram_gb,
    metal: d.architecture === 'arm64',
    storage_gb: d.storage_gb,
    ...(d.ncpu !== undefined ? { ncpu: d.ncpu } : {}),
    ...(d.hw_model !== undefined && /^[A-Za-z]+[0-9]+,[0-9]+$/.test(d.hw_model) ? { hw_model: d.hw_model } : {}),
    notes: `Detected by \`fleet add-node --detect\` on ${date}; ${named}.`,
  };
  return { ok: true, id, hardware, created: true, why: `${describe(d)}: no catalog entry matches; new entry ${id} (${named})` };
}
