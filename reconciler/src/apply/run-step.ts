// Runs one step on its node: the commands of step-commands.ts through the
// node's session, the Ollama client, Bob's registry API or Bob's own files.
// Returns the outcome for everything expected (done, needs a person) and throws
// a CommandError for failures; the executor decides about retries.
import { assertNever, type Step, type StepOf } from '../model/steps.ts';
import { guardedFetch, LoopbackViolation } from '../net/guard.ts';
import { crontabInSync, renderCrontab } from '../plan/desired-files.ts';
import { CommandError, createCommandError, toCommandError } from './command-error.ts';
import type { StepOutcome } from './context.ts';
import { resolveUid, runCommand, runRemote, type NodeRuntime } from './node-runtime.ts';
import {
  bootoutCommand, bootstrapCommand, homebrewInstallCommand, homebrewInstalledCommand, homebrewManualInstructions,
  hostnameCommands, hostnameManualInstructions, isNotInstalledMessage, kickstartCommand, launchdDomainInstructions, lintPlistCommand,
  makeDirsCommand, packageInstallCommand, packageManualInstructions, packageUninstallCommand, readCrontabCommand,
  removeFileCommand, stopBrewServiceCommand, writeCrontabCommand, writeFileCommand, firstHeartbeatCommand, writeSecretCommand,
} from './step-commands.ts';
import { pullModel, removeModel } from './pull-model.ts';
import { parseCrontab } from '../observe/parse-crontab.ts';
import { MANAGED_PATHS } from '../model/mac-layout.ts';
import { copyModel } from './copy-model.ts';

const ok = (changed: boolean, detail?: string): StepOutcome => (detail === undefined ? { status: 'ok', changed } : { status: 'ok', changed, detail });

function randomTag(rt: NodeRuntime): string {
  return rt.ctx.randomTag?.() ?? Math.random().toString(36).slice(2, 10);
}

async function setHostname(rt: NodeRuntime, step: StepOf<'set-hostname'>): Promise<StepOutcome> {
  for (const cmd of hostnameCommands(step)) {
    const { failure } = await runCommand(rt, cmd, { allow: ['sudo-password'] });
    if (failure === 'sudo-password') {
      return { status: 'manual', reason: 'sudo-password', instructions: hostnameManualInstructions(step, rt.node), blocksDependents: false };
    }
  }
  return ok(true);
}

async function installHomebrew(rt: NodeRuntime, step: StepOf<'install-homebrew'>): Promise<StepOutcome> {
  const present = await runRemote(rt, 'test -x brew', homebrewInstalledCommand(step.prefix), { allow: ['failed'] });
  if (present.failure === null) return ok(false, `Homebrew already at ${step.prefix}`);
  const { failure } = await runRemote(rt, 'the Homebrew installer', homebrewInstallCommand(), { allow: ['sudo-password'], abortable: true });
  if (failure === 'sudo-password') {
    return { status: 'manual', reason: 'sudo-password', instructions: homebrewManualInstructions(rt.node), blocksDependents: true };
  }
  const after = await runRemote(rt, 'test -x brew', homebrewInstalledCommand(step.prefix), { allow: ['failed'] });
  if (after.failure !== null) throw new CommandError('failed', `the Homebrew installer finished but ${step.prefix}/bin/brew is missing`);
  return ok(true);
}

async function installPackage(rt: NodeRuntime, step: StepOf<'install-package'>): Promise<StepOutcome> {
  const { failure } = await runRemote(rt, `brew install ${step.package === 'cask' ? '--cask ' : ''}${step.name}`, packageInstallCommand(rt.brewPrefix, step), { allow: ['sudo-password'], abortable: true });
  if (failure === 'sudo-password') {
    return { status: 'manual', reason: 'sudo-password', instructions: packageManualInstructions(rt.brewPrefix, step, rt.node), blocksDependents: true };
  }
  return ok(true);
}

async function uninstallPackage(rt: NodeRuntime, step: StepOf<'uninstall-package'>): Promise<StepOutcome> {
  const what = `brew uninstall ${step.package === 'cask' ? '--cask ' : ''}${step.name}`;
  const { result, failure } = await runRemote(rt, what, packageUninstallCommand(rt.brewPrefix, step), { allow: ['failed', 'sudo-password'], abortable: true });
  if (failure === 'sudo-password') {
    return { status: 'manual', reason: 'sudo-password', instructions: packageManualInstructions(rt.brewPrefix, step, rt.node), blocksDependents: true };
  }
  if (failure === 'failed') {
    if (isNotInstalledMessage(result.stderr + result.stdout)) return ok(false, `${step.name} was not installed`);
    throw createCommandError(what, result);
  }
  return ok(true);
}

async function writeFile(rt: NodeRuntime, step: StepOf<'write-file'>): Promise<StepOutcome> {
  const plist = step.file === 'launchd_plist' || step.path.endsWith('.plist');
  await runCommand(rt, writeFileCommand(step, step.content, randomTag(rt), { plist }));
  return ok(true);
}

async function stopBrewService(rt: NodeRuntime, step: StepOf<'stop-brew-service'>): Promise<StepOutcome> {
  const what = `brew services stop ${step.name}`;
  const { result, failure } = await runRemote(rt, what, stopBrewServiceCommand(rt.brewPrefix, step.name), { allow: ['failed'] });
  if (failure === 'failed') {
    if (/not started|not running|No such service|not loaded|Service .* is not/i.test(result.stderr + result.stdout)) return ok(false, `${step.name} was not running`);
    throw createCommandError(what, result);
  }
  return ok(true);
}

/** launchctl bootout returns before the service is gone; bootstrap right after may still say "already loaded". */
const BOOTSTRAP_SETTLE_TRIES = 10;
const BOOTSTRAP_SETTLE_MS = 200;

async function loadAgent(rt: NodeRuntime, step: StepOf<'load-agent'>): Promise<StepOutcome> {
  const uid = await resolveUid(rt);
  const lint = await runRemote(rt, `plutil -lint ${step.plist_path}`, lintPlistCommand(step.plist_path), { allow: ['failed'] });
  if (lint.failure !== null) {
    throw new CommandError('failed', `plutil -lint rejected ${step.plist_path}; not loading it: ${(lint.result.stdout + lint.result.stderr).trim()}`, { stderr: lint.result.stderr });
  }
  if (step.reload) {
    await runRemote(rt, `launchctl bootout gui/${uid}/${step.label}`, bootoutCommand(uid, step.label), { allow: ['launchd-not-loaded'] });
  }
  let loaded = false;
  for (let i = 0; i < (step.reload ? BOOTSTRAP_SETTLE_TRIES : 1) && !loaded; i++) {
    if (i > 0) await rt.ctx.clock.sleep(BOOTSTRAP_SETTLE_MS, rt.signal);
    const { failure } = await runRemote(rt, `launchctl bootstrap gui/${uid}`, bootstrapCommand(uid, step.plist_path), { allow: ['launchd-already-loaded', 'launchd-domain'] });
    if (failure === 'launchd-domain') {
      return { status: 'manual', reason: 'launchd-domain', instructions: launchdDomainInstructions(rt.node, uid, step.plist_path), blocksDependents: true };
    }
    // Without a reload, "already loaded" is the goal reached (idempotent re-run).
    loaded = failure === null || !step.reload;
  }
  if (!loaded) throw new CommandError('failed', `launchctl bootstrap gui/${uid} ${step.plist_path} kept saying the service is loaded after bootout`);
  // Starts the agent when it is loaded but not running; a running agent is left alone.
  await runRemote(rt, `launchctl kickstart gui/${uid}/${step.label}`, kickstartCommand(uid, step.label, false));
  return ok(true);
}

async function restartAgent(rt: NodeRuntime, step: StepOf<'restart-agent'>): Promise<StepOutcome> {
  const uid = await resolveUid(rt);
  const { failure } = await runRemote(rt, `launchctl kickstart -k gui/${uid}/${step.label}`, kickstartCommand(uid, step.label, true), { allow: ['launchd-domain'] });
  if (failure === 'launchd-domain') {
    return { status: 'manual', reason: 'launchd-domain', instructions: launchdDomainInstructions(rt.node, uid, `~/Library/LaunchAgents/${step.label}.plist`), blocksDependents: true };
  }
  return ok(true);
}

async function unloadAgent(rt: NodeRuntime, step: StepOf<'unload-agent'>): Promise<StepOutcome> {
  const uid = await resolveUid(rt);
  const { failure } = await runRemote(rt, `launchctl bootout gui/${uid}/${step.label}`, bootoutCommand(uid, step.label), { allow: ['launchd-not-loaded'] });
  await runRemote(rt, `rm -f ${step.plist_path}`, removeFileCommand(step.plist_path));
  return ok(failure === null);
}

async function setCrontab(rt: NodeRuntime, step: StepOf<'set-crontab'>): Promise<StepOutcome> {
  const { result, failure } = await runRemote(rt, 'crontab -l', readCrontabCommand(), { allow: ['no-crontab'] });
  const current = parseCrontab(result.stdout, failure === 'no-crontab' ? 1 : 0, result.stderr) ?? [];
  // The edit is plan's (desired-files.ts), so what apply writes is what plan checks.
  if (crontabInSync(current, step.line) && (step.line === null || current.some((l) => l.trim() === step.marker.trim()))) {
    return ok(false, 'crontab already as desired');
  }
  await runRemote(rt, 'crontab -', writeCrontabCommand(renderCrontab(current, step.line)));
  if (step.line === null) return ok(true);
  // The first beat now, not at the next cron minute; a failure is the heartbeat's log's business.
  const beat = await runRemote(rt, 'bash ~/.symphony/heartbeat.sh', firstHeartbeatCommand(`~/${MANAGED_PATHS.heartbeat_script}`), { allow: ['failed'] });
  return beat.failure === null
    ? ok(true, 'heartbeat line installed; first heartbeat sent')
    : { status: 'ok', changed: true, warning: `heartbeat line installed, but the first heartbeat failed (exit ${String(beat.result.code)}); cron runs it every minute: see ~/.symphony/logs/heartbeat.log on ${rt.node}` };
}

const REGISTER_TIMEOUT_MS = 10_000;

/** Self-registration: 200 or 201 is accepted; anything else is a warning (the heartbeat registers the node later). */
async function register(rt: NodeRuntime, step: StepOf<'register'>): Promise<StepOutcome> {
  const doFetch = guardedFetch(rt.ctx.guard);
  const timeout = AbortSignal.timeout(REGISTER_TIMEOUT_MS);
  try {
    const res = await doFetch(step.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(step.payload),
      signal: rt.signal ? AbortSignal.any([rt.signal, timeout]) : timeout,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 200 || res.status === 201) return ok(true, `registry answered ${res.status}`);
    return { status: 'ok', changed: false, warning: `registration POST to ${step.url} answered HTTP ${res.status}; the node's heartbeat will announce it instead` };
  } catch (err) {
    // Not a registry that is down for a moment: this address may never be
    // contacted here (FLEET_LOOPBACK_ONLY), so the node is not registered, and
    // its heartbeat would be refused the same way. Point --targets at a fleet
    // whose Bob is on loopback (a simulated fleet's targets carry one).
    if (err instanceof LoopbackViolation) {
      return { status: 'failed', failure: 'failed', message: `registration POST to ${step.url} refused before sending: ${err.message}` };
    }
    const e = toCommandError(`POST ${step.url}`, err);
    if (e.kind === 'aborted' && rt.signal?.aborted) throw e;
    return { status: 'ok', changed: false, warning: `registration POST to ${step.url} failed (${e.message}); the node's heartbeat will announce it instead` };
  }
}

/**
 * The key goes over SSH on stdin into a 0600 temporary file beside the target
 * and is renamed into place: it never appears on a command line, in the plan
 * or in a log.
 */
async function installSecret(rt: NodeRuntime, step: StepOf<'install-secret'>): Promise<StepOutcome> {
  const secrets = rt.ctx.secrets;
  const content = secrets?.contentFor(rt.node, step.key_id);
  if (secrets === undefined || content === undefined) {
    return { status: 'skipped', message: `Bob holds no key ${step.key_id.slice(0, 12)} for ${rt.node} any more (rotated meanwhile): the next run installs the current one` };
  }
  await runCommand(rt, writeSecretCommand(step.path, content));
  await secrets.markInstalled(rt.node, step.key_id);
  return ok(true);
}

export async function runStep(rt: NodeRuntime, step: Step): Promise<StepOutcome> {
  switch (step.kind) {
    case 'set-hostname': return setHostname(rt, step);
    case 'install-homebrew': return installHomebrew(rt, step);
    case 'install-package': return installPackage(rt, step);
    case 'uninstall-package': return uninstallPackage(rt, step);
    case 'make-dirs': await runRemote(rt, 'mkdir -p', makeDirsCommand(step.paths)); return ok(true);
    case 'write-file': return writeFile(rt, step);
    case 'install-secret': return installSecret(rt, step);
    case 'stop-brew-service': return stopBrewService(rt, step);
    case 'load-agent': return loadAgent(rt, step);
    case 'restart-agent': return restartAgent(rt, step);
    case 'unload-agent': return unloadAgent(rt, step);
    case 'pull-model': return pullModel(rt, step);
    case 'copy-model': return copyModel(rt, step);
    case 'remove-model': return removeModel(rt, step);
    case 'set-crontab': return setCrontab(rt, step);
    case 'register': return register(rt, step);
    case 'write-generated': {
      if (!rt.ctx.bob) return { status: 'skipped', message: 'not running on Bob: generated files were written under generated/ only' };
      const { changed } = await rt.ctx.bob.installGenerated(step);
      return ok(changed.length > 0, changed.length > 0 ? `installed ${changed.join(', ')}` : 'installed files already current');
    }
    case 'reload-openclaw': {
      if (!rt.ctx.bob) return { status: 'skipped', message: 'not running on Bob' };
      const r = await rt.ctx.bob.reloadOpenClaw();
      return r.signalled ? ok(true, r.message) : { status: 'ok', changed: false, warning: r.message };
    }
    // Never done here: steps after it wait until a person has done it (model/steps.ts).
    case 'manual': return { status: 'manual', reason: step.reason, instructions: [...step.instructions], blocksDependents: true };
    default: return assertNever(step);
  }
}
