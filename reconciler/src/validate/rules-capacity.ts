// Memory and disk: every node's worst case must fit what the Mac gives models
// (see fit/), and its models must fit on its disk.
import { normalizeModelRef, resolveNode } from '../load/desired.ts';
import type { Desired, DesiredNode } from '../load/desired.ts';
import { formatGb } from '../fit/estimate.ts';
import type { MemorySettings } from '../fit/estimate.ts';
import { fitNode, smallestFittingHardware, suggestSmallerModel } from '../fit/fit-node.ts';
import type { FitInput, FitResult, ModelCatalog } from '../fit/fit-node.ts';
import type { FleetSettingsDoc, Hardware, NodeDoc } from '../schema/fleet.ts';
import { nodeRef } from './context.ts';
import type { RuleContext } from './context.ts';

const DISK_BYTES_PER_GB = 1e9; // storage is sold and shown in decimal GB

/** The view of the fleet resolveNode needs, built from what loaded. */
function resolvable(ctx: RuleContext, settings: FleetSettingsDoc): Desired {
  return {
    dir: '', settings, knownHosts: '', nodes: [], retired: [],
    roles: { ...ctx.fleet.roles }, hardware: { ...(ctx.fleet.hardware ?? {}) }, models: { ...(ctx.fleet.models ?? {}) },
  };
}

/** How many of the largest models fit together; 0 when even the largest alone does not. */
function loadableCount(fit: FitResult): number {
  let sum = 0;
  let k = 0;
  for (const m of fit.models) {
    if (sum + m.need_gb > fit.usable_gb) break;
    sum += m.need_gb;
    k++;
  }
  return k;
}

/**
 * The model-fit message: the numbers, then the fixes that would work.
 * `ownModels`: the node's own models (a base model of its role cannot be swapped on the node).
 */
export function describeMisfit(fit: FitResult, input: FitInput, ownModels: readonly string[], catalog: ModelCatalog, hardwareCatalog: Readonly<Record<string, Hardware>>, memory: MemorySettings): string {
  const largest = fit.worst_case[0];
  const context = largest ? largest.context : fit.runtime.context;
  const need = fit.loaded_at_once > 1
    ? `The ${fit.loaded_at_once} largest models it may load at once (OLLAMA_MAX_LOADED_MODELS ${fit.runtime.maxLoaded}), ${fit.worst_case.map((m) => `${m.model} ~${formatGb(m.need_gb)} GB`).join(' + ')}, need ~${formatGb(fit.worst_case_gb)} GB`
    : `${largest?.model ?? 'The model'} needs ~${formatGb(fit.worst_case_gb)} GB (weights ${formatGb(largest?.weights_gb ?? 0)} + KV cache ${formatGb(largest?.kv_gb ?? 0)} at ${context} context + runtime ${formatGb(largest?.overhead_gb ?? 0)})`;
  const gives = `${fit.node} (${fit.hardware_model}, ${fit.ram_gb} GB) gives models ~${formatGb(fit.usable_gb)} GB (${fit.usable_explanation})`;
  const fixes: string[] = [];
  const smaller = largest && ownModels.includes(largest.model) ? suggestSmallerModel(input, catalog, memory) : null;
  if (smaller && largest) fixes.push(`use ${smaller.model} (~${formatGb(smaller.need_gb)} GB) instead of ${largest.model}`);
  if (largest && !ownModels.includes(largest.model)) fixes.push(`replace the role's base models (\`role_models: replace\` and only the models it needs under models:)`);
  const k = loadableCount(fit);
  if (k >= 1 && k < fit.loaded_at_once) fixes.push(`set OLLAMA_MAX_LOADED_MODELS to ${k} in ollama_env`);
  const bigger = smallestFittingHardware(fit.worst_case_gb, hardwareCatalog, memory);
  if (bigger) fixes.push(`use a ${bigger.hardware.model} with ${bigger.hardware.ram_gb} GB (${bigger.id}, ~${formatGb(bigger.usable_gb)} GB for models)`);
  if (fixes.length === 0) fixes.push('remove models from this node');
  return `${need}; ${gives}. Fix: ${fixes.join(', or ')}.`;
}

/** Points at the line to change: the node's own entry for the largest model, else its hardware. */
function misfitPath(node: NodeDoc, fit: FitResult): (string | number)[] {
  for (const m of fit.worst_case) {
    const index = (node.models ?? []).findIndex((ref) => normalizeModelRef(ref) === m.model);
    if (index !== -1) return ['models', index];
  }
  return ['hardware'];
}

/** Headroom under which a node that fits is still warned about: 10% of usable memory, and at least 1 GB. */
export const NEAR_LIMIT_FRACTION = 0.1;
export const NEAR_LIMIT_MIN_GB = 1;

/** Fits, but barely: a longer prompt, a macOS update or one more app and it swaps. */
function checkNearLimit(ctx: RuleContext, node: NodeDoc, fit: FitResult, input: FitInput, own: readonly string[], catalog: ModelCatalog, memory: MemorySettings): void {
  if (fit.worst_case.length === 0) return;
  const left = fit.headroom_gb;
  const share = fit.usable_gb > 0 ? left / fit.usable_gb : 0;
  if (share >= NEAR_LIMIT_FRACTION && left >= NEAR_LIMIT_MIN_GB) return;
  const largest = fit.worst_case[0];
  const fixes: string[] = [];
  const smaller = largest && own.includes(largest.model) ? suggestSmallerModel(input, catalog, memory) : null;
  if (smaller && largest) fixes.push(`use ${smaller.model} (~${formatGb(smaller.need_gb)} GB) instead of ${largest.model}`);
  if (largest && !own.includes(largest.model)) fixes.push(`serve fewer models: \`role_models: replace\` with only the models ${node.name} needs under models:`);
  if (fit.loaded_at_once > 1) fixes.push(`set OLLAMA_MAX_LOADED_MODELS to ${fit.loaded_at_once - 1} in ollama_env`);
  fixes.push('accept it knowingly');
  const models = fit.worst_case.map((m) => `${m.model} ~${formatGb(m.need_gb)} GB`).join(' + ');
  ctx.warn(nodeRef(node), misfitPath(node, fit), 'near-limit', `${node.name}'s worst case (${models}) needs ~${formatGb(fit.worst_case_gb)} GB of the ~${formatGb(fit.usable_gb)} GB ${fit.hardware_model} (${fit.ram_gb} GB) gives models (${fit.usable_explanation}), leaving ~${formatGb(left)} GB (${Math.round(share * 100)}%): less than ${Math.round(NEAR_LIMIT_FRACTION * 100)}% or ${NEAR_LIMIT_MIN_GB} GB. A longer context or one more app and it swaps. Fix: ${fixes.join(', or ')}.`);
}

function checkDisk(ctx: RuleContext, node: NodeDoc, resolved: DesiredNode, hw: Hardware, memory: MemorySettings): void {
  const models = ctx.fleet.models ?? {};
  let bytes = 0;
  for (const m of resolved.models) bytes += models[m]?.size_bytes ?? 0;
  const modelsGb = bytes / DISK_BYTES_PER_GB;
  if (modelsGb + memory.disk_margin_gb <= hw.storage_gb) return;
  ctx.error(nodeRef(node), ['hardware'], 'disk-fit', `The models of ${node.name} take ~${modelsGb.toFixed(1)} GB on disk and ${memory.disk_margin_gb} GB must stay free for macOS and apps, but ${hw.model} (${node.hardware}) has ${hw.storage_gb} GB of storage. Remove models, or pick a configuration with more storage.`);
}

export function checkCapacity(ctx: RuleContext): void {
  const { settings, hardware, models } = ctx.fleet;
  if (!settings || !hardware || !models) return;
  const memory = settings.memory;
  const desired = resolvable(ctx, settings);
  const kv = settings.ollama.env.OLLAMA_KV_CACHE_TYPE;
  if (kv !== undefined && kv !== 'f16' && settings.ollama.env.OLLAMA_FLASH_ATTENTION !== true) {
    ctx.warn({ kind: 'settings' }, ['ollama', 'env', 'OLLAMA_KV_CACHE_TYPE'], 'kv-cache-type', `OLLAMA_KV_CACHE_TYPE ${kv} takes effect only with OLLAMA_FLASH_ATTENTION true; without it Ollama uses f16 (and the fit check does too). Set OLLAMA_FLASH_ATTENTION: true or remove the cache type.`);
  }
  for (const node of ctx.fleet.nodes) {
    const role = ctx.fleet.roles[node.role];
    const hw = hardware[node.hardware];
    if (!role || !hw || node.status === 'retired' || !role.services.ollama) continue;
    const resolved = resolveNode(desired, node);
    const nodeKv = node.ollama_env?.OLLAMA_KV_CACHE_TYPE;
    if (nodeKv !== undefined && nodeKv !== 'f16' && resolved.ollama_env.OLLAMA_FLASH_ATTENTION !== true) {
      ctx.warn(nodeRef(node), ['ollama_env', 'OLLAMA_KV_CACHE_TYPE'], 'kv-cache-type', `OLLAMA_KV_CACHE_TYPE ${nodeKv} takes effect only with OLLAMA_FLASH_ATTENTION true; without it Ollama uses f16 (and the fit check does too). Add OLLAMA_FLASH_ATTENTION: true.`);
    }
    if (node.name !== settings.network.bob_node && /^127\./.test(resolved.ollama_env.OLLAMA_HOST)) {
      ctx.warn(nodeRef(node), node.ollama_env?.OLLAMA_HOST ? ['ollama_env', 'OLLAMA_HOST'] : ['role'], 'ollama-host', `OLLAMA_HOST ${resolved.ollama_env.OLLAMA_HOST} keeps ${node.name}'s Ollama local: Bob and OpenClaw cannot reach it. Use 0.0.0.0.`);
    }
    const input: FitInput = { name: node.name, hardware_id: node.hardware, hardware: hw, models: resolved.models, ollama_env: resolved.ollama_env };
    const fit = fitNode(input, models, memory);
    const own = node.role_models === 'replace' ? resolved.models : (node.models ?? []).map(normalizeModelRef);
    if (!fit.fits) {
      ctx.error(nodeRef(node), misfitPath(node, fit), 'model-fit', describeMisfit(fit, input, own, models, hardware, memory));
    } else if (fit.unknown_models.length === 0) {
      checkNearLimit(ctx, node, fit, input, own, models, memory);
    }
    checkDisk(ctx, node, resolved, hw, memory);
  }
}
