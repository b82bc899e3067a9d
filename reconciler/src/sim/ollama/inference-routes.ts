// The inference routes: /api/generate, /api/chat, /api/embed and the older
// /api/embeddings. Each follows its handler in server/routes.go: the order
// of the checks, which name the error quotes (as sent, `'x'` or `%q`), the
// capability check (generate and chat need completion; the embedding routes
// check none), the scheduler's load (a missing weights blob is "not found,
// try pulling it first"), and the empty request that only loads the model.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OllamaApiContext } from './api-context.ts';
import { answerPrompt, contextTokens, embedText, timings } from './canned-inference.ts';
import { formatGoTime } from './go-format.ts';
import { formatFloat32, goJson, goQuote } from './go-json.ts';
import { readRequest, sendError, sendJson, sendRawJson, startStream } from './http-reply.ts';
import { existingName, getModel } from './model-lookup.ts';
import { displayShortest, fullName, parseModelName, parseModelRef, type ModelName } from './model-name.ts';
import type { ResolvedModel } from './model-resolve.ts';
import { CLOUD_DISABLED } from './model-routes.ts';
import { detailsOf } from './model-summaries.ts';
import type { Body } from './request-body.ts';
import { parseKeepAlive } from './serve-env.ts';
import { embeddingLength } from './weights-facts.ts';

type Failure = { status: number; message: string };
type Found = { ok: true; model: ResolvedModel; name: ModelName; display: string } | ({ ok: false } & Failure);

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function numOption(body: Body, key: string): number | undefined {
  const options = body.options;
  if (options === null || typeof options !== 'object') return undefined;
  const v = (options as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** handleScheduleError for a lookup or load that found nothing: `%q`, and a hint. */
function notPulled(raw: string): Failure {
  return { status: 404, message: `model ${goQuote(raw)} not found, try pulling it first` };
}

interface FindRules {
  /** Status and message when the reference is empty or blank. */
  required: Failure;
  /** What getExistingName failing becomes. */
  existingFailed: Failure;
  /** What a model that is not there becomes. */
  missing: Failure;
  /** The route skips getExistingName (the older embeddings route does). */
  exactName?: boolean;
}

/** parseAndValidateModelRef with the route's answer for an empty reference. */
function parseRequested(raw: string, required: Failure): { ok: true; name: ModelName } | ({ ok: false } & Failure) {
  const parsed = parseModelRef(raw);
  if (!parsed.ok) return parsed.reason === 'conflict' ? { ok: false, status: 400, message: parsed.message } : { ok: false, ...required };
  const asked = parseModelName(parsed.ref.base);
  if (!asked) return { ok: false, status: 400, message: 'invalid model name' };
  if (parsed.ref.source === 'cloud') return { ok: false, status: 403, message: `${CLOUD_DISABLED}: remote model is unavailable` };
  return { ok: true, name: asked };
}

/** getExistingName (unless the route skips it) and s.getModel, with the route's answers. */
function lookupModel(ctx: OllamaApiContext, asked: ModelName, rules: FindRules): Found {
  let name = asked;
  if (!rules.exactName) {
    const existing = existingName(ctx, asked);
    if (!existing.ok) return { ok: false, ...rules.existingFailed };
    name = existing.name;
  }
  const got = getModel(ctx, name);
  if (!got.ok) return got.notExist ? { ok: false, ...rules.missing } : { ok: false, status: 500, message: got.message };
  return { ok: true, model: got.model, name, display: displayShortest(got.model.stored.name) };
}

function findModel(ctx: OllamaApiContext, raw: string, rules: FindRules): Found {
  const parsed = parseRequested(raw, rules.required);
  return parsed.ok ? lookupModel(ctx, parsed.name, rules) : parsed;
}

/** Capabilities the request needs that the model lacks (CheckCapabilities). */
function missingCapabilities(m: ResolvedModel, wanted: readonly string[]): string[] {
  return wanted.filter((c) => !m.capabilities.includes(c));
}

/** The scheduler's load: a runner already up is reused; otherwise the weights are opened and decoded. */
function loadRunner(ctx: OllamaApiContext, f: Extract<Found, { ok: true }>, body: Body, raw: string): { ok: true; wasLoaded: boolean } | ({ ok: false } & Failure) {
  const m = f.model;
  const wasLoaded = ctx.loaded.isLoaded(f.display);
  if (!m.weightsPresent && !wasLoaded) return { ok: false, ...notPulled(raw) };
  if (!m.facts) {
    if (wasLoaded) return { ok: true, wasLoaded };
    return { ok: false, status: 500, message: 'invalid file magic' };
  }
  const weights = m.stored.manifest.layers.find((l) => l.digest === m.weightsDigest)?.size ?? m.stored.size;
  ctx.loaded.load({
    name: f.display,
    digest: m.stored.digest,
    weightsBytes: weights,
    facts: m.facts,
    details: detailsOf(m.config, m.parentModel),
    numCtx: numOption(body, 'num_ctx'),
    keepAliveMs: parseKeepAlive(body.keep_alive),
  }, ctx.settings());
  return { ok: true, wasLoaded };
}

function weightsBytes(m: ResolvedModel): number {
  return m.stored.manifest.layers.find((l) => l.digest === m.weightsDigest)?.size ?? m.stored.size;
}

/** `keep_alive` present and zero: the request only unloads. */
function unloads(body: Body): boolean {
  return body.keep_alive !== undefined && body.keep_alive !== null && parseKeepAlive(body.keep_alive) === 0;
}

/** The checks generate and chat share after the lookup: thinking, capabilities, load. */
function prepareRunner(ctx: OllamaApiContext, f: Extract<Found, { ok: true }>, body: Body, raw: string, wanted: string[], verb: string): { ok: true; wasLoaded: boolean } | ({ ok: false } & Failure) {
  const think = body.think;
  if (!f.model.capabilities.includes('thinking') && (think === true || typeof think === 'string')) {
    return { ok: false, status: 400, message: `${goQuote(raw)} does not support thinking` };
  }
  const missing = missingCapabilities(f.model, wanted);
  if (missing.includes('completion')) return { ok: false, status: 400, message: `${goQuote(raw)} does not support ${verb}` };
  if (missing.length > 0) return { ok: false, status: 400, message: `${fullName(f.name)} does not support ${missing.join('\n')}` };
  return loadRunner(ctx, f, body, raw);
}

function checkTopLogprobs(body: Body, res: ServerResponse): boolean {
  const n = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
  if (n >= 0 && n <= 20) return true;
  sendError(res, 400, 'top_logprobs must be between 0 and 20');
  return false;
}

export async function generateHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('generate', req, res);
  if (!body || !checkTopLogprobs(body, res)) return;
  const raw = str(body.model);
  const notFound: Failure = { status: 404, message: `model '${raw}' not found` };
  const f = findModel(ctx, raw, { required: notFound, existingFailed: notFound, missing: notFound });
  if (!f.ok) return sendError(res, f.status, f.message);
  const prompt = str(body.prompt);
  const base = (): Record<string, unknown> => ({ model: raw, created_at: formatGoTime(ctx.now(), { utc: true }) });
  if (prompt === '' && unloads(body)) {
    ctx.loaded.unload(f.display);
    return sendJson(res, 200, { ...base(), response: '', done: true, done_reason: 'unload' });
  }
  const wanted = ['completion', ...(str(body.suffix) !== '' ? ['insert'] : [])];
  const run = prepareRunner(ctx, f, body, raw, wanted, 'generate');
  if (!run.ok) return sendError(res, run.status, run.message);
  if (prompt === '') return sendJson(res, 200, { ...base(), response: '', done: true, done_reason: 'load' });

  const answer = answerPrompt(prompt, numOption(body, 'num_predict'));
  const t = timings(weightsBytes(f.model), run.wasLoaded, answer.promptTokens, answer.tokens.length);
  const final = (response: string): Record<string, unknown> => ({
    ...base(),
    response,
    done: true,
    done_reason: answer.doneReason,
    context: contextTokens(prompt + answer.tokens.join('')),
    total_duration: t.total,
    load_duration: t.load,
    prompt_eval_count: answer.promptTokens,
    prompt_eval_duration: t.promptEval,
    eval_count: answer.tokens.length,
    eval_duration: t.evalDuration,
  });
  if (body.stream === false) return sendJson(res, 200, final(answer.tokens.join('')));
  startStream(res);
  for (const token of answer.tokens) res.write(`${goJson({ ...base(), response: token, done: false })}\n`);
  res.end(`${goJson(final(''))}\n`);
}

interface Message {
  role: string;
  content: string;
}

/** api.Message as decoded: the role lower-cased by its UnmarshalJSON. */
function messagesOf(body: Body): Message[] {
  const list = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  return list.map((m) => {
    const o = (m ?? {}) as Record<string, unknown>;
    return { role: str(o.role).toLowerCase(), content: str(o.content) };
  });
}

export async function chatHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('chat', req, res);
  if (!body || !checkTopLogprobs(body, res)) return;
  const raw = str(body.model);
  const required: Failure = { status: 400, message: 'model is required' };
  const f = findModel(ctx, raw, { required, existingFailed: required, missing: { status: 404, message: `model '${raw}' not found` } });
  if (!f.ok) return sendError(res, f.status, f.message);
  const messages = messagesOf(body);
  const base = (): Record<string, unknown> => ({ model: raw, created_at: formatGoTime(ctx.now(), { utc: true }) });
  const assistant = (content: string): Record<string, unknown> => ({ role: 'assistant', content });
  if (messages.length === 0 && unloads(body)) {
    ctx.loaded.unload(f.display);
    return sendJson(res, 200, { ...base(), message: assistant(''), done: true, done_reason: 'unload' });
  }
  const tools = Array.isArray(body.tools) && body.tools.length > 0;
  const run = prepareRunner(ctx, f, body, raw, ['completion', ...(tools ? ['tools'] : [])], 'chat');
  if (!run.ok) return sendError(res, run.status, run.message);
  if (messages.length === 0) return sendJson(res, 200, { ...base(), message: assistant(''), done: true, done_reason: 'load' });

  // The model's own messages and system prompt come first, as the template renders them.
  const all = [...f.model.messages, ...messages];
  if (messages[0]?.role !== 'system' && f.model.system !== '') all.unshift({ role: 'system', content: f.model.system });
  const answer = answerPrompt(all.map((m) => m.content).join('\n'), numOption(body, 'num_predict'));
  const t = timings(weightsBytes(f.model), run.wasLoaded, answer.promptTokens, answer.tokens.length);
  const final = (content: string): Record<string, unknown> => ({
    ...base(),
    message: assistant(content),
    done: true,
    done_reason: answer.doneReason,
    total_duration: t.total,
    load_duration: t.load,
    prompt_eval_count: answer.promptTokens,
    prompt_eval_duration: t.promptEval,
    eval_count: answer.tokens.length,
    eval_duration: t.evalDuration,
  });
  if (body.stream === false) return sendJson(res, 200, final(answer.tokens.join('')));
  startStream(res);
  for (const token of answer.tokens) res.write(`${goJson({ ...base(), message: assistant(token), done: false })}\n`);
  res.end(`${goJson(final(''))}\n`);
}

export async function embedHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('embed', req, res);
  if (!body) return;
  const raw = str(body.model);
  const notFound: Failure = { status: 404, message: `model '${raw}' not found` };
  const parsed = parseRequested(raw, notFound);
  if (!parsed.ok) return sendError(res, parsed.status, parsed.message);
  const input = body.input;
  let inputs: string[] = [];
  if (typeof input === 'string') inputs = input === '' ? [] : [input];
  else if (Array.isArray(input) && input.every((i) => typeof i === 'string')) inputs = input;
  else if (input !== undefined && input !== null) return sendError(res, 400, 'invalid input type');
  const f = lookupModel(ctx, parsed.name, { required: notFound, existingFailed: notFound, missing: notPulled(raw) });
  if (!f.ok) return sendError(res, f.status, f.message);
  const run = loadRunner(ctx, f, body, raw);
  if (!run.ok) return sendError(res, run.status, run.message);
  if (inputs.length === 0) return sendJson(res, 200, { model: raw, embeddings: [] });
  const facts = f.model.facts;
  let dims = facts ? embeddingLength(facts) : 0;
  const wanted = body.dimensions;
  if (typeof wanted === 'number' && wanted > 0 && wanted < dims) dims = Math.floor(wanted);
  const vectors = inputs.map((text) => `[${embedText(f.display, text, dims).map(formatFloat32).join(',')}]`);
  const promptTokens = inputs.reduce((n, text) => n + Math.max(1, text.split(/\s+/).filter(Boolean).length) + 2, 0);
  const t = timings(weightsBytes(f.model), run.wasLoaded, promptTokens, 0);
  sendRawJson(res, 200, `{"model":${goJson(raw)},"embeddings":[${vectors.join(',')}],"total_duration":${t.total},"load_duration":${t.load},"prompt_eval_count":${promptTokens}}`);
}

/**
 * The older route answers the runner's vector as it comes, without the
 * normalising /api/embed does: same direction, its own length.
 */
function rawEmbedding(display: string, text: string, dims: number): number[] {
  const scale = 4 + createHash('sha256').update(`${display}\u0000${text}`).digest().readUInt8(0) / 16;
  return embedText(display, text, dims).map((v) => Math.fround(v * scale));
}

export async function embeddingsHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('embeddings', req, res);
  if (!body) return;
  const raw = str(body.model);
  const f = findModel(ctx, raw, {
    required: { status: 400, message: 'model is required' },
    existingFailed: notPulled(raw),
    missing: notPulled(raw),
    exactName: true,
  });
  if (!f.ok) return sendError(res, f.status, f.message);
  const run = loadRunner(ctx, f, body, raw);
  if (!run.ok) return sendError(res, run.status, run.message);
  const prompt = str(body.prompt);
  if (prompt === '' || !f.model.facts) return sendJson(res, 200, { embedding: [] });
  // []float64 of float32 values: each printed as the float64 it widens to.
  const vector = rawEmbedding(f.display, prompt, embeddingLength(f.model.facts));
  sendRawJson(res, 200, `{"embedding":[${vector.map((v) => String(v)).join(',')}]}`);
}
