// A model of a perfect `fleet apply`: what each step, done right, changes in
// what observe would see next. With it the property "plan after apply is
// empty" tests plan against itself without SSH. The switch is exhaustive, so
// a new step kind fails here until the model knows it.
import { createHash } from 'node:crypto';
import { normalizeModelRef, resolveNode, type Desired } from '../../reconciler/src/model/desired.ts';
import { renderCrontab } from '../../reconciler/src/plan/desired-files.ts';
import { assertNever, type NodePlan, type Plan, type Step } from '../../reconciler/src/model/steps.ts';
import type { ObservedFacts, ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { homeOf } from '../../reconciler/src/model/mac-layout.ts';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === 'localhost';
}

function startOllama(f: ObservedFacts, host: string): void {
  f.launchd.ollama.loaded = true;
  f.launchd.ollama.pid = 4242;
  f.launchd.ollama.running = true;
  f.launchd.ollama.last_exit = null;
  f.ollama.local = { up: true, version: '0.12.6' };
  f.ollama.external = isLoopback(host) ? { up: false, error: 'connect ECONNREFUSED' } : { up: true, version: '0.12.6' };
  if (f.ollama.models_source === 'none') f.ollama.models_source = 'local-api';
}

/** Applies one executable step to the node's facts. */
export function applyStep(desired: Desired, nodeName: string, f: ObservedFacts, step: Step): void {
  const doc = desired.nodes.find((n) => n.name === nodeName);
  const host = doc === undefined ? '0.0.0.0' : resolveNode(desired, doc).ollama_env.OLLAMA_HOST;
  switch (step.kind) {
    case 'set-hostname':
      f.hostnames = { computer_name: step.computer_name, host_name: step.host_name, local_host_name: step.local_host_name };
      return;
    case 'install-homebrew':
      f.brew = { prefix: step.prefix, formulae: {}, casks: {}, services: {} };
      return;
    case 'install-package':
      if (step.package === 'formula') f.brew.formulae[step.name] = '1.0.0';
      else f.brew.casks[step.name] = '1.0.0';
      if (step.name === 'ollama') f.ollama.cli_version = '0.12.6';
      return;
    case 'uninstall-package':
      if (step.package === 'formula') delete f.brew.formulae[step.name];
      else delete f.brew.casks[step.name];
      return;
    case 'make-dirs': {
      const dirs = f.dirs ?? {};
      const home = homeOf(f, desired.settings.ssh.user);
      for (const p of step.paths) dirs[`~/${p.slice(home.length + 1)}`] = true;
      f.dirs = dirs;
      return;
    }
    case 'write-file':
      f.files[step.file] = { sha256: sha256(step.content), size: Buffer.byteLength(step.content), content: step.content };
      return;
    case 'stop-brew-service':
      if (f.brew.services !== undefined) f.brew.services[step.name] = 'none';
      return;
    case 'load-agent':
    case 'restart-agent':
      startOllama(f, host);
      return;
    case 'unload-agent':
      f.launchd.ollama = { loaded: false, pid: null, last_exit: null, running: false };
      f.files.launchd_plist = null;
      f.ollama.local = { up: false };
      f.ollama.external = { up: false, error: 'connect ECONNREFUSED' };
      return;
    case 'pull-model':
    case 'copy-model': {
      const pinned = desired.models[step.model]?.digest;
      f.ollama.models = f.ollama.models.filter((m) => normalizeModelRef(m.name) !== step.model);
      f.ollama.models.push({ name: step.model, digest: pinned ?? sha256(step.model), size: step.bytes });
      if (f.disk.available_bytes !== null) f.disk.available_bytes -= step.bytes;
      return;
    }
    case 'remove-model': {
      const before = f.ollama.models.length;
      f.ollama.models = f.ollama.models.filter((m) => m.name !== step.model && normalizeModelRef(m.name) !== step.model);
      if (f.disk.available_bytes !== null && f.ollama.models.length < before) f.disk.available_bytes += step.bytes;
      return;
    }
    case 'set-crontab':
      f.crontab.lines = renderCrontab(f.crontab.lines, step.line);
      return;
    case 'register':
    case 'install-secret':
    case 'write-generated':
    case 'reload-openclaw':
      return;
    case 'manual':
      return;
    default:
      assertNever(step);
  }
}

/** What a person does for a manual step (only the ones a person can finish at the node). */
function doManual(desired: Desired, nodeName: string, f: ObservedFacts, step: Step): void {
  if (step.kind !== 'manual') return;
  const doc = desired.nodes.find((n) => n.name === nodeName);
  if (doc === undefined) return;
  const node = resolveNode(desired, doc);
  if (step.id.endsWith('/sudo-password/hostname')) {
    f.hostnames = { computer_name: node.display_name, host_name: node.name, local_host_name: node.name };
  } else if (step.id.endsWith('/sudo-password/homebrew')) {
    f.brew = { prefix: node.hardware?.architecture === 'x86_64' ? '/usr/local' : '/opt/homebrew', formulae: {}, casks: {}, services: {} };
  } else if (step.reason === 'disk-space') {
    f.disk.available_bytes = (f.disk.available_bytes ?? 0) + 1e12;
  }
}

/**
 * Runs a node's plan as the executor would: in order, skipping steps that wait
 * for a manual or skipped step; then the person does the manual steps.
 * Returns the node as observe would see it next.
 */
export function applyNodePlan(desired: Desired, observed: ObservedNode, np: NodePlan, options: { person: boolean }): ObservedNode {
  const next = structuredClone(observed);
  const f = next.facts;
  if (f === undefined || next.reach.status !== 'ok') return next;
  if (np.status === 'unreachable' || np.status === 'away' || np.status === 'refused' || np.status === 'unknown-hardware' || np.status === 'planned' || np.status === 'error') return next;
  const blocked = new Set<string>();
  for (const step of np.steps) {
    if (step.kind === 'manual' || step.after.some((a) => blocked.has(a))) {
      blocked.add(step.id);
      continue;
    }
    applyStep(desired, np.node, f, step);
  }
  if (options.person) for (const step of np.steps) doManual(desired, np.node, f, step);
  return next;
}

export function applyIdeal(desired: Desired, observed: readonly ObservedNode[], plan: Plan, options: { person: boolean } = { person: false }): ObservedNode[] {
  const plans = new Map(plan.nodes.map((n) => [n.node, n]));
  return observed.map((o) => {
    const np = plans.get(o.node);
    return np === undefined ? structuredClone(o) : applyNodePlan(desired, o, np, options);
  });
}
