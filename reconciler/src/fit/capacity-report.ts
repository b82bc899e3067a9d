// `fleet capacity` as data: per node RAM, usable memory, models with their
// estimated need, worst case, headroom and the best larger model that would
// still fit; totals for the fleet. Renderers turn it into text, markdown, JSON.
import { resolveNode } from '../model/desired.ts';
import type { Desired } from '../model/desired.ts';
import { bestLargerModel, fitNode } from './fit-node.ts';
import type { FitInput } from './fit-node.ts';

export interface CapacityModel {
  model: string;
  need_gb: number;
  context: number;
}

export interface CapacityRow {
  node: string;
  role: string;
  status: string;
  hardware_id: string;
  hardware_model: string;
  /** null when the hardware id is unknown. */
  ram_gb: number | null;
  /** Whether the role runs Ollama; the memory columns are null when not. */
  ollama: boolean;
  usable_gb: number | null;
  usable_explanation: string | null;
  models: CapacityModel[];
  loaded_at_once: number;
  worst_case: string[];
  worst_case_gb: number | null;
  headroom_gb: number | null;
  fits: boolean | null;
  best_larger_model: CapacityModel | null;
}

export interface CapacityReport {
  rows: CapacityRow[];
  totals: {
    nodes: number;
    ram_gb: number;
    usable_gb: number;
    worst_case_gb: number;
    headroom_gb: number;
    not_fitting: string[];
  };
}

/** Every node that is not retired, in name order. */
export function buildCapacityReport(desired: Desired): CapacityReport {
  const rows: CapacityRow[] = [];
  const memory = desired.settings.memory;
  for (const doc of desired.nodes) {
    if (doc.status === 'retired' || !desired.roles[doc.role]) continue;
    const node = resolveNode(desired, doc);
    const hw = node.hardware;
    const base = {
      node: node.name, role: doc.role, status: node.status, hardware_id: node.hardware_id,
      hardware_model: hw?.model ?? 'unknown hardware', ram_gb: hw?.ram_gb ?? null, ollama: node.role.services.ollama,
    };
    if (!hw || !node.role.services.ollama) {
      rows.push({ ...base, usable_gb: null, usable_explanation: null, models: [], loaded_at_once: 0, worst_case: [], worst_case_gb: null, headroom_gb: null, fits: null, best_larger_model: null });
      continue;
    }
    const input: FitInput = { name: node.name, hardware_id: node.hardware_id, hardware: hw, models: node.models, ollama_env: node.ollama_env };
    const fit = fitNode(input, desired.models, memory);
    const larger = bestLargerModel(input, desired.models, memory);
    rows.push({
      ...base,
      usable_gb: fit.usable_gb,
      usable_explanation: fit.usable_explanation,
      models: fit.models.map((m) => ({ model: m.model, need_gb: m.need_gb, context: m.context })),
      loaded_at_once: fit.loaded_at_once,
      worst_case: fit.worst_case.map((m) => m.model),
      worst_case_gb: fit.worst_case_gb,
      headroom_gb: fit.headroom_gb,
      fits: fit.fits,
      best_larger_model: larger ? { model: larger.model, need_gb: larger.need_gb, context: larger.context } : null,
    });
  }
  let ram = 0;
  let usable = 0;
  let worst = 0;
  for (const r of rows) {
    ram += r.ram_gb ?? 0;
    usable += r.usable_gb ?? 0;
    worst += r.worst_case_gb ?? 0;
  }
  return {
    rows,
    totals: { nodes: rows.length, ram_gb: ram, usable_gb: usable, worst_case_gb: worst, headroom_gb: usable - worst, not_fitting: rows.filter((r) => r.fits === false).map((r) => r.node) },
  };
}
