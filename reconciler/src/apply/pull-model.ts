// A pull-model step, through the node's Ollama API with the official client: a disk
// check first, streamed progress, and /api/tags afterwards to prove the model
// is there with its digest. An interrupted pull leaves `-partial` blobs that
// Ollama resumes, so a retry (or the next apply) is simply another pull.
import type { StepOf } from '../model/steps.ts';
import { normalizeModelRef } from '../model/desired.ts';
import { CommandError, toCommandError } from './command-error.ts';
import type { OllamaLike, StepOutcome } from './context.ts';
import { runRemote, type NodeRuntime } from './node-runtime.ts';
import { diskFreeCommand } from './step-commands.ts';
import { parseDfPk } from '../observe/parse-system.ts';
import { createRateMeter, type RateMeter } from './progress.ts';

const GB = 1e9;

function formatGB(bytes: number): string {
  return bytes >= 0.1 * GB || bytes === 0 ? `${(bytes / GB).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

function clientFor(rt: NodeRuntime): { client: OllamaLike; url: string } {
  const url = rt.ctx.ollamaUrl(rt.node);
  if (!url) throw new CommandError('failed', `no Ollama address for ${rt.node}: give it an address in fleet/nodes/${rt.node}.yaml or an ollama_url in --targets`);
  return { client: rt.ctx.createOllama(url), url };
}

/** Free bytes on the volume holding ~/.ollama: asked now over SSH, else what observe saw minus what this apply pulled. */
async function availableBytes(rt: NodeRuntime): Promise<number | null> {
  try {
    const { result, failure } = await runRemote(rt, 'df -Pk "$HOME"', diskFreeCommand(), { allow: ['failed'] });
    if (failure === null) {
      const live = parseDfPk(result.stdout)?.available_bytes ?? null;
      if (live !== null) return live;
    }
  } catch (err) {
    const e = toCommandError('df', err);
    if (e.kind === 'aborted') throw e;
    // The SSH side is optional for a pull; fall back to the observation.
  }
  const seen = rt.facts?.disk.available_bytes;
  return typeof seen === 'number' ? Math.max(0, seen - rt.pulledBytes) : null;
}

/** A freshly (re)started Ollama takes a moment to listen. */
async function waitForOllama(rt: NodeRuntime, client: OllamaLike, url: string): Promise<void> {
  const deadline = rt.ctx.clock.now() + (rt.options.ollamaReadyTimeoutMs ?? 30_000);
  let delay = 250;
  for (;;) {
    try {
      await client.version();
      return;
    } catch (err) {
      const e = toCommandError(`GET ${url}/api/version`, err);
      if (e.kind !== 'http-transient' || rt.ctx.clock.now() + delay > deadline) throw e;
      await rt.ctx.clock.sleep(delay, rt.signal);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

function sameModel(a: string, b: string): boolean {
  return normalizeModelRef(a) === normalizeModelRef(b);
}

/** /api/tags on the node lists the model: its digest and size (the proof a pull or copy worked). */
export async function verifyListed(rt: NodeRuntime, model: string): Promise<{ name: string; digest: string; size: number }> {
  const { client, url } = clientFor(rt);
  let listed: { name: string; digest: string; size: number } | undefined;
  try {
    const tags = await client.list();
    listed = tags.models.find((m) => sameModel(m.name, model) || (m.model !== undefined && sameModel(m.model, model)));
  } catch (err) {
    throw toCommandError(`GET ${url}/api/tags after adding ${model}`, err);
  }
  if (!listed || !listed.digest) {
    throw new CommandError('http-transient', `${model} was added on ${rt.node} but /api/tags does not list it`);
  }
  return listed;
}

export async function pullModel(rt: NodeRuntime, step: StepOf<'pull-model'>): Promise<StepOutcome> {
  const { client, url } = clientFor(rt);
  const margin = rt.options.diskMarginBytes;
  const free = await availableBytes(rt);
  if (free !== null && free < step.bytes + margin) {
    return {
      status: 'failed',
      failure: 'disk-space',
      message: `not pulling ${step.model} on ${rt.node}: it needs ${formatGB(step.bytes)} plus the ${formatGB(margin)} margin, and only ${formatGB(free)} is free. Free disk space on ${rt.node} (or remove models with --prune), then run fleet apply again.`,
    };
  }
  await waitForOllama(rt, client, url);
  const co = rt.ctx.transfers;
  let release: (() => void) | undefined;
  try {
    release = await co?.acquireInternet(rt.signal, step.bytes);
  } catch {
    throw new CommandError('aborted', `pull of ${step.model} on ${rt.node} was stopped while waiting for an internet slot`);
  }
  // Totals per layer digest: the stream reports one layer at a time; kept across paused and resumed streams.
  const layers = new Map<string, { completed: number; total: number }>();
  const meter = createRateMeter(() => rt.ctx.clock.now());
  const deadline = rt.ctx.clock.now() + rt.options.pullTimeoutMs;
  let paused = 0;
  try {
    for (;;) {
      const pause = await pullStream(rt, client, step, layers, meter, deadline);
      if (pause === 0) break;
      // Over the fleet's rate cap: Ollama has no rate limit, so the pull stops and resumes from its partial files.
      paused += pause;
      release?.();
      release = undefined;
      await rt.ctx.clock.sleep(pause, rt.signal).catch(() => {
        throw new CommandError('aborted', `pull of ${step.model} on ${rt.node} was stopped (partial data stays on the node; the next apply resumes it)`);
      });
      release = await co?.acquireInternet(rt.signal, step.bytes);
    }
  } finally {
    release?.();
  }
  const listed = await verifyListed(rt, step.model);
  co?.settle(rt.node, step.model, listed.digest);
  rt.pulledBytes += listed.size;
  const capped = paused > 0 ? `; paused ${(paused / 1000).toFixed(1)} s to stay under the internet cap` : '';
  return { status: 'ok', changed: true, detail: `internet pull: ${step.model} ${listed.digest.slice(0, 12)} (${formatGB(listed.size)})${capped}` };
}

/** One pull stream; returns 0 when the pull finished, or how long to pause (ms) before resuming it. */
async function pullStream(
  rt: NodeRuntime, client: OllamaLike, step: StepOf<'pull-model'>, layers: Map<string, { completed: number; total: number }>,
  meter: RateMeter, deadline: number,
): Promise<number> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), Math.max(1, deadline - rt.ctx.clock.now()));
  const onAbort = (): void => timeout.abort();
  rt.signal?.addEventListener('abort', onAbort, { once: true });
  let stream: Awaited<ReturnType<OllamaLike['pull']>> | undefined;
  let lastStatus = 'starting';
  let pause = 0;
  try {
    stream = await client.pull({ model: step.model, stream: true });
    const s = stream;
    timeout.signal.addEventListener('abort', () => s.abort(), { once: true });
    if (timeout.signal.aborted) s.abort();
    for await (const p of s) {
      lastStatus = p.status;
      if (p.digest && typeof p.total === 'number') {
        const before = layers.get(p.digest)?.completed ?? 0;
        const now = p.completed ?? 0;
        layers.set(p.digest, { completed: now, total: p.total });
        if (now > before) pause = rt.ctx.transfers?.tookInternet(now - before) ?? 0;
      }
      let completed = 0;
      let total = 0;
      for (const l of layers.values()) {
        completed += l.completed;
        total += l.total;
      }
      total = Math.max(total, step.bytes);
      rt.ctx.progress.pullProgress({ node: rt.node, model: step.model, status: p.status, completed, total, source: 'internet', ...meter.sample(completed, total) });
      if (pause > 0) {
        s.abort();
        return pause;
      }
    }
  } catch (err) {
    if (pause > 0) return pause;
    if (rt.signal?.aborted) throw new CommandError('aborted', `pull of ${step.model} on ${rt.node} was stopped (partial data stays on the node; the next apply resumes it)`);
    if (timeout.signal.aborted) {
      throw new CommandError('failed', `pull of ${step.model} on ${rt.node} did not finish within ${Math.round(rt.options.pullTimeoutMs / 1000)} s (last: ${lastStatus}); the next apply resumes it`);
    }
    const e = toCommandError(`pull of ${step.model} on ${rt.node}`, err);
    // An error inside the stream (network loss at the node, a registry hiccup) is worth another pull, which resumes;
    // an unknown model is not.
    if (e.kind === 'failed' && !/file does not exist|not found|invalid|unauthorized|manifest unknown/i.test(e.message)) {
      throw new CommandError('http-transient', e.message, { cause: err });
    }
    throw e;
  } finally {
    clearTimeout(timer);
    rt.signal?.removeEventListener('abort', onAbort);
  }
  return 0;
}

export async function removeModel(rt: NodeRuntime, step: StepOf<'remove-model'>): Promise<StepOutcome> {
  const { client, url } = clientFor(rt);
  try {
    await client.delete({ model: step.model });
  } catch (err) {
    const e = toCommandError(`DELETE ${url}/api/delete ${step.model}`, err);
    if (e.kind === 'http' && /\b404\b|not found/i.test(e.message)) return { status: 'ok', changed: false, detail: `${step.model} was not on ${rt.node}` };
    throw e;
  }
  return { status: 'ok', changed: true, detail: `removed ${step.model} (${formatGB(step.bytes)})` };
}
