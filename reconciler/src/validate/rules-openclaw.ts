// Rules about Bob and OpenClaw: one hq, Bob is a real hq node, worker ids are
// unique and routing rules name workers that exist.
import { nodeModels, normalizeModelRef } from '../load/desired.ts';
import type { NodeDoc, RoleDoc, RoutingRule } from '../schema/fleet.ts';
import { closestWord } from './closest-word.ts';
import { nodeRef } from './context.ts';
import type { DocRef, RuleContext } from './context.ts';
import { quoteValue } from './problem.ts';
import { declaredWorkers, workerIdBase, type DeclaredWorker } from './worker-ids.ts';

const SETTINGS: DocRef = { kind: 'settings' };

function checkBob(ctx: RuleContext): void {
  const settings = ctx.fleet.settings;
  if (!settings) return;
  const bobName = settings.network.bob_node;
  const live = ctx.fleet.nodes.filter((n) => n.status !== 'retired');
  const hqNodes = live.filter((n) => ctx.fleet.roles[n.role]?.services.registry_api === true);
  hqNodes.slice(1).forEach((n) => {
    const first = hqNodes[0] as NodeDoc;
    ctx.error(nodeRef(n), ['role'], 'single-hq', `${n.name} has role ${n.role}, which runs the registry API and OpenClaw, but ${first.name} already does (${ctx.where(nodeRef(first), ['role'])}). There is one conductor: give ${n.name} a worker role.`);
  });
  const bob = live.find((n) => n.name === bobName);
  if (!bob) {
    ctx.error(SETTINGS, ['network', 'bob_node'], 'bob-node', `network.bob_node is ${bobName}, but no active or planned node file fleet/nodes/${bobName}.yaml exists. Name the node that runs the reconciler, the registry API and OpenClaw.`);
    return;
  }
  const role = ctx.fleet.roles[bob.role];
  if (role && !(role.services.registry_api && role.services.openclaw)) {
    ctx.error(nodeRef(bob), ['role'], 'bob-node', `${bobName} is Bob (network.bob_node) but its role ${bob.role} does not run the registry API and OpenClaw. Give it role hq.`);
  }
  if (!bob.addresses.includes(settings.network.bob_address)) {
    ctx.warn(SETTINGS, ['network', 'bob_address'], 'bob-address', `network.bob_address ${settings.network.bob_address} is not among ${bobName}'s addresses (${bob.addresses.join(', ')}); nodes would send heartbeats somewhere else. Add it to ${ctx.where(nodeRef(bob), ['addresses'])} or correct it.`);
  }
}

/** Where a worker's id is written, for messages. */
function ownerText(ctx: RuleContext, owner: { doc: DocRef; path: readonly (string | number)[] }): string {
  return owner.doc.kind === 'node' ? `${owner.doc.node.name}'s worker (${ctx.where(owner.doc, owner.path)})` : `openclaw.cloud_fallback (${ctx.where(owner.doc, owner.path)})`;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** A worker's own settings: type against role and node, its endpoint, its models against the node's. */
function checkWorkerSettings(ctx: RuleContext, node: NodeDoc, role: RoleDoc, w: DeclaredWorker, bobNode: string): void {
  const ref = nodeRef(node);
  const at = (key: string): (string | number)[] => [...w.path.slice(0, -1), key];
  if (w.kind === 'extra') {
    if (w.type !== 'harpa_grid' && !role.services.ollama) {
      ctx.error(ref, at('type'), 'worker-type', `Worker ${w.worker_id} is ${w.type}, but ${node.name}'s role ${node.role} runs no Ollama. Use type harpa_grid, or give ${node.name} an LLM role.`);
      return;
    }
    if (w.type === 'ollama_local' && node.name !== bobNode) {
      ctx.error(ref, at('type'), 'worker-type', `Worker ${w.worker_id} is ollama_local, but OpenClaw runs on ${bobNode} and reaches only its own Ollama on loopback. Use ollama_remote for ${node.name}.`);
    }
    if (w.type === 'harpa_grid') {
      if (w.endpoint !== undefined) ctx.error(ref, at('endpoint'), 'worker-endpoint', `Worker ${w.worker_id} is a HARPA worker: its endpoint is always "harpa_grid". Remove endpoint.`, 'key');
      if (w.models !== undefined) ctx.error(ref, at('models'), 'worker-type', `Worker ${w.worker_id} is a HARPA worker, which serves no models. Remove models.`, 'key');
      return;
    }
  }
  if (w.endpoint !== undefined) {
    const host = /^https?:\/\/([^/:]+)/.exec(w.endpoint)?.[1] ?? '';
    if (!node.addresses.includes(host) && !LOOPBACK_HOSTS.has(host)) {
      const where = w.kind === 'extra' ? at('endpoint') : ['openclaw', 'endpoint'];
      ctx.warn(ref, where, 'worker-endpoint', `Worker ${w.worker_id}'s endpoint ${w.endpoint} is not at one of ${node.name}'s addresses (${node.addresses.join(', ')}), so observe never checks that it answers. Use one of them, or add the address to the node.`);
    }
  }
  const models = ctx.fleet.models;
  if (w.models === undefined || !models) return;
  const served = nodeModels(node, role);
  // Root cause first: a model the node names that the catalog lacks is already an
  // error there, and a worker naming the intended model would only repeat it.
  const nodeHasUnknown = (node.models ?? []).some((m) => !models[normalizeModelRef(m)]);
  w.models.forEach((m, i) => {
    const key = normalizeModelRef(m);
    if (served.includes(key) || nodeHasUnknown) return;
    const guess = closestWord(key, served);
    ctx.error(ref, [...w.modelsPath, i], 'worker-model', `Worker ${w.worker_id} lists model ${quoteValue(m)}, which ${node.name} does not serve (${served.length === 0 ? 'no models' : served.join(', ')}). ${guess ? `Did you mean "${guess}"? ` : ''}A worker advertises only models on its node: add it to ${node.name}'s models, or remove it here.`);
  });
}

function checkWorkers(ctx: RuleContext): void {
  const settings = ctx.fleet.settings;
  if (!settings) return;
  const bobNode = settings.network.bob_node;
  const cloudId = settings.openclaw.cloud_fallback.worker_id;
  const owners = new Map<string, { doc: DocRef; path: readonly (string | number)[] }>([[cloudId, { doc: SETTINGS, path: ['openclaw', 'cloud_fallback', 'worker_id'] }]]);
  const retiredWorkers = new Map<string, string>();
  const workers = new Map<string, DeclaredWorker>();
  // Default ids a node replaced with openclaw.worker_id: a rule still naming the old one gets pointed at the new.
  const renamed = new Map<string, { to: string; where: string }>();
  for (const node of ctx.fleet.nodes) {
    const role = ctx.fleet.roles[node.role];
    if (!role) continue;
    for (const w of declaredWorkers(node, role, bobNode)) {
      // Retired nodes' workers stay in the generated file (disabled), so their ids stay taken.
      const owner = owners.get(w.worker_id);
      if (owner) {
        ctx.error(nodeRef(node), w.path, 'duplicate-worker-id', `${node.name} would get worker id ${w.worker_id}, which ${ownerText(ctx, owner)} already has. Worker ids must be unique: rename the node or the other worker${w.kind === 'extra' ? '' : ' (or set openclaw.worker_id)'}.`);
        continue;
      }
      owners.set(w.worker_id, { doc: nodeRef(node), path: w.path });
      const defaultId = w.kind === 'extra' ? undefined : `${workerIdBase(node.name)}_${w.kind}`;
      if (defaultId !== undefined && defaultId !== w.worker_id) renamed.set(defaultId, { to: w.worker_id, where: ctx.where(nodeRef(node), w.path) });
      if (node.status === 'retired') retiredWorkers.set(w.worker_id, node.name);
      else workers.set(w.worker_id, w);
      checkWorkerSettings(ctx, node, role, w, bobNode);
    }
  }
  const known = [...workers.keys(), cloudId].sort();
  const rules = settings.openclaw.routing_rules;
  const ruleIds = new Set<string>();
  // One error per unknown id, where it is first named: a mistyped worker id named by five rules is one mistake.
  const unknownSeen = new Map<string, string[]>();
  const unknownFirst: { id: string; r: number; list: 'preferred_workers' | 'fallback'; i: number }[] = [];
  rules.forEach((rule, r) => {
    if (ruleIds.has(rule.rule_id)) ctx.error(SETTINGS, ['openclaw', 'routing_rules', r, 'rule_id'], 'duplicate-rule-id', `Routing rule ${rule.rule_id} is defined twice. Merge them or rename one.`);
    ruleIds.add(rule.rule_id);
    for (const list of ['preferred_workers', 'fallback'] as const) {
      rule[list].forEach((id, i) => {
        if (workers.has(id) || id === cloudId) return;
        const seen = unknownSeen.get(id);
        if (seen) {
          seen.push(ctx.where(SETTINGS, ['openclaw', 'routing_rules', r, list, i]));
          return;
        }
        unknownSeen.set(id, []);
        unknownFirst.push({ id, r, list, i });
      });
    }
    const lastFallback = rule.fallback[rule.fallback.length - 1];
    if (rule.fallback.includes(cloudId) && lastFallback !== cloudId) {
      ctx.warn(SETTINGS, ['openclaw', 'routing_rules', r, 'fallback', rule.fallback.indexOf(cloudId)], 'cloud-fallback-last', `Routing rule ${rule.rule_id} tries the cloud worker ${cloudId} before local workers. Put it last: it is the last resort.`);
    }
    checkRuleModel(ctx, rule, r, workers);
  });
  for (const { id, r, list, i } of unknownFirst) {
    const rule = rules[r];
    if (!rule) continue;
    const retiredNode = retiredWorkers.get(id);
    const rename = renamed.get(id);
    const guess = rename?.to ?? closestWord(id, known);
    const why = retiredNode ? `belongs to ${retiredNode}, which is retired` : rename ? `was renamed to ${rename.to} (${rename.where})` : 'is not a worker of any node';
    const others = unknownSeen.get(id) ?? [];
    const also = others.length > 0 ? ` It is also named at ${others.join(', ')}.` : '';
    ctx.error(SETTINGS, ['openclaw', 'routing_rules', r, list, i], 'unknown-worker', `Routing rule ${rule.rule_id} names worker ${quoteValue(id)}, which ${why}.${also} ${guess && !retiredNode ? `Did you mean "${guess}"? ` : ''}Workers are <node>_ollama, <node>_local (Bob), <node>_harpa, the ids in nodes' openclaw.worker_id and workers:, and ${cloudId}; known: ${known.join(', ')}.`);
  }
}

/** A rule's preferred model should be one its preferred workers serve (checked when the model is catalogued). */
function checkRuleModel(ctx: RuleContext, rule: RoutingRule, r: number, workers: ReadonlyMap<string, DeclaredWorker>): void {
  const preference = rule.model_preference;
  const models = ctx.fleet.models;
  if (typeof preference !== 'string' || !models || !models[normalizeModelRef(preference)]) return;
  const key = normalizeModelRef(preference);
  const preferred = rule.preferred_workers.map((id) => workers.get(id)).filter((w): w is DeclaredWorker => w !== undefined && w.type !== 'harpa_grid');
  if (preferred.length === 0) return;
  const serves = preferred.some((w) => {
    const node = ctx.fleet.nodes.find((n) => n.name === w.node);
    const role = node ? ctx.fleet.roles[node.role] : undefined;
    if (!node || !role) return true;
    const served = nodeModels(node, role);
    return served.includes(key) && (w.models === undefined || w.models.some((m) => normalizeModelRef(m) === key));
  });
  if (!serves) {
    ctx.warn(SETTINGS, ['openclaw', 'routing_rules', r, 'model_preference'], 'rule-model', `Routing rule ${rule.rule_id} prefers ${preference}, but none of its preferred workers (${preferred.map((w) => w.worker_id).join(', ')}) serves it, so OpenClaw would fall back every time. Add the model to one of their nodes, or change the preference.`);
  }
}

export function checkOpenclaw(ctx: RuleContext): void {
  checkBob(ctx);
  checkWorkers(ctx);
}
