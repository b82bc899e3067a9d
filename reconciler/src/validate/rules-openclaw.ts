// Rules about Bob and OpenClaw: one hq, Bob is a real hq node, worker ids are
// unique and routing rules name workers that exist.
import { normalizeModelRef } from '../load/desired.ts';
import type { NodeDoc } from '../schema/fleet.ts';
import { closestWord } from './closest-word.ts';
import { nodeRef } from './context.ts';
import type { DocRef, RuleContext } from './context.ts';
import { quoteValue } from './problem.ts';
import { workerIdsOf } from './worker-ids.ts';

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

function checkWorkers(ctx: RuleContext): void {
  const settings = ctx.fleet.settings;
  if (!settings) return;
  const cloudId = settings.openclaw.cloud_fallback.worker_id;
  const owners = new Map<string, DocRef>([[cloudId, SETTINGS]]);
  const retiredWorkers = new Map<string, string>();
  for (const node of ctx.fleet.nodes) {
    const role = ctx.fleet.roles[node.role];
    if (!role) continue;
    for (const w of workerIdsOf(node.name, role)) {
      if (node.status === 'retired') {
        retiredWorkers.set(w.worker_id, node.name);
        continue;
      }
      const owner = owners.get(w.worker_id);
      if (owner) {
        const where = owner.kind === 'node' ? `node ${owner.node.name}` : 'openclaw.cloud_fallback in fleet/fleet.yaml';
        ctx.error(nodeRef(node), ['name'], 'duplicate-worker-id', `${node.name} would get worker id ${w.worker_id}, which ${where} already has. Worker ids must be unique: rename the node or the other worker.`);
      } else {
        owners.set(w.worker_id, nodeRef(node));
      }
    }
  }
  const known = [...owners.keys()].sort();
  const rules = settings.openclaw.routing_rules;
  const ruleIds = new Set<string>();
  rules.forEach((rule, r) => {
    if (ruleIds.has(rule.rule_id)) ctx.error(SETTINGS, ['openclaw', 'routing_rules', r, 'rule_id'], 'duplicate-rule-id', `Routing rule ${rule.rule_id} is defined twice. Merge them or rename one.`);
    ruleIds.add(rule.rule_id);
    for (const list of ['preferred_workers', 'fallback'] as const) {
      rule[list].forEach((id, i) => {
        if (owners.has(id)) return;
        const retiredNode = retiredWorkers.get(id);
        const guess = closestWord(id, known);
        const why = retiredNode ? `belongs to ${retiredNode}, which is retired` : 'is not a worker of any node';
        ctx.error(SETTINGS, ['openclaw', 'routing_rules', r, list, i], 'unknown-worker', `Routing rule ${rule.rule_id} names worker ${quoteValue(id)}, which ${why}. ${guess && !retiredNode ? `Did you mean "${guess}"? ` : ''}Workers are <node>_ollama, <node>_local (Bob), <node>_harpa and ${cloudId}; known: ${known.join(', ')}.`);
      });
    }
    const lastFallback = rule.fallback[rule.fallback.length - 1];
    if (rule.fallback.includes(cloudId) && lastFallback !== cloudId) {
      ctx.warn(SETTINGS, ['openclaw', 'routing_rules', r, 'fallback', rule.fallback.indexOf(cloudId)], 'cloud-fallback-last', `Routing rule ${rule.rule_id} tries the cloud worker ${cloudId} before local workers. Put it last: it is the last resort.`);
    }
    const preference = rule.model_preference;
    if (typeof preference === 'string' && ctx.fleet.models && !ctx.fleet.models[normalizeModelRef(preference)]) {
      ctx.error(SETTINGS, ['openclaw', 'routing_rules', r, 'model_preference'], 'unknown-model', `Routing rule ${rule.rule_id} prefers model ${quoteValue(preference)}, which is not in fleet/catalog/models.yaml. Use a catalogued model or null.`);
    }
  });
}

export function checkOpenclaw(ctx: RuleContext): void {
  checkBob(ctx);
  checkWorkers(ctx);
}
