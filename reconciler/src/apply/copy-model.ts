// A copy-model step: the model's blobs stream from a peer Mac to this one over
// SSH (copy-commands.ts has the command lines and the trust they need), each
// verified against its sha256 before it is put in place, the manifest last.
// A peer that is away, lacks a blob or stops mid-way is left for the next
// one; a digest that does not match, or no peer at all, falls back to an
// internet pull when the node may use the internet. The outcome says which
// source served the model and why.
import { createHash, randomBytes } from 'node:crypto';
import type { StepOf } from '../model/steps.ts';
import { generateEd25519KeyPair } from '../net/ssh-keys.ts';
import { CommandError, toCommandError } from './command-error.ts';
import type { StepOutcome } from './context.ts';
import {
  COPY_EXIT, copyBlobCommand, partialSizeCommand, copyKeyLine, grantCopyKeyCommand, installCopyKeyCommands, installManifestCommand, readManifestCommand,
  removeCopyKeyCommand, revokeCopyKeysCommand, serveScriptCommand, type CopySource,
} from './copy-commands.ts';
import { runCommand, runRemote, type NodeRuntime } from './node-runtime.ts';
import { pullModel, verifyListed } from './pull-model.ts';
import { createRateMeter } from './progress.ts';
import type { TransferCoordinator } from './transfers.ts';
import type { RemoteSession } from '../net/remote.ts';
import type { ShellLine } from '../shell/quote.ts';

/** Why one source could not serve the model. */
class SourceProblem extends Error {
  readonly kind: 'away' | 'failed' | 'digest';
  constructor(kind: 'away' | 'failed' | 'digest', message: string) {
    super(message);
    this.kind = kind;
  }
}

interface ManifestDoc {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

function parseManifest(text: string, model: string, source: string): ManifestDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SourceProblem('failed', `the manifest of ${model} on ${source} is not JSON`);
  }
  const ok = (l: unknown): l is { digest: string; size: number } => typeof l === 'object' && l !== null
    && typeof (l as { digest?: unknown }).digest === 'string' && /^sha256:[0-9a-f]{64}$/.test((l as { digest: string }).digest)
    && Number.isSafeInteger((l as { size?: unknown }).size) && (l as { size: number }).size >= 0;
  const d = doc as { config?: unknown; layers?: unknown };
  if (!ok(d.config) || !Array.isArray(d.layers) || !d.layers.every(ok)) throw new SourceProblem('failed', `the manifest of ${model} on ${source} lists no valid blobs`);
  return { config: d.config, layers: d.layers };
}

function randomTag(rt: NodeRuntime): string {
  const t = rt.ctx.randomTag?.() ?? '';
  return /^[a-z0-9]{4,32}$/.test(t) ? t : randomBytes(6).toString('hex');
}

/** Where the target reaches the source's sshd: the address Bob reached it on, and its pinned host key. */
function copySourceOf(rt: NodeRuntime, source: string): CopySource {
  const target = rt.ctx.pool.target?.(source);
  const observed = rt.ctx.observed.get(source);
  const host = observed?.reach.address ?? target?.addresses[0];
  const hostKey = target?.knownHostKeys[0];
  if (target === undefined || host === undefined) throw new SourceProblem('away', `no address for ${source}`);
  if (hostKey === undefined) throw new SourceProblem('failed', `no pinned host key for ${source} in fleet/known_hosts: run \`fleet trust ${source}\``);
  return { host, port: target.port, user: target.user, hostKey };
}

async function sourceSession(rt: NodeRuntime, source: string): Promise<RemoteSession> {
  const got = await rt.ctx.pool.session(source);
  if (!got.ok) throw new SourceProblem('away', `${source} is ${got.reach.status}${got.reach.message ? ` (${got.reach.message})` : ''}`);
  return got.session;
}

/**
 * Runs a command on the source over Bob's pooled connection to it. That
 * connection is shared (the source's own steps use it, and close it when
 * they end; the pool opens a new one when it finds it closed), so a channel
 * that would not open, or a connection found closed, is tried again, twice.
 */
async function execOn(rt: NodeRuntime, source: string, what: string, line: ShellLine, stdin?: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  for (let attempt = 1; ; attempt++) {
    const session = await sourceSession(rt, source);
    let r;
    try {
      r = await session.exec(line, { timeoutMs: rt.options.stepTimeoutMs, ...(stdin === undefined ? {} : { stdin }) });
    } catch (err) {
      if (attempt < 3) continue;
      throw new SourceProblem('away', `${what}: ${toCommandError(what, err).message}`);
    }
    if (r.code === null && /^(cannot open a channel|connection to .* is closed)/.test(r.stderr) && attempt < 3) {
      await rt.ctx.clock.sleep(100 * attempt, rt.signal).catch(() => undefined);
      continue;
    }
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  }
}

/** Copies every blob and the manifest from `source`; throws SourceProblem when the source cannot serve it. */
async function copyFrom(rt: NodeRuntime, co: TransferCoordinator, step: StepOf<'copy-model'>, source: string, digest: string): Promise<number> {
  const src = copySourceOf(rt, source);
  // The manifest is metadata (a few hundred bytes): Bob reads it and checks it is the one the source lists.
  const read = await execOn(rt, source, `cat the manifest on ${source}`, readManifestCommand(step.model));
  if (read.code !== 0) throw new SourceProblem('failed', `${source} has no manifest for ${step.model} (${read.stderr.trim() || `exit ${read.code}`})`);
  const manifestDigest = createHash('sha256').update(read.stdout).digest('hex');
  if (digest !== '' && manifestDigest !== digest) throw new SourceProblem('failed', `the manifest of ${step.model} on ${source} changed since it was observed (${manifestDigest.slice(0, 12)}, expected ${digest.slice(0, 12)})`);
  const doc = parseManifest(read.stdout, step.model, source);
  const blobs = [doc.config, ...doc.layers].sort((a, b) => a.size - b.size);
  const total = blobs.reduce((n, b) => n + b.size, 0);

  const tag = randomTag(rt);
  const pair = generateEd25519KeyPair(`symphony-copy-${tag}`);
  const fromIp = rt.facts?.ip ?? undefined;
  const keyLine = copyKeyLine(pair.public, tag, fromIp ?? undefined);
  await co.exclusive(`keys:${source}`, async () => {
    if (co.firstGrant(source)) {
      // Lines an interrupted apply left behind, and the forced command's script.
      await execOn(rt, source, `remove stale copy keys on ${source}`, revokeCopyKeysCommand());
      const script = serveScriptCommand(tag);
      const w = await execOn(rt, source, `write the serve script on ${source}`, script.line, script.stdin);
      if (w.code !== 0) throw new SourceProblem('failed', `could not write ~/.symphony/serve-blob on ${source}: ${w.stderr.trim()}`);
    }
    const g = await execOn(rt, source, `allow the copy key on ${source}`, grantCopyKeyCommand(keyLine));
    if (g.code !== 0) throw new SourceProblem('failed', `could not add the copy key on ${source}: ${g.stderr.trim()}`);
  });
  let moved = 0;
  try {
    for (const command of installCopyKeyCommands(tag, pair.private, src)) await runCommand(rt, command);
    const meter = createRateMeter(() => rt.ctx.clock.now());
    let done = 0;
    let inFlight = 0;
    const report = (status: string): void => {
      const p = meter.sample(done + inFlight, total);
      rt.ctx.progress.pullProgress({ node: rt.node, model: step.model, status, completed: done + inFlight, total, source: `lan:${source}`, ...p });
    };
    const copyOne = async (blob: { digest: string; size: number }, polled: boolean): Promise<void> => {
      const status = `copying ${blob.digest.slice(7, 19)}`;
      const poll = polled ? pollPartial(rt, blob.digest, (bytes) => { inFlight = bytes; report(status); }) : undefined;
      let result;
      try {
        result = await runRemote(rt, `copy ${blob.digest.slice(0, 19)} of ${step.model} from ${source}`, copyBlobCommand(blob.digest, blob.size, src, tag), {
          allow: ['failed'], timeoutMs: rt.options.pullTimeoutMs, abortable: true,
        });
      } finally {
        poll?.stop();
        if (polled) inFlight = 0;
      }
      const code = result.result.code;
      const stderr = result.result.stderr.trim();
      if (code === COPY_EXIT.digestMismatch) throw new SourceProblem('digest', `${blob.digest.slice(0, 19)} from ${source} did not match its sha256 (deleted)`);
      if (code === COPY_EXIT.sourceAway) throw new SourceProblem('away', `ssh to ${source} failed${stderr ? `: ${stderr.split('\n').at(-1) ?? ''}` : ''}`);
      if (code === COPY_EXIT.sourceFailed) throw new SourceProblem('failed', `${source} could not serve ${blob.digest.slice(0, 19)}${stderr ? `: ${stderr.split('\n').at(-1) ?? ''}` : ''}`);
      if (code === COPY_EXIT.short) throw new SourceProblem('away', `${source} stopped sending ${blob.digest.slice(0, 19)} before its end (the partial file stays; the next attempt resumes it)`);
      if (code !== 0) throw new CommandError('failed', `copying ${blob.digest.slice(0, 19)} of ${step.model} from ${source} failed with exit ${code}: ${stderr}`);
      done += blob.size;
      moved += blob.size;
      report(status);
    };
    // The weights stream while the small blobs (config, template, license, params) follow one another beside them.
    const [largest, ...small] = [...blobs].sort((a, b) => b.size - a.size);
    report('copying');
    const settled = await Promise.allSettled([
      largest === undefined ? Promise.resolve() : copyOne(largest, true),
      (async () => { for (const b of small) await copyOne(b, false); })(),
    ]);
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const m = installManifestCommand(step.model, read.stdout, manifestDigest, tag);
    const installed = await runRemote(rt, m.what, m.line, { stdin: read.stdout, allow: ['failed'] });
    if (installed.failure !== null) throw new CommandError('failed', `installing the manifest of ${step.model} failed: ${installed.result.stderr.trim()}`);
  } finally {
    await runRemote(rt, 'remove the copy key', removeCopyKeyCommand(tag, src), { allow: ['failed'] }).catch(() => undefined);
    await co.exclusive(`keys:${source}`, () => execOn(rt, source, `remove the copy key on ${source}`, revokeCopyKeysCommand(tag))).catch(() => undefined);
  }
  return moved;
}

/** While a blob streams, its partial file's size is the progress (one small exec a second). */
function pollPartial(rt: NodeRuntime, digest: string, report: (bytes: number) => void): { stop(): void } {
  const every = rt.options.copyProgressMs ?? 1000;
  let stopped = false;
  const tick = async (): Promise<void> => {
    while (!stopped) {
      await rt.ctx.clock.sleep(every).catch(() => undefined);
      if (stopped) return;
      try {
        const s = await rt.session();
        const r = await s.exec(partialSizeCommand(digest), { timeoutMs: 10_000 });
        const n = Number(r.stdout.trim());
        if (!stopped && r.code === 0 && Number.isFinite(n)) report(n);
      } catch {
        // Progress is best effort.
      }
    }
  };
  void tick();
  return { stop: () => { stopped = true; } };
}

export async function copyModel(rt: NodeRuntime, step: StepOf<'copy-model'>): Promise<StepOutcome> {
  const co = rt.ctx.transfers;
  if (co === undefined) return pullInstead(rt, step, 'no transfer coordinator in this apply');
  const excluded = new Set<string>();
  const tried: string[] = [];
  let fallbackWhy: string | undefined;
  for (;;) {
    let got;
    try {
      got = await co.acquireSource(step.model, [step.source, ...step.peers], excluded, rt.signal, rt.node);
    } catch {
      throw new CommandError('aborted', `copy of ${step.model} on ${rt.node} was stopped while waiting for a source`);
    }
    if (got === undefined) {
      fallbackWhy = tried.length === 0 ? `no peer of ${[step.source, ...step.peers].join(', ')} has ${step.model}` : `no peer could serve it (${tried.join('; ')})`;
      break;
    }
    const started = rt.ctx.clock.now();
    try {
      const moved = await copyFrom(rt, co, step, got.node, got.digest);
      const listed = await verifyListed(rt, step.model);
      if (got.digest !== '' && listed.digest !== got.digest) {
        throw new CommandError('failed', `${step.model} on ${rt.node} lists digest ${listed.digest.slice(0, 12)} after the copy, not ${got.digest.slice(0, 12)} as on ${got.node}`);
      }
      co.lanBytes += moved;
      co.settle(rt.node, step.model, listed.digest);
      rt.pulledBytes += listed.size;
      const seconds = Math.max(0.001, (rt.ctx.clock.now() - started) / 1000);
      const why = got.node === step.source ? 'the planned source' : `${tried.length > 0 ? tried.join('; ') : `${step.source} was busy or did not have it yet`}`;
      return { status: 'ok', changed: true, detail: `LAN copy from ${got.node} (${why}): ${formatGB(moved)} in ${seconds.toFixed(1)} s, ${listed.digest.slice(0, 12)} verified` };
    } catch (err) {
      if (rt.signal?.aborted) throw new CommandError('aborted', `copy of ${step.model} on ${rt.node} was stopped (a partial blob stays; the next apply resumes it)`);
      if (!(err instanceof SourceProblem)) throw err;
      rt.ctx.log.warn({ node: rt.node, model: step.model, source: got.node, problem: err.kind, error: err.message }, 'LAN copy source failed');
      tried.push(`${got.node}: ${err.message}`);
      excluded.add(got.node);
      if (err.kind === 'digest') {
        fallbackWhy = `the copy from ${got.node} did not match its digest (${err.message})`;
        break;
      }
    } finally {
      got.release();
    }
  }
  return pullInstead(rt, step, fallbackWhy);
}

async function pullInstead(rt: NodeRuntime, step: StepOf<'copy-model'>, why: string): Promise<StepOutcome> {
  if (step.fallback !== 'internet') {
    rt.ctx.transfers?.settle(rt.node, step.model, undefined);
    return {
      status: 'failed', failure: 'failed',
      message: `${step.model} could not be copied to ${rt.node} over the LAN: ${why}. ${rt.node} may not pull from the internet (transfer.internet_nodes): bring a peer that has ${step.model} back, or allow ${rt.node} in fleet.yaml, then run fleet apply again.`,
    };
  }
  const outcome = await pullModel(rt, { kind: 'pull-model', id: step.id, node: step.node, model: step.model, bytes: step.bytes, why: step.why, after: step.after });
  if (outcome.status === 'ok') return { ...outcome, detail: `internet pull instead of a LAN copy (${why}): ${outcome.detail ?? ''}` };
  return outcome;
}

function formatGB(bytes: number): string {
  return bytes >= 1e8 ? `${(bytes / 1e9).toFixed(1)} GB` : bytes >= 1e5 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} B`;
}

