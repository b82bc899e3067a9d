// plan(desired, observed) -> Plan: what would make every node what fleet/ says.
// Pure: no clock (today comes in), no network, no filesystem. Every step says
// why (the observed fact) and what it waits for; the order is a stable
// topological order, so the same input always gives the same plan.
import { normalizeModelRef, resolveNode, type Desired, type DesiredNode } from '../model/desired.ts';
import { FleetError } from '../errors.ts';
import type { Hardware, TransferSettings } from '../schema/fleet.ts';
import { MANAGED_FILES, type ObservedFacts, type ObservedNode } from '../schema/observed.ts';
import { crontabInSync, heartbeatLinesOf, registeredAtOf, type FileContext } from './desired-files.ts';
import { freshObservation } from './fresh-node.ts';
import { authFailedStep, hardwareMismatchStep, hostKeyStep, sshBootstrapStep, tofuStep } from './manual-steps.ts';
import { orderSteps } from './order-steps.ts';
import { distributeModels, rewriteTransfers, type DistributionInput } from './distribute-models.ts';
import type { Difference, NodePlan, NodeStatus, Plan, Step } from '../model/steps.ts';
import { AGENT_LABEL, BREW_SERVICE, HEARTBEAT_MARKER, MANAGED_PATHS, brewPrefix, homeOf } from '../model/mac-layout.ts';
import { planned, type NodeContext, type ResourcePlan } from './resources/node-context.ts';
import { planHostnames } from './resources/hostnames.ts';
import { planHomebrew } from './resources/homebrew.ts';
import { planPackageRemovals, planPackages } from './resources/packages.ts';
import { planFiles } from './resources/files.ts';
import { planSecrets } from './resources/secrets.ts';
import { planAgent } from './resources/agent.ts';
import { modelRemovalIds, planModels } from './resources/models.ts';
import { planCrontab } from './resources/crontab.ts';
import { planRegistration } from './resources/registration.ts';
import { planHarpa } from './resources/harpa.ts';

export interface PlanOptions {
  /** Remove models and software no longer desired (retired nodes lose their models regardless). */
  prune: boolean;
  /** Bob's registry API base URL, e.g. http://192.168.1.10:8765. */
  registryUrl: string;
  /** Only these nodes (all when absent). */
  nodes?: string[];
  /** YYYY-MM-DD: the registration date of a node without `added`, and the date of a synthesised observation. */
  today: string;
  /** Generated files on Bob that would change (file names); fleet steps are planned for them. */
  generated?: { changed: string[] };
  /**
   * Each node's heartbeat key as Bob holds it: its public id and the id Bob
   * last installed on the node. A node whose two differ gets install-secret.
   * Absent (CI, an offline plan): keys are not planned.
   */
  secrets?: Readonly<Record<string, { key_id: string; installed: string | null }>>;
}

export function plan(desired: Desired, observed: readonly ObservedNode[], options: PlanOptions): Plan {
  const byName = new Map(observed.map((o) => [o.node, o]));
  const known = new Set(desired.nodes.map((n) => n.name));
  for (const n of options.nodes ?? []) {
    if (!known.has(n)) throw new FleetError('invalid-input', `unknown node ${n}: fleet/nodes/ has ${[...known].sort().join(', ') || 'no nodes'}`);
  }
  const wanted = options.nodes === undefined ? undefined : new Set(options.nodes);
  const nodes = desired.nodes
    .filter((n) => wanted === undefined || wanted.has(n.name))
    .map((doc) => planNode(desired, resolveNode(desired, doc), byName.get(doc.name), options))
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const needs = nodes.flatMap((np) => np.steps.flatMap((s) => (s.kind === 'pull-model' && s.node !== null ? [{ node: s.node, model: s.model, bytes: s.bytes }] : [])));
  if (needs.length === 0) return { nodes, fleet: planGenerated(options.generated?.changed) };
  const distribution = distributeModels(distributionInput(desired, observed, nodes, needs));
  return { nodes: rewriteTransfers(nodes, distribution.deliveries).map((np) => ({ ...np, steps: orderSteps(np.steps) })), fleet: planGenerated(options.generated?.changed), transfers: distribution.routes };
}

/**
 * What the model distribution needs to know, from the plans just made: a node
 * serves a model when it was observed with it (the pinned digest, if any), is
 * active and reachable, and its plan does not remove that model.
 */
function distributionInput(desired: Desired, observed: readonly ObservedNode[], nodes: readonly NodePlan[], needs: DistributionInput['needs']): DistributionInput {
  const transfer: TransferSettings = desired.settings.transfer ?? {};
  const planOf = new Map(nodes.map((np) => [np.node, np]));
  const docs = new Map(desired.nodes.map((d) => [d.name, resolveNode(desired, d)]));
  const serving = (name: string): boolean => {
    const np = planOf.get(name);
    const doc = docs.get(name);
    return doc !== undefined && doc.status === 'active' && doc.role.services.ollama && (np === undefined || np.status === 'in-sync' || np.status === 'drifted');
  };
  const holders: { node: string; model: string }[] = [];
  for (const o of observed) {
    if (o.reach.status !== 'ok' || o.facts === undefined || !serving(o.node)) continue;
    const removing = new Set((planOf.get(o.node)?.steps ?? []).flatMap((s) => (s.kind === 'remove-model' ? [normalizeModelRef(s.model)] : [])));
    for (const m of o.facts.ollama.models) {
      const model = normalizeModelRef(m.name);
      const pinned = desired.models[model]?.digest;
      if (removing.has(model) || (pinned !== undefined && m.digest !== pinned)) continue;
      holders.push({ node: o.node, model });
    }
  }
  const allowed = transfer.internet_nodes === undefined ? undefined : new Set(transfer.internet_nodes);
  const reached = new Set(observed.filter((o) => o.reach.status === 'ok').map((o) => o.node));
  return {
    mode: transfer.mode ?? 'lan',
    copiesPerSource: transfer.lan?.copies_per_source ?? 2,
    ...(transfer.cache_node !== undefined ? { cacheNode: transfer.cache_node } : {}),
    nodes: [...docs.values()].map((d) => ({
      name: d.name,
      linkGbps: d.hardware?.ethernet_gbps ?? 1,
      internet: allowed === undefined || allowed.has(d.name),
      canCache: serving(d.name) && reached.has(d.name),
    })),
    needs,
    holders,
  };
}

/** 0 nothing to do, 2 changes (or drift) pending, 1 a node is in error (like terraform plan -detailed-exitcode). */
export function planExitCode(p: Plan): 0 | 1 | 2 {
  if (p.nodes.some((n) => n.status === 'error' || n.status === 'unknown-hardware')) return 1;
  if (p.fleet.length > 0 || p.nodes.some((n) => n.steps.length > 0 || n.differences.length > 0)) return 2;
  return 0;
}

/** Bob's own steps: install the generated files that differ from Bob's copies, and tell OpenClaw when its file changed. */
export function planGenerated(changedFiles: readonly string[] = []): Step[] {
  const changed = [...new Set(changedFiles)].sort();
  if (changed.length === 0) return [];
  const steps: Step[] = [{ kind: 'write-generated', id: 'fleet/write-generated', node: null, files: changed, why: `generated output differs from what is on Bob: ${changed.join(', ')}`, after: [] }];
  if (changed.some((f) => f.endsWith('openclaw_workers.json'))) {
    steps.push({ kind: 'reload-openclaw', id: 'fleet/reload-openclaw', node: null, why: 'openclaw_workers.json changes; OpenClaw rereads it on SIGHUP', after: ['fleet/write-generated'] });
  }
  return steps;
}

export function planNode(desired: Desired, node: DesiredNode, observation: ObservedNode | undefined, options: PlanOptions): NodePlan {
  const settings = desired.settings;
  if (node.status === 'planned') {
    const reachable = observation?.reach.status === 'ok';
    const why = reachable ? 'reachable over SSH already, but status is planned in fleet/' : 'status planned: the Mac is not bootstrapped for SSH yet';
    return nodePlan(node.name, 'planned', reachable
      ? `planned, but already reachable: set status: active in fleet/nodes/${node.name}.yaml to provision it`
      : 'planned: not bootstrapped yet; the SSH bootstrap is manual', [], [sshBootstrapStep(settings, node, why)]);
  }
  const unobserved = observation === undefined;
  const obs = observation ?? freshObservation(node, options.today);
  const reach = obs.reach;

  if (reach.status === 'host-key-changed' || reach.status === 'host-key-unknown') {
    const step = hostKeyStep(node, obs);
    // A retired Mac with a new key was most likely wiped for its next life: nothing to ask of anyone.
    if (node.status === 'retired') return nodePlan(node.name, 'retired', `retired; ${step.why}: nothing is run on it`, [], []);
    return nodePlan(node.name, 'refused', `refused: ${step.why}; nothing is run on it`, [], [step]);
  }
  if (reach.status !== 'ok') {
    const why = reachWhy(obs);
    if (node.status === 'retired') return nodePlan(node.name, 'retired', `retired; unreachable (${why}): nothing to remove now`, [], []);
    if (reach.status === 'auth-failed') {
      return nodePlan(node.name, 'unreachable', `unreachable: ${why}; Bob's key is not accepted`, [], [authFailedStep(settings, node, why)]);
    }
    if (reach.status === 'error') return nodePlan(node.name, 'error', `error while observing: ${why}`, [], []);
    if (node.presence === 'roaming') return nodePlan(node.name, 'away', `away (roaming, expected): ${why}; nothing planned`, [], []);
    return nodePlan(node.name, 'unreachable', `unreachable: ${why}; its state is unknown, nothing planned`, [], []);
  }
  const facts = obs.facts;
  if (facts === undefined) return nodePlan(node.name, 'error', 'reached, but observe returned no facts', [], []);
  const hardware = node.hardware;
  if (hardware === undefined) {
    return nodePlan(node.name, 'error', `hardware id ${node.hardware_id} is not in fleet/catalog/hardware.yaml (run fleet validate)`, [], []);
  }
  const mismatches = hardwareMismatches(hardware, facts);
  if (mismatches.length > 0) {
    return nodePlan(node.name, 'unknown-hardware', `hardware differs from the declared ${node.hardware_id}: ${mismatches.join('; ')}`,
      mismatches.map((m) => ({ field: 'hardware', desired: describeHardware(hardware), observed: m })), [hardwareMismatchStep(node, hardware, mismatches)]);
  }
  const ctx = nodeContextOf(desired, node, facts, hardware, reach.address, options);
  if (node.status === 'retired') return planRetired(ctx);

  const active = planActive(ctx);
  const tofu = tofuStep(node, obs);
  if (tofu !== undefined) active.steps.unshift(tofu);
  const steps = active.steps;
  const fresh = facts.brew.prefix === null && MANAGED_FILES.every((f) => facts.files[f] === null);
  const status: NodeStatus = steps.length > 0 || active.differences.length > 0 ? 'drifted' : 'in-sync';
  const manualCount = steps.filter((s) => s.kind === 'manual').length;
  let summary = 'in sync';
  if (status === 'drifted') {
    const counts = `${active.differences.length} difference${active.differences.length === 1 ? '' : 's'}, ${steps.length} step${steps.length === 1 ? '' : 's'}${manualCount > 0 ? ` (${manualCount} manual)` : ''}`;
    summary = unobserved ? `not observed yet: planned as if fresh, ${counts}` : fresh ? `not provisioned yet: full provisioning, ${counts}` : `drifted: ${counts}`;
  }
  if (unobserved) active.notes.unshift('not in the observed snapshot: planned as if it were a factory-fresh Mac');
  return nodePlan(node.name, status, summary, active.differences, steps, active.notes);
}

function nodePlan(node: string, status: NodeStatus, summary: string, differences: Difference[], steps: Step[], notes: string[] = []): NodePlan {
  const p: NodePlan = { node, status, summary, differences, steps: orderSteps(steps) };
  if (notes.length > 0) p.notes = notes;
  return p;
}

function reachWhy(obs: ObservedNode): string {
  if (obs.reach.message !== undefined && obs.reach.message !== '') return obs.reach.message;
  const attempts = obs.reach.attempts.map((a) => `${a.address}: ${a.result}${a.result === 'refused' ? ' (port 22 closed: Remote Login may be off)' : ''}`);
  return attempts.length > 0 ? attempts.join(', ') : obs.reach.status;
}

// ---- hardware ----

function normalizeChip(chip: string): string[] {
  return chip.toLowerCase().replace(/\((r|tm)\)/g, ' ').replace(/@.*$/, ' ').replace(/\bcpu\b/g, ' ').split(/[^a-z0-9]+/).filter((t) => t !== '');
}

function chipMatches(declared: string, observed: string): boolean {
  const d = normalizeChip(declared);
  const o = normalizeChip(observed);
  if (d.join(' ') === o.join(' ')) return true;
  // Intel brand strings carry more detail than a catalog usually writes ("Intel Core i5").
  return d[0] === 'intel' && d.every((t) => o.includes(t));
}

export function hardwareMismatches(hw: Hardware, facts: ObservedFacts): string[] {
  const out: string[] = [];
  const h = facts.hardware;
  if (h.ram_bytes !== null && Math.round(h.ram_bytes / 2 ** 30) !== hw.ram_gb) out.push(`RAM ${Math.round(h.ram_bytes / 2 ** 30)} GB (declared ${hw.ram_gb} GB)`);
  if (h.chip !== null && !chipMatches(hw.chip, h.chip)) out.push(`chip ${h.chip} (declared ${hw.chip})`);
  // uname -m says x86_64 under Rosetta; hw.optional.arm64 tells the machine.
  const arch = h.arm64_capable === true ? 'arm64' : h.architecture;
  if (arch !== null && arch !== hw.architecture) out.push(`architecture ${arch} (declared ${hw.architecture})`);
  return out;
}

function describeHardware(hw: Hardware): string {
  return `${hw.model}, ${hw.chip}, ${hw.ram_gb} GB, ${hw.architecture}`;
}

// ---- active nodes: one planner per resource (plan/resources/) ----

function nodeContextOf(desired: Desired, node: DesiredNode, facts: ObservedFacts, hardware: Hardware, address: string | undefined, options: PlanOptions): NodeContext {
  const files: FileContext = {
    node,
    settings: desired.settings,
    home: homeOf(facts, desired.settings.ssh.user),
    brewPrefix: brewPrefix(hardware.architecture),
    registryUrl: options.registryUrl.replace(/\/+$/, ''),
    ip: facts.ip,
    registeredAt: registeredAtOf(node, facts.files.self_registration?.content, options.today),
  };
  return { desired, node, facts, hardware, address, options, files };
}

/**
 * An active node's plan: each resource planner in turn, each given the ids of
 * the earlier steps its own wait for. Steps, differences and notes keep this
 * order among ties (orderSteps breaks ties by it). Remote Login needs no
 * planner: being connected proves it is on.
 */
function planActive(ctx: NodeContext): ResourcePlan {
  const hostnames = planHostnames(ctx);
  const homebrew = planHomebrew(ctx);
  const packages = planPackages(ctx, { homebrew: homebrew.installId });
  const files = planFiles(ctx);
  const secrets = planSecrets(ctx, { dirs: files.dirsId });
  const agent = planAgent(ctx, {
    homebrew: homebrew.installId, ollamaPackage: packages.ollamaId, dirs: files.dirsId,
    plistWrite: files.writeIds.launchd_plist, envWrite: files.writeIds.ollama_env, modelRemovals: modelRemovalIds(ctx),
  });
  const models = planModels(ctx, {
    agentReady: agent.ready,
    ollamaStarting: agent.loadId !== undefined || agent.restartId !== undefined || packages.ollamaId !== undefined,
  });
  const crontab = planCrontab(ctx, { script: files.writeIds.heartbeat_script, secret: secrets.installId, dirs: files.dirsId });
  const registration = planRegistration(ctx, { payloadWrite: files.writeIds.self_registration, load: agent.loadId, restart: agent.restartId });
  const removals = planPackageRemovals(ctx, { after: [...planned(agent.unloadId), ...models.removeIds] });
  const harpa = planHarpa(ctx, { instructionsWrite: files.writeIds.harpa_instructions, chrome: packages.installIds.get('cask/google-chrome') });
  const parts = [hostnames, homebrew, packages, files, secrets, agent, models, crontab, registration, removals, harpa];
  return {
    steps: parts.flatMap((p) => p.steps),
    differences: parts.flatMap((p) => p.differences),
    notes: parts.flatMap((p) => p.notes),
  };
}

// ---- retired nodes: remove what the fleet put there ----

function planRetired(ctx: NodeContext): NodePlan {
  const { node, facts } = ctx;
  const n = node.name;
  const home = ctx.files.home;
  const steps: Step[] = [];
  const differences: Difference[] = [];
  // Retirement removes models regardless of prune. They go first: removal talks to the running Ollama.
  const removeIds: string[] = [];
  for (const m of [...facts.ollama.models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const id = `${n}/remove-model/${m.name}`;
    if (removeIds.includes(id)) continue;
    removeIds.push(id);
    differences.push({ field: `models.${m.name}`, desired: null, observed: 'present' });
    steps.push({ kind: 'remove-model', id, node: n, model: m.name, bytes: m.size, why: `${n} is retired: its models are removed`, after: [] });
  }
  const brewService = facts.brew.services?.[BREW_SERVICE];
  if (brewService !== undefined && brewService !== 'stopped' && brewService !== 'none') {
    differences.push({ field: `brew.services.${BREW_SERVICE}`, desired: 'stopped', observed: brewService });
    steps.push({ kind: 'stop-brew-service', id: `${n}/stop-brew-service/${BREW_SERVICE}`, node: n, name: BREW_SERVICE, why: `${n} is retired: brew's ${BREW_SERVICE} service is stopped`, after: [...removeIds] });
  }
  if (facts.launchd.ollama.loaded || facts.files.launchd_plist !== null) {
    differences.push({ field: `launchd.${AGENT_LABEL}`, desired: 'absent', observed: facts.launchd.ollama.loaded ? 'loaded' : 'plist present' });
    steps.push({ kind: 'unload-agent', id: `${n}/unload-agent`, node: n, label: AGENT_LABEL, plist_path: `${home}/${MANAGED_PATHS.launchd_plist}`, why: `${n} is retired: its Ollama agent is removed`, after: [...removeIds] });
  }
  if (!crontabInSync(facts.crontab.lines, null)) {
    differences.push({ field: 'crontab.heartbeat', desired: null, observed: heartbeatLinesOf(facts.crontab.lines).join(' | ') });
    steps.push({ kind: 'set-crontab', id: `${n}/set-crontab`, node: n, line: null, marker: HEARTBEAT_MARKER, why: `${n} is retired: its heartbeat stops`, after: [] });
  }
  const summary = steps.length === 0
    ? `retired${node.retired === undefined ? '' : ` on ${node.retired}`}: nothing left to remove`
    : `retired: removing ${[removeIds.length > 0 ? `${removeIds.length} model${removeIds.length === 1 ? '' : 's'}` : '', steps.some((s) => s.kind === 'unload-agent') ? 'the Ollama agent' : '', steps.some((s) => s.kind === 'set-crontab') ? 'the heartbeat' : ''].filter((x) => x !== '').join(', ') || 'services'}`;
  return nodePlan(n, 'retired', summary, differences, steps);
}
