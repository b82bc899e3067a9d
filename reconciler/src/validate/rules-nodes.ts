// Rules about each node file: references into roles and catalogs, naming
// (orchestral names), dates, addresses, and what a role may run on.
import type { NodeDoc } from '../schema/fleet.ts';
import { closestWord } from './closest-word.ts';
import { nodeRef } from './context.ts';
import type { RuleContext } from './context.ts';
import { addMonths, isValidDate } from './dates.ts';
import { ORCHESTRAL_NAMES, SUGGESTED_NAMES } from './orchestral-names.ts';
import { quoteValue } from '../model/problem.ts';

/** Months before a retired name may be used again (seed: avoid SSH key confusion). */
export const NAME_REUSE_MONTHS = 6;

function listOf(names: Iterable<string>, max = 8): string {
  const all = [...names];
  return all.length > max ? `${all.slice(0, max).join(', ')}, …` : all.join(', ');
}

const suggestions = new WeakMap<RuleContext, string | null>();

/** A free suggested name: not used by a node and not retired recently. Computed once per run. */
export function suggestName(ctx: RuleContext): string | undefined {
  let name = suggestions.get(ctx);
  if (name === undefined) {
    const taken = new Set(ctx.fleet.nodes.map((n) => n.name));
    for (const r of ctx.fleet.retired) taken.add(r.name);
    name = SUGGESTED_NAMES.find((n) => !taken.has(n)) ?? null;
    suggestions.set(ctx, name);
  }
  return name ?? undefined;
}

function checkReferences(ctx: RuleContext, node: NodeDoc): void {
  const ref = nodeRef(node);
  const { roles, hardware } = ctx.fleet;
  const role = roles[node.role];
  if (!role && !ctx.brokenRoles.has(node.role)) {
    const guess = closestWord(node.role, Object.keys(roles));
    ctx.error(ref, ['role'], 'unknown-role', `Role ${quoteValue(node.role)} is not defined in fleet/roles/. ${guess ? `Did you mean "${guess}"? ` : ''}Use one of: ${listOf(Object.keys(roles).sort())}, or add fleet/roles/${node.role}.yaml.`);
  }
  if (hardware && !hardware[node.hardware]) {
    const guess = closestWord(node.hardware, Object.keys(hardware));
    ctx.error(ref, ['hardware'], 'unknown-hardware', `Hardware ${quoteValue(node.hardware)} is not in fleet/catalog/hardware.yaml. ${guess ? `Did you mean "${guess}"? ` : ''}Add the configuration to the catalog (chip, RAM, Metal, storage) or use an existing id.`);
  }
  if (role && !role.services.ollama && (node.models?.length ?? 0) > 0) {
    ctx.error(ref, ['models'], 'models-without-ollama', `Role ${node.role} does not run Ollama, so ${node.name} cannot serve models. Remove the models list, or use an LLM role (llm_worker, full_worker).`, 'key');
  }
  if (role && !role.services.ollama && node.role_models === 'replace') {
    ctx.warn(ref, ['role_models'], 'models-without-ollama', `Role ${node.role} does not run Ollama, so role_models has no effect here. Remove it.`, 'key');
  }
  if (role?.services.ollama && node.role_models === 'replace' && (node.models?.length ?? 0) === 0 && node.status !== 'retired') {
    ctx.warn(ref, ['role_models'], 'no-models', `${node.name} replaces its role's base models with none, so its Ollama serves nothing and its workers stay disabled. List the models it should serve under models:, or use a role without Ollama.`, 'key');
  }
  if (role && !role.services.ollama && node.ollama_env) {
    ctx.warn(ref, ['ollama_env'], 'unused-ollama-env', `Role ${node.role} does not run Ollama; ollama_env has no effect here. Remove it.`, 'key');
  }
}

function checkNaming(ctx: RuleContext, node: NodeDoc, retiredNames: ReadonlyMap<string, string>): void {
  const ref = nodeRef(node);
  const display = node.display_name;
  if (display !== undefined && display.toLowerCase() !== node.name) {
    ctx.warn(ref, ['display_name'], 'display-name', `Display name ${quoteValue(display)} does not match the hostname ${node.name}; people will look for "${node.name.charAt(0).toUpperCase()}${node.name.slice(1)}". Remove display_name to use the capitalised name, or keep it on purpose.`);
  }
  if (node.status === 'retired') return;
  const retiredOn = retiredNames.get(node.name);
  if (retiredOn !== undefined && isValidDate(retiredOn)) {
    const reusableFrom = addMonths(retiredOn, NAME_REUSE_MONTHS);
    if (ctx.today < reusableFrom) {
      const other = suggestName(ctx);
      ctx.error(ref, ['name'], 'name-reuse', `The name ${node.name} was retired on ${retiredOn} (fleet/retired.yaml) and may be reused only ${NAME_REUSE_MONTHS} months later, from ${reusableFrom}, so the old machine's SSH host key and registry entries cannot be mistaken for this one. Pick another name${other ? `, e.g. ${other}` : ''}.`);
    }
  }
  if (!ORCHESTRAL_NAMES.has(node.name)) {
    const other = suggestName(ctx);
    ctx.warn(ref, ['name'], 'orchestral-name', `${node.name} is not from the orchestral naming list${other ? `; the next suggested name is ${other}` : ''}. Fine if intended.`);
  }
}

function checkDates(ctx: RuleContext, node: NodeDoc): void {
  const ref = nodeRef(node);
  for (const key of ['added', 'retired'] as const) {
    const value = node[key];
    if (value !== undefined && !isValidDate(value)) ctx.error(ref, [key], 'invalid-date', `${key} is ${quoteValue(value)}, which is not a calendar date. Write a real date, YYYY-MM-DD.`);
  }
  if (node.added === undefined) {
    ctx.warn(ref, ['status'], 'added-date', `${node.name} has no added date, so its registry entry has no added_date. Add \`added: YYYY-MM-DD\`, the day it joined (\`fleet add-node\` writes it).`, 'key');
  }
  if (node.status === 'retired' && node.retired === undefined) {
    ctx.error(ref, ['status'], 'retired-date', `${node.name} is retired but has no retired date. Add \`retired: YYYY-MM-DD\` (the name may be reused ${NAME_REUSE_MONTHS} months after it).`);
  }
  if (node.status !== 'retired' && node.retired !== undefined) {
    ctx.error(ref, ['retired'], 'retired-date', `${node.name} has a retired date but its status is ${node.status}. Set \`status: retired\`, or remove the retired date.`, 'key');
  }
  if (node.added !== undefined && node.retired !== undefined && node.added > node.retired) {
    ctx.error(ref, ['retired'], 'date-order', `${node.name} was retired (${node.retired}) before it was added (${node.added}). Fix one of the dates.`);
  }
}

function checkRoleFitsHardware(ctx: RuleContext, node: NodeDoc): void {
  const role = ctx.fleet.roles[node.role];
  const hw = ctx.fleet.hardware?.[node.hardware];
  if (!role || !hw || !role.services.ollama || node.status === 'retired') return;
  const ref = nodeRef(node);
  // The minimum for a node that serves LLMs when fleet.yaml does not say.
  const minRam = ctx.fleet.settings?.memory.llm_min_ram_gb ?? 16;
  if (hw.ram_gb < minRam) {
    ctx.error(ref, ['role'], 'llm-min-ram', `${node.name} (${hw.model}, ${hw.ram_gb} GB) is too small for role ${node.role}, which runs Ollama: LLM roles need at least ${minRam} GB (8 GB is insufficient for any LLM work). Use browser_node, or a Mac with ${minRam} GB or more.`);
  }
  if (!hw.metal) {
    ctx.warn(ref, ['hardware'], 'intel-llm', `${node.name} runs Ollama on ${hw.model} without Metal: CPU-only inference is 10-30x slower than on Apple Silicon for the same model. Worth it only with much RAM (like Maestro's 64 GB); buy Apple Silicon (M4) for new LLM nodes.`);
  }
}

function checkUniqueness(ctx: RuleContext): void {
  const names = new Map<string, NodeDoc>();
  const addresses = new Map<string, { node: NodeDoc; index: number }>();
  for (const node of ctx.fleet.nodes) {
    const ref = nodeRef(node);
    const first = names.get(node.name);
    if (first) {
      ctx.error(ref, ['name'], 'duplicate-name', `Two node files are named ${node.name} (the other: ${ctx.where(nodeRef(first), ['name'])}). Node names are hostnames and must be unique; rename one.`);
      continue;
    }
    names.set(node.name, node);
    // A retired node's addresses may go to its successor.
    if (node.status === 'retired') continue;
    node.addresses.forEach((address, index) => {
      const seen = addresses.get(address);
      if (seen) {
        ctx.error(ref, ['addresses', index], 'duplicate-address', `Address ${address} is also used by ${seen.node.name} (${ctx.where(nodeRef(seen.node), ['addresses', seen.index])}). Each address must reach exactly one node; give ${node.name} its own.`);
      } else {
        addresses.set(address, { node, index });
      }
      const mdns = /^([a-z0-9-]+)\.local$/.exec(address);
      if (mdns && mdns[1] !== node.name) {
        ctx.warn(ref, ['addresses', index], 'local-address', `${address} is not ${node.name}'s mDNS name: provisioning sets LocalHostName to ${node.name}, so the node answers as ${node.name}.local. Use ${node.name}.local.`);
      }
    });
  }
}

export function checkNodes(ctx: RuleContext): void {
  const retiredNames = new Map<string, string>();
  for (const r of ctx.fleet.retired) {
    const previous = retiredNames.get(r.name);
    if (previous === undefined || r.retired > previous) retiredNames.set(r.name, r.retired);
  }
  for (const node of ctx.fleet.nodes) {
    checkReferences(ctx, node);
    checkNaming(ctx, node, retiredNames);
    checkDates(ctx, node);
    checkRoleFitsHardware(ctx, node);
  }
  checkUniqueness(ctx);
}

export function checkRetiredList(ctx: RuleContext): void {
  ctx.fleet.retired.forEach((r, i) => {
    if (!isValidDate(r.retired)) ctx.error({ kind: 'retired' }, ['retired', i, 'retired'], 'invalid-date', `${r.retired} is not a calendar date. Write the retirement date as YYYY-MM-DD.`);
  });
}
