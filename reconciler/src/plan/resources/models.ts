// The node's models. Missing ones (or ones whose digest differs from the pin)
// are pulled smallest first, each after the previous; what the disk cannot
// hold becomes a manual step. Models no longer desired are removed, with
// prune, before the pulls so their space counts. With no Ollama answering and
// no manifests readable the model list is unknown, not empty: unless Ollama is
// about to be (re)started, nothing is planned on a guess.
import { normalizeModelRef } from '../../model/desired.ts';
import { diskSpaceStep, formatBytes } from '../manual-steps.ts';
import { emptyResourcePlan, planned, type NodeContext, type ResourcePlan } from './node-context.ts';

export interface ModelsPlan extends ResourcePlan {
  removeIds: string[];
}

export interface ModelsDeps {
  /** Steps after which Ollama serves (agent planner). */
  agentReady: readonly string[];
  /** Ollama is about to be loaded, restarted or installed: its model list will be readable. */
  ollamaStarting: boolean;
}

function installedModels(ctx: NodeContext): Map<string, { digest: string; size: number }> {
  return new Map(ctx.facts.ollama.models.map((m) => [normalizeModelRef(m.name), m]));
}

/** Models on the node that fleet/ does not give it, by name. */
function extraModels(ctx: NodeContext): { model: string; bytes: number }[] {
  if (ctx.facts.ollama.models_source === 'none') return [];
  const have = installedModels(ctx);
  return [...have.keys()].filter((m) => !ctx.node.models.includes(m)).sort().map((model) => ({ model, bytes: have.get(model)?.size ?? 0 }));
}

/** The remove-model steps planModels plans: the agent's unload waits for them. */
export function modelRemovalIds(ctx: NodeContext): string[] {
  return ctx.options.prune ? extraModels(ctx).map((m) => `${ctx.node.name}/remove-model/${m.model}`) : [];
}

export function planModels(ctx: NodeContext, deps: ModelsDeps): ModelsPlan {
  const { desired, node, facts, options } = ctx;
  const n = node.name;
  const serves = node.role.services.ollama;
  const out = emptyResourcePlan();
  const removeIds: string[] = [];
  let freedBytes = 0;
  for (const { model: m, bytes } of extraModels(ctx)) {
    if (!options.prune) {
      out.notes.push(`extra model ${m} (${formatBytes(bytes)}) kept (prune is off)`);
      continue;
    }
    out.differences.push({ field: `models.${m}`, desired: null, observed: 'present' });
    const id = `${n}/remove-model/${m}`;
    removeIds.push(id);
    freedBytes += bytes;
    out.steps.push({ kind: 'remove-model', id, node: n, model: m, bytes, why: `${m} is on the node but not in fleet/ (prune is on)`, after: serves ? [...deps.agentReady] : [] });
  }

  const modelsUnknown = facts.ollama.models_source === 'none' && !deps.ollamaStarting;
  if (modelsUnknown && serves) out.notes.push('the models on the node are unknown (Ollama did not answer and its manifests could not be read): no model steps planned');
  if (!serves || modelsUnknown) return { ...out, removeIds };

  const have = installedModels(ctx);
  const missing: { model: string; bytes: number; why: string }[] = [];
  for (const m of node.models) {
    const bytes = desired.models[m]?.size_bytes ?? 0;
    const seen = have.get(m);
    const pinned = desired.models[m]?.digest;
    if (seen === undefined) {
      out.differences.push({ field: `models.${m}`, desired: 'present', observed: null });
      missing.push({ model: m, bytes, why: `${m} is not on the node` });
    } else if (pinned !== undefined && seen.digest !== pinned) {
      out.differences.push({ field: `models.${m}.digest`, desired: pinned.slice(0, 12), observed: seen.digest.slice(0, 12) });
      missing.push({ model: m, bytes, why: `${m} has digest ${seen.digest.slice(0, 12)}, fleet/ pins ${pinned.slice(0, 12)}` });
    }
  }
  missing.sort((a, b) => a.bytes - b.bytes || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  const available = facts.disk.available_bytes;
  const margin = desired.settings.memory.disk_margin_gb * 1e9;
  let budget = available === null ? null : available + freedBytes - margin;
  const tooBig: { model: string; bytes: number }[] = [];
  let previous: string | undefined;
  for (const m of missing) {
    if (budget !== null && m.bytes > budget) {
      tooBig.push(m);
      continue;
    }
    if (budget !== null) budget -= m.bytes;
    const id = `${n}/pull-model/${m.model}`;
    const space = available === null ? '' : `; ${formatBytes(m.bytes)} of ${formatBytes(available + freedBytes)} free`;
    out.steps.push({ kind: 'pull-model', id, node: n, model: m.model, bytes: m.bytes, why: `${m.why}${space}`, after: [...deps.agentReady, ...removeIds, ...planned(previous)] });
    previous = id;
  }
  if (tooBig.length > 0 && available !== null) out.steps.push(diskSpaceStep(desired.settings, node, ctx.address, tooBig, available + freedBytes, margin));
  return { ...out, removeIds };
}
