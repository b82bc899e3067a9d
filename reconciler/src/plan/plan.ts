// plan(desired, observed) -> Plan: what would make every node what fleet/ says.
// Pure: no clock (today comes in), no network, no filesystem. Every step says
// why (the observed fact) and what it waits for; the order is a stable
// topological order, so the same input always gives the same plan.
import { normalizeModelRef, resolveNode, type Desired, type DesiredNode } from '../model/desired.ts';
import { FleetError } from '../errors.ts';
import type { Hardware, TransferSettings } from '../schema/fleet.ts';
import { MANAGED_FILES, type ManagedFileId, type ObservedFacts, type ObservedNode } from '../schema/observed.ts';
import { crontabInSync, heartbeatLinesOf, registeredAtOf, renderDesiredFiles, selfRegistrationOf, wantedFiles, type DesiredFile, type FileContext } from './desired-files.ts';
import { freshObservation } from './fresh-node.ts';
import {
  authFailedStep, diskSpaceStep, formatBytes, hardwareMismatchStep, harpaStep, homebrewSudoStep, hostKeyStep, hostnameSudoStep,
  sshBootstrapStep, tofuStep,
} from './manual-steps.ts';
import { orderSteps } from './order-steps.ts';
import { distributeModels, rewriteTransfers, type DistributionInput } from './distribute-models.ts';
import type { Difference, NodePlan, NodeStatus, Plan, Step } from '../model/steps.ts';
import { AGENT_LABEL, BREW_SERVICE, HEARTBEAT_CRON_LINE, HEARTBEAT_KEY_PATH, HEARTBEAT_MARKER, MANAGED_PATHS, brewPrefix, homeOf, managedDirs } from '../model/mac-layout.ts';

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
  const ctx: NodeContext = { desired, node, facts, hardware, address: reach.address, options };
  if (node.status === 'retired') return planRetired(ctx);

  const built = planActive(ctx);
  const tofu = tofuStep(node, obs);
  if (tofu !== undefined) built.steps.unshift(tofu);
  const steps = built.steps;
  const fresh = facts.brew.prefix === null && MANAGED_FILES.every((f) => facts.files[f] === null);
  const status: NodeStatus = steps.length > 0 || built.differences.length > 0 ? 'drifted' : 'in-sync';
  const manualCount = steps.filter((s) => s.kind === 'manual').length;
  let summary = 'in sync';
  if (status === 'drifted') {
    const counts = `${built.differences.length} difference${built.differences.length === 1 ? '' : 's'}, ${steps.length} step${steps.length === 1 ? '' : 's'}${manualCount > 0 ? ` (${manualCount} manual)` : ''}`;
    summary = unobserved ? `not observed yet: planned as if fresh, ${counts}` : fresh ? `not provisioned yet: full provisioning, ${counts}` : `drifted: ${counts}`;
  }
  if (unobserved) built.notes.unshift('not in the observed snapshot: planned as if it were a factory-fresh Mac');
  return nodePlan(node.name, status, summary, built.differences, steps, built.notes);
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

// ---- active nodes ----

interface NodeContext {
  desired: Desired;
  node: DesiredNode;
  facts: ObservedFacts;
  hardware: Hardware;
  address: string | undefined;
  options: PlanOptions;
}

interface Built {
  steps: Step[];
  differences: Difference[];
  notes: string[];
}

function show(value: string | null | undefined): string {
  return value === null || value === undefined ? 'not set' : JSON.stringify(value);
}

function defined(...ids: (string | undefined)[]): string[] {
  return ids.filter((x): x is string => x !== undefined);
}

function fileContextOf(ctx: NodeContext): FileContext {
  const { desired, node, facts, options } = ctx;
  return {
    node,
    settings: desired.settings,
    home: homeOf(facts, desired.settings.ssh.user),
    brewPrefix: brewPrefix(ctx.hardware.architecture),
    registryUrl: options.registryUrl.replace(/\/+$/, ''),
    ip: facts.ip,
    registeredAt: registeredAtOf(node, facts.files.self_registration?.content, options.today),
  };
}

function dirExists(facts: ObservedFacts, home: string, rel: string): boolean {
  const dirs = facts.dirs ?? {};
  const seen = dirs[`${home}/${rel}`] ?? dirs[`~/${rel}`] ?? dirs[rel];
  if (seen !== undefined) return seen;
  // Not probed: a managed file inside it proves it exists.
  return MANAGED_FILES.some((f) => facts.files[f] !== null && MANAGED_PATHS[f].startsWith(`${rel}/`));
}

/** "line 3: OLLAMA_HOST=127.0.0.1 (want OLLAMA_HOST=0.0.0.0)" when the node sent the content. */
function firstDifference(have: string | undefined, want: string): string | undefined {
  if (have === undefined) return undefined;
  const a = have.split('\n');
  const b = want.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: ${show(a[i] ?? null)} (want ${show(b[i] ?? null)})`;
  }
  return undefined;
}

function planActive(ctx: NodeContext): Built {
  const { desired, node, facts, options } = ctx;
  const n = node.name;
  const settings = desired.settings;
  const role = node.role;
  const steps: Step[] = [];
  const differences: Difference[] = [];
  const notes: string[] = [];
  const files = fileContextOf(ctx);
  const home = files.home;

  // 1. Names (seed 4c.1). Needs root: without passwordless sudo it is a manual step and the rest goes on.
  const wantNames = { computer_name: node.display_name, host_name: n, local_host_name: n } as const;
  const nameKeys = (['computer_name', 'host_name', 'local_host_name'] as const).filter((k) => facts.hostnames[k] !== wantNames[k]);
  if (nameKeys.length > 0) {
    for (const k of nameKeys) differences.push({ field: `hostnames.${k}`, desired: wantNames[k], observed: facts.hostnames[k] });
    const label = { computer_name: 'ComputerName', host_name: 'HostName', local_host_name: 'LocalHostName' } as const;
    const why = nameKeys.map((k) => `${label[k]} is ${show(facts.hostnames[k])} (want ${show(wantNames[k])})`).join(', ');
    steps.push(facts.sudo
      ? { kind: 'set-hostname', id: `${n}/set-hostname`, node: n, why, after: [], ...wantNames }
      : hostnameSudoStep(settings, node, ctx.address, why));
  }

  // 2. Remote Login (4c.2): being connected proves it is on.

  // 3. Homebrew (4c.3), at the architecture's prefix.
  const prefix = files.brewPrefix;
  const needsBrew = role.software.formulae.length + role.software.casks.length > 0;
  let brewId: string | undefined;
  if (needsBrew && facts.brew.prefix !== prefix) {
    differences.push({ field: 'brew.prefix', desired: prefix, observed: facts.brew.prefix });
    const why = facts.brew.prefix === null ? `Homebrew is not installed (no ${prefix}/bin/brew)` : `Homebrew is at ${facts.brew.prefix}, not at ${prefix} for ${ctx.hardware.architecture}`;
    const step: Step = facts.sudo
      ? { kind: 'install-homebrew', id: `${n}/install-homebrew`, node: n, prefix, why, after: [] }
      : homebrewSudoStep(settings, node, ctx.address, prefix, why);
    steps.push(step);
    brewId = step.id;
  }

  // 4. Role software (4c.4). Packages seen under another prefix do not count.
  const formulae = facts.brew.prefix === prefix ? facts.brew.formulae : {};
  const casks = facts.brew.prefix === prefix ? facts.brew.casks : {};
  const packageIds = new Map<string, string>();
  for (const [kind, names, have] of [['formula', role.software.formulae, formulae], ['cask', role.software.casks, casks]] as const) {
    for (const name of [...names].sort()) {
      if (have[name] !== undefined) continue;
      const id = `${n}/install-package/${kind}/${name}`;
      differences.push({ field: `brew.${kind === 'formula' ? 'formulae' : 'casks'}.${name}`, desired: 'installed', observed: null });
      steps.push({ kind: 'install-package', id, node: n, package: kind, name, why: `${kind} ${name} is not installed`, after: defined(brewId) });
      packageIds.set(`${kind}/${name}`, id);
    }
  }
  const ollamaFormulaId = packageIds.get(`formula/${BREW_SERVICE}`);

  // Managed directories.
  const missingDirs = managedDirs(node.role.services.ollama).filter((rel) => !dirExists(facts, home, rel));
  let dirsId: string | undefined;
  if (missingDirs.length > 0) {
    for (const rel of missingDirs) differences.push({ field: `dirs.~/${rel}`, desired: 'present', observed: null });
    dirsId = `${n}/make-dirs`;
    steps.push({ kind: 'make-dirs', id: dirsId, node: n, paths: missingDirs.map((rel) => `${home}/${rel}`), why: `missing: ${missingDirs.map((rel) => `~/${rel}`).join(', ')}`, after: [] });
  }

  // 5, 7, 8, 9: managed files, written when their sha256 differs.
  const desiredFiles = renderDesiredFiles(files);
  const fileIds: Partial<Record<ManagedFileId, string>> = {};
  for (const f of desiredFiles) {
    const seen = facts.files[f.file];
    if (seen !== null && seen.sha256 === f.sha256) continue;
    differences.push({ field: `files.${f.file}`, desired: `sha256:${f.sha256.slice(0, 12)}`, observed: seen === null ? null : `sha256:${seen.sha256.slice(0, 12)}` });
    fileIds[f.file] = `${n}/write-file/${f.file}`;
    steps.push({ kind: 'write-file', id: `${n}/write-file/${f.file}`, node: n, file: f.file, path: f.path, content: f.content, mode: f.mode, why: fileWhy(f, seen?.content, seen === null), after: defined(dirsId) });
  }
  // The heartbeat key: Bob knows which one the node holds (it installed it), the probe never reads it.
  const secret = options.secrets?.[n];
  let secretId: string | undefined;
  if (secret !== undefined && secret.installed !== secret.key_id) {
    secretId = `${n}/install-secret`;
    differences.push({ field: 'secrets.heartbeat_key', desired: `key ${secret.key_id.slice(0, 12)}`, observed: secret.installed === null ? null : `key ${secret.installed.slice(0, 12)}` });
    steps.push({
      kind: 'install-secret', id: secretId, node: n, path: `${home}/${HEARTBEAT_KEY_PATH}`, key_id: secret.key_id,
      why: secret.installed === null ? 'the node has no heartbeat key from Bob yet (its heartbeats are unsigned)' : 'Bob rotated the node\'s heartbeat key',
      after: defined(dirsId),
    });
  }
  const wanted = new Set(wantedFiles(node));
  for (const f of MANAGED_FILES) {
    if (!wanted.has(f) && facts.files[f] !== null) notes.push(`~/${MANAGED_PATHS[f]} is present but the role ${role.name} does not use it (left as is)`);
  }

  // Ollama: a second server from `brew services` holds the port the agent needs.
  let stopId: string | undefined;
  const brewService = facts.brew.services?.[BREW_SERVICE];
  if (brewService !== undefined && brewService !== 'stopped' && brewService !== 'none') {
    differences.push({ field: `brew.services.${BREW_SERVICE}`, desired: 'stopped', observed: brewService });
    stopId = `${n}/stop-brew-service/${BREW_SERVICE}`;
    steps.push({ kind: 'stop-brew-service', id: stopId, node: n, name: BREW_SERVICE, why: `brew services reports ${BREW_SERVICE} ${brewService}: it competes with ${AGENT_LABEL} for port ${settings.ollama.port}`, after: [] });
  }

  const launchd = facts.launchd.ollama;
  const plistPath = `${home}/${MANAGED_PATHS.launchd_plist}`;
  let loadId: string | undefined;
  let restartId: string | undefined;
  let unloadId: string | undefined;
  const removeIds: string[] = [];
  let freedBytes = 0;
  const have = new Map(facts.ollama.models.map((m) => [normalizeModelRef(m.name), m]));

  if (role.services.ollama) {
    // 6/7: the launchd agent (seed 4c.7): load when not loaded, reload when its plist changes, restart when only the env changes.
    const agentAfter = defined(ollamaFormulaId, brewId, fileIds.launchd_plist, fileIds.ollama_env, dirsId, stopId);
    if (!launchd.loaded) {
      differences.push({ field: `launchd.${AGENT_LABEL}`, desired: 'loaded', observed: 'not loaded' });
      loadId = `${n}/load-agent`;
      steps.push({ kind: 'load-agent', id: loadId, node: n, label: AGENT_LABEL, plist_path: plistPath, reload: false, why: `${AGENT_LABEL} is not loaded in launchd`, after: agentAfter });
    } else if (fileIds.launchd_plist !== undefined) {
      loadId = `${n}/load-agent`;
      steps.push({ kind: 'load-agent', id: loadId, node: n, label: AGENT_LABEL, plist_path: plistPath, reload: true, why: `${AGENT_LABEL}.plist changes: launchd must reload it`, after: agentAfter });
    } else {
      // Snapshots drop the pid and keep `running`.
      const notRunning = !(launchd.running ?? launchd.pid !== null) && !facts.ollama.local.up;
      let why: string | undefined;
      if (fileIds.ollama_env !== undefined) why = 'ollama.env changes: Ollama must restart to run with it';
      else if (stopId !== undefined) why = `the agent must take port ${settings.ollama.port} once brew's ${BREW_SERVICE} stops`;
      else if (notRunning) {
        why = `${AGENT_LABEL} is loaded but not running${launchd.last_exit === null ? '' : ` (last exit ${launchd.last_exit})`}`;
        differences.push({ field: `launchd.${AGENT_LABEL}.pid`, desired: 'running', observed: launchd.last_exit === null ? 'not running' : `not running, last exit ${launchd.last_exit}` });
      }
      if (why !== undefined) {
        restartId = `${n}/restart-agent`;
        steps.push({ kind: 'restart-agent', id: restartId, node: n, label: AGENT_LABEL, why, after: defined(fileIds.ollama_env, stopId, ollamaFormulaId) });
      } else if (facts.ollama.local.up && !facts.ollama.external.up && !isLoopbackHost(node.ollama_env.OLLAMA_HOST)) {
        differences.push({ field: 'ollama.external', desired: 'up', observed: facts.ollama.external.error ?? 'down' });
        notes.push(`Ollama answers on ${n} itself but not from Bob: check the running server's OLLAMA_HOST and the macOS firewall`);
      }
    }
  } else if (launchd.loaded || facts.files.launchd_plist !== null) {
    if (options.prune) {
      unloadId = `${n}/unload-agent`;
      differences.push({ field: `launchd.${AGENT_LABEL}`, desired: 'absent', observed: launchd.loaded ? 'loaded' : 'plist present' });
      steps.push({ kind: 'unload-agent', id: unloadId, node: n, label: AGENT_LABEL, plist_path: plistPath, why: `the role ${role.name} runs no Ollama (prune is on)`, after: [] });
    } else {
      notes.push(`${AGENT_LABEL} is ${launchd.loaded ? 'loaded' : 'installed'} but the role ${role.name} runs no Ollama; kept (prune is off)`);
    }
  }
  const agentReady = defined(loadId, restartId, ollamaFormulaId, stopId);

  // Models no longer desired: removed only with prune.
  const extra = facts.ollama.models_source === 'none' ? [] : [...have.keys()].filter((m) => !node.models.includes(m)).sort();
  for (const m of extra) {
    const size = have.get(m)?.size ?? 0;
    if (!options.prune) {
      notes.push(`extra model ${m} (${formatBytes(size)}) kept (prune is off)`);
      continue;
    }
    differences.push({ field: `models.${m}`, desired: null, observed: 'present' });
    const id = `${n}/remove-model/${m}`;
    removeIds.push(id);
    freedBytes += size;
    steps.push({ kind: 'remove-model', id, node: n, model: m, bytes: size, why: `${m} is on the node but not in fleet/ (prune is on)`, after: role.services.ollama ? agentReady : [] });
  }
  if (unloadId !== undefined) {
    const step = steps.find((s) => s.id === unloadId);
    if (step !== undefined) step.after = [...removeIds];
  }

  // 6: pulls, smallest first, each after the previous; what the disk cannot hold becomes a manual step.
  // With no Ollama answering and no manifests readable the model list is unknown, not empty:
  // unless Ollama is about to be (re)started, nothing is planned on a guess.
  const modelsUnknown = facts.ollama.models_source === 'none' && loadId === undefined && restartId === undefined && ollamaFormulaId === undefined;
  if (modelsUnknown && role.services.ollama) notes.push('the models on the node are unknown (Ollama did not answer and its manifests could not be read): no model steps planned');
  if (role.services.ollama && !modelsUnknown) {
    const missing: { model: string; bytes: number; why: string }[] = [];
    for (const m of node.models) {
      const bytes = desired.models[m]?.size_bytes ?? 0;
      const seen = have.get(m);
      const pinned = desired.models[m]?.digest;
      if (seen === undefined) {
        differences.push({ field: `models.${m}`, desired: 'present', observed: null });
        missing.push({ model: m, bytes, why: `${m} is not on the node` });
      } else if (pinned !== undefined && seen.digest !== pinned) {
        differences.push({ field: `models.${m}.digest`, desired: pinned.slice(0, 12), observed: seen.digest.slice(0, 12) });
        missing.push({ model: m, bytes, why: `${m} has digest ${seen.digest.slice(0, 12)}, fleet/ pins ${pinned.slice(0, 12)}` });
      }
    }
    missing.sort((a, b) => a.bytes - b.bytes || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
    const available = facts.disk.available_bytes;
    const margin = settings.memory.disk_margin_gb * 1e9;
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
      steps.push({ kind: 'pull-model', id, node: n, model: m.model, bytes: m.bytes, why: `${m.why}${space}`, after: [...agentReady, ...removeIds, ...defined(previous)] });
      previous = id;
    }
    if (tooBig.length > 0 && available !== null) steps.push(diskSpaceStep(settings, node, ctx.address, tooBig, available + freedBytes, margin));
  }

  // 8: the heartbeat crontab line, replaced, never duplicated.
  if (!crontabInSync(facts.crontab.lines, HEARTBEAT_CRON_LINE)) {
    const lines = heartbeatLinesOf(facts.crontab.lines);
    differences.push({ field: 'crontab.heartbeat', desired: HEARTBEAT_CRON_LINE, observed: lines.length === 0 ? null : lines.join(' | ') });
    const why = lines.length === 0 ? 'no heartbeat line in the crontab' : lines.length > 1 ? `${lines.length} heartbeat lines in the crontab (duplicates)` : `the heartbeat line is ${show(lines[0])}`;
    // after the key: the first heartbeat, sent as soon as the line is in, is signed
    steps.push({ kind: 'set-crontab', id: `${n}/set-crontab`, node: n, line: HEARTBEAT_CRON_LINE, marker: HEARTBEAT_MARKER, why, after: defined(fileIds.heartbeat_script, secretId, dirsId) });
  }

  // 9: register with Bob when the payload changes or Ollama comes up.
  const newlyUp = loadId !== undefined && !launchd.loaded;
  if (fileIds.self_registration !== undefined || newlyUp) {
    steps.push({
      kind: 'register', id: `${n}/register`, node: n, url: `${files.registryUrl}/api/nodes/register`,
      payload: selfRegistrationOf(files),
      why: fileIds.self_registration !== undefined ? 'the self-registration payload changes' : 'Ollama comes up on the node',
      after: defined(fileIds.self_registration, loadId, restartId),
    });
  }

  // Software no longer desired by the role (only packages some role installs; never other software).
  const managedFormulae = new Set(Object.values(desired.roles).flatMap((r) => r.software.formulae));
  const managedCasks = new Set(Object.values(desired.roles).flatMap((r) => r.software.casks));
  for (const [kind, managed, wantedNames, installed] of [
    ['formula', managedFormulae, role.software.formulae, formulae], ['cask', managedCasks, role.software.casks, casks],
  ] as const) {
    for (const name of Object.keys(installed).filter((p) => managed.has(p) && !wantedNames.includes(p)).sort()) {
      if (!options.prune) {
        notes.push(`${kind} ${name} is installed but the role ${role.name} does not need it; kept (prune is off)`);
        continue;
      }
      differences.push({ field: `brew.${kind === 'formula' ? 'formulae' : 'casks'}.${name}`, desired: null, observed: 'installed' });
      steps.push({ kind: 'uninstall-package', id: `${n}/uninstall-package/${kind}/${name}`, node: n, package: kind, name, why: `${kind} ${name} is not used by the role ${role.name} (prune is on)`, after: [...defined(unloadId), ...removeIds] });
    }
  }

  // 4d: HARPA is finished by hand, once, when its instructions are new on the node.
  if (role.services.harpa && facts.files.harpa_instructions === null) {
    steps.push(harpaStep(node, ctx.address, defined(fileIds.harpa_instructions, packageIds.get('cask/google-chrome'))));
  }
  return { steps, differences, notes };
}

function isLoopbackHost(host: string): boolean {
  return host.startsWith('127.') || host === 'localhost';
}

function fileWhy(f: DesiredFile, content: string | undefined, missing: boolean): string {
  const where = `~/${MANAGED_PATHS[f.file]}`;
  if (missing) return `${where} is missing`;
  const diff = firstDifference(content, f.content);
  return diff === undefined ? `${where} differs from the desired content` : `${where} differs, ${diff}`;
}

// ---- retired nodes: remove what the fleet put there ----

function planRetired(ctx: NodeContext): NodePlan {
  const { node, facts } = ctx;
  const n = node.name;
  const home = homeOf(facts, ctx.desired.settings.ssh.user);
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
