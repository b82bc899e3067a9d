// Ollama's launchd agent. It is loaded when it is not, reloaded when its plist
// changes, and restarted when only its environment changes, when brew's own
// Ollama service gives the port back, or when it is loaded but not running. A
// second Ollama started by `brew services` holds the port the agent needs: it
// is stopped. A role without Ollama has its agent unloaded, with prune.
import { AGENT_LABEL, BREW_SERVICE, MANAGED_PATHS } from '../../model/mac-layout.ts';
import { emptyResourcePlan, planned, type NodeContext, type ResourcePlan } from './node-context.ts';

export interface AgentPlan extends ResourcePlan {
  loadId: string | undefined;
  restartId: string | undefined;
  unloadId: string | undefined;
  /** What Ollama's API needs done before it serves: the steps that (re)start it or free its port. */
  ready: string[];
}

export interface AgentDeps {
  homebrew: string | undefined;
  /** The step that installs the ollama formula. */
  ollamaPackage: string | undefined;
  dirs: string | undefined;
  plistWrite: string | undefined;
  envWrite: string | undefined;
  /** The node's remove-model steps: they talk to the running Ollama, so an unload waits for them. */
  modelRemovals: readonly string[];
}

export function planAgent(ctx: NodeContext, deps: AgentDeps): AgentPlan {
  const { node, facts, options } = ctx;
  const n = node.name;
  const role = node.role;
  const port = ctx.desired.settings.ollama.port;
  const out = emptyResourcePlan();

  let stopId: string | undefined;
  const brewService = facts.brew.services?.[BREW_SERVICE];
  if (brewService !== undefined && brewService !== 'stopped' && brewService !== 'none') {
    out.differences.push({ field: `brew.services.${BREW_SERVICE}`, desired: 'stopped', observed: brewService });
    stopId = `${n}/stop-brew-service/${BREW_SERVICE}`;
    out.steps.push({ kind: 'stop-brew-service', id: stopId, node: n, name: BREW_SERVICE, why: `brew services reports ${BREW_SERVICE} ${brewService}: it competes with ${AGENT_LABEL} for port ${port}`, after: [] });
  }

  const launchd = facts.launchd.ollama;
  const plistPath = `${ctx.files.home}/${MANAGED_PATHS.launchd_plist}`;
  let loadId: string | undefined;
  let restartId: string | undefined;
  let unloadId: string | undefined;
  if (role.services.ollama) {
    const agentAfter = planned(deps.ollamaPackage, deps.homebrew, deps.plistWrite, deps.envWrite, deps.dirs, stopId);
    if (!launchd.loaded) {
      out.differences.push({ field: `launchd.${AGENT_LABEL}`, desired: 'loaded', observed: 'not loaded' });
      loadId = `${n}/load-agent`;
      out.steps.push({ kind: 'load-agent', id: loadId, node: n, label: AGENT_LABEL, plist_path: plistPath, reload: false, why: `${AGENT_LABEL} is not loaded in launchd`, after: agentAfter });
    } else if (deps.plistWrite !== undefined) {
      loadId = `${n}/load-agent`;
      out.steps.push({ kind: 'load-agent', id: loadId, node: n, label: AGENT_LABEL, plist_path: plistPath, reload: true, why: `${AGENT_LABEL}.plist changes: launchd must reload it`, after: agentAfter });
    } else {
      // Snapshots drop the pid and keep `running`.
      const notRunning = !(launchd.running ?? launchd.pid !== null) && !facts.ollama.local.up;
      let why: string | undefined;
      if (deps.envWrite !== undefined) why = 'ollama.env changes: Ollama must restart to run with it';
      else if (stopId !== undefined) why = `the agent must take port ${port} once brew's ${BREW_SERVICE} stops`;
      else if (notRunning) {
        why = `${AGENT_LABEL} is loaded but not running${launchd.last_exit === null ? '' : ` (last exit ${launchd.last_exit})`}`;
        out.differences.push({ field: `launchd.${AGENT_LABEL}.pid`, desired: 'running', observed: launchd.last_exit === null ? 'not running' : `not running, last exit ${launchd.last_exit}` });
      }
      if (why !== undefined) {
        restartId = `${n}/restart-agent`;
        out.steps.push({ kind: 'restart-agent', id: restartId, node: n, label: AGENT_LABEL, why, after: planned(deps.envWrite, stopId, deps.ollamaPackage) });
      } else if (facts.ollama.local.up && !facts.ollama.external.up && !isLoopbackHost(node.ollama_env.OLLAMA_HOST)) {
        out.differences.push({ field: 'ollama.external', desired: 'up', observed: facts.ollama.external.error ?? 'down' });
        out.notes.push(`Ollama answers on ${n} itself but not from Bob: check the running server's OLLAMA_HOST and the macOS firewall`);
      }
    }
  } else if (launchd.loaded || facts.files.launchd_plist !== null) {
    if (options.prune) {
      unloadId = `${n}/unload-agent`;
      out.differences.push({ field: `launchd.${AGENT_LABEL}`, desired: 'absent', observed: launchd.loaded ? 'loaded' : 'plist present' });
      out.steps.push({ kind: 'unload-agent', id: unloadId, node: n, label: AGENT_LABEL, plist_path: plistPath, why: `the role ${role.name} runs no Ollama (prune is on)`, after: [...deps.modelRemovals] });
    } else {
      out.notes.push(`${AGENT_LABEL} is ${launchd.loaded ? 'loaded' : 'installed'} but the role ${role.name} runs no Ollama; kept (prune is off)`);
    }
  }
  return { ...out, loadId, restartId, unloadId, ready: planned(loadId, restartId, deps.ollamaPackage, stopId) };
}

function isLoopbackHost(host: string): boolean {
  return host.startsWith('127.') || host === 'localhost';
}
