// The HTTP face of one simulated Ollama: routes, request checks, status codes,
// bodies and content types as server/routes.go (gin) produces them.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelFacts } from '../../schema/fleet.ts';
import { answerPrompt, contextTokens, embedText, timings } from './canned-inference.ts';
import { findCatalogEntry, type ModelCatalog } from './catalog.ts';
import { formatGoTime } from './go-format.ts';
import { formatFloat32, goJson } from './go-json.ts';
import type { LoadedModels } from './loaded-models.ts';
import { MEDIA_LICENSE, MEDIA_MODEL, MEDIA_PARAMS, MEDIA_TEMPLATE, planModel } from './model-layers.ts';
import { displayShortest, parseModelName, type ModelName } from './model-name.ts';
import type { ModelStore, StoredModel } from './model-store.ts';
import { PullError, type ProgressLine, type Puller } from './pull.ts';
import { parseKeepAlive, type RuntimeSettings } from './serve-env.ts';

export interface OllamaApiContext {
  version: string;
  store(): ModelStore;
  catalog: ModelCatalog;
  now(): Date;
  loaded: LoadedModels;
  settings(): RuntimeSettings;
  puller: Puller;
  /** The error message every /api/* answers with while the 500 fault is on. */
  fault500(): string | undefined;
  /** Registers a request's abort controller so stopping the server ends it; returns the unregister. */
  track(controller: AbortController): () => void;
}

type Handler = (ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse) => Promise<void>;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: rootHandler, HEAD: rootHandler },
  '/api/version': { GET: versionHandler, HEAD: versionHandler },
  '/api/tags': { GET: tagsHandler, HEAD: tagsHandler },
  '/api/ps': { GET: psHandler },
  '/api/show': { POST: showHandler },
  '/api/pull': { POST: pullHandler },
  '/api/delete': { DELETE: deleteHandler },
  '/api/generate': { POST: generateHandler },
  '/api/embed': { POST: embedHandler },
};

/** Answers one request; never throws (an unexpected failure becomes a 500 like gin's recovery). */
export function handleOllamaRequest(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const methods = ROUTES[path];
  const method = req.method ?? 'GET';
  let run: Promise<void>;
  if (!methods) run = Promise.resolve(sendText(res, 404, '404 page not found'));
  else {
    const handler = methods[method];
    const fault = path.startsWith('/api/') ? ctx.fault500() : undefined;
    if (!handler) run = Promise.resolve(sendText(res, 405, '405 method not allowed'));
    else if (fault !== undefined) run = drain(req).then(() => sendJson(res, 500, { error: fault }));
    else run = handler(ctx, req, res);
  }
  run.catch((err: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    else res.destroy();
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = goJson(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendRawJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
}

async function drain(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

type Body = Record<string, unknown>;

/** ShouldBindJSON: an empty body is "missing request body"; broken JSON gets a Go-like decoder message. */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Body | undefined> {
  const text = await drain(req);
  if (text.trim() === '') {
    sendJson(res, 400, { error: 'missing request body' });
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      sendJson(res, 400, { error: 'json: cannot unmarshal into Go value of type api.Request' });
      return undefined;
    }
    return value as Body;
  } catch {
    const bad = /[^\s]/.exec(text.replace(/^\s*[{[][\s\S]*$/, ''))?.[0];
    sendJson(res, 400, { error: bad ? `invalid character '${bad}' looking for beginning of value` : 'unexpected EOF' });
    return undefined;
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** `model`, or `name` as older clients send. */
function modelField(body: Body): string {
  return str(body.model) || str(body.name);
}

function numOption(body: Body, key: string): number | undefined {
  const options = body.options;
  if (options === null || typeof options !== 'object') return undefined;
  const v = (options as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function rootHandler(_ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendText(res, 200, 'Ollama is running');
  return Promise.resolve();
}

function versionHandler(ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { version: ctx.version });
  return Promise.resolve();
}

function detailsOf(ctx: OllamaApiContext, model: StoredModel): Record<string, unknown> {
  const config = ctx.store().readConfig(model);
  return {
    parent_model: '',
    format: config.model_format ?? '',
    family: config.model_family ?? '',
    families: config.model_families ?? null,
    parameter_size: config.model_type ?? '',
    quantization_level: config.file_type ?? '',
  };
}

/** The digest /api/tags shows: the catalog's pinned one when the stored manifest is what the catalog describes. */
function reportedDigest(ctx: OllamaApiContext, model: StoredModel): string {
  const entry = findCatalogEntry(ctx.catalog, displayShortest(model.name));
  if (entry?.facts.digest) {
    const planned = createHash('sha256').update(planModel(entry.ref, entry.facts).manifest).digest('hex');
    if (planned === model.digest) return entry.facts.digest;
  }
  return model.digest;
}

function tagsHandler(ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const models = ctx.store().list().sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime());
  sendJson(res, 200, {
    models: models.map((m) => {
      const name = displayShortest(m.name);
      return {
        name,
        model: name,
        modified_at: formatGoTime(m.modifiedAt, { nanos: m.modifiedNanos }),
        size: m.size,
        digest: reportedDigest(ctx, m),
        details: detailsOf(ctx, m),
      };
    }),
  });
  return Promise.resolve();
}

function psHandler(ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, {
    models: ctx.loaded.list().map((m) => ({
      name: m.name,
      model: m.name,
      size: m.size,
      digest: m.digest,
      details: m.details,
      // A negative keep-alive is math.MaxInt64 nanoseconds away (about 292 years).
      expires_at: formatGoTime(new Date(m.expiresAt === Number.POSITIVE_INFINITY ? ctx.now().getTime() + 9_223_372_036_854 : m.expiresAt)),
      size_vram: m.sizeVram,
      context_length: m.contextLength,
    })),
  });
  return Promise.resolve();
}

/** Facts for memory and metadata: the catalog's, or a plain 7B llama shape when the catalog lost the model. */
function factsFor(ctx: OllamaApiContext, model: StoredModel): ModelFacts {
  const entry = findCatalogEntry(ctx.catalog, displayShortest(model.name));
  if (entry) return entry.facts;
  const config = ctx.store().readConfig(model);
  return {
    parameters_b: 7, quantization: config.file_type ?? 'Q4_0', size_bytes: model.size, architecture: config.model_family ?? 'llama',
    layers: 32, heads: 32, kv_heads: 8, head_dim: 128, max_context: 4096, kind: 'completion',
  };
}

const FILE_TYPES: Record<string, number> = { F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K_S: 11, Q3_K_M: 12, Q3_K_L: 13, Q4_K_S: 14, Q4_K_M: 15, Q5_K_S: 16, Q5_K_M: 17, Q6_K: 18 };

/** GGUF metadata of /api/show's model_info (Go sorts map keys). */
function modelInfoOf(ref: string, facts: ModelFacts): Record<string, unknown> {
  const arch = facts.architecture;
  const heads = facts.heads ?? facts.kv_heads;
  const info: Record<string, unknown> = {
    'general.architecture': arch,
    'general.basename': ref.split(':')[0] ?? ref,
    'general.parameter_count': Math.round(facts.parameters_b * 1e9),
    'general.quantization_version': 2,
    [`${arch}.attention.head_count`]: heads,
    [`${arch}.attention.head_count_kv`]: facts.kv_heads,
    [`${arch}.block_count`]: facts.layers,
    [`${arch}.context_length`]: facts.max_context,
    [`${arch}.embedding_length`]: heads * facts.head_dim,
    'tokenizer.ggml.model': facts.kind === 'embedding' ? 'bert' : ref.startsWith('llama3') || arch.startsWith('qwen') ? 'gpt2' : 'llama',
  };
  const fileType = FILE_TYPES[facts.quantization.toUpperCase()];
  if (fileType !== undefined) info['general.file_type'] = fileType;
  return Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** api.ShowResponse parameters: one `key  value` line per value, keys padded to 30 as `%-30s %#v`. */
function formatParameters(paramsJson: string): string {
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(paramsJson) as Record<string, unknown>;
  } catch {
    return '';
  }
  const lines: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) lines.push(`${k.padEnd(30)} ${typeof item === 'string' ? JSON.stringify(item) : String(item)}`);
  }
  return lines.join('\n');
}

function modelfileOf(ctx: OllamaApiContext, model: StoredModel, display: string, template: string, paramsJson: string, license: string): string {
  const weights = model.manifest.layers.find((l) => l.mediaType === MEDIA_MODEL);
  let text = `# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM ${display}\n\n`;
  text += `FROM ${weights ? ctx.store().blobPath(weights.digest) : display}\n`;
  if (template) text += `TEMPLATE """${template}"""\n`;
  try {
    for (const [k, v] of Object.entries(JSON.parse(paramsJson || '{}') as Record<string, unknown>)) {
      for (const item of Array.isArray(v) ? v : [v]) text += `PARAMETER ${k} ${String(item)}\n`;
    }
  } catch {
    // No parameters layer.
  }
  if (license) text += `LICENSE """${license}"""\n`;
  return text;
}

async function showHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, res);
  if (!body) return;
  const ref = modelField(body);
  if (ref === '') return sendJson(res, 400, { error: 'model is required' });
  const name = parseModelName(ref);
  if (!name) return sendJson(res, 400, { error: 'invalid model name' });
  const display = displayShortest(name);
  const model = ctx.store().find(name);
  if (!model) return sendJson(res, 404, { error: `model '${display}' not found` });
  const facts = factsFor(ctx, model);
  const store = ctx.store();
  const template = store.readLayerText(model, MEDIA_TEMPLATE);
  const license = store.readLayerText(model, MEDIA_LICENSE);
  const paramsJson = store.readLayerText(model, MEDIA_PARAMS);
  const response: Record<string, unknown> = {};
  if (license) response.license = license;
  response.modelfile = modelfileOf(ctx, model, display, template, paramsJson, license);
  const parameters = formatParameters(paramsJson);
  if (parameters) response.parameters = parameters;
  if (template) response.template = template;
  response.details = detailsOf(ctx, model);
  response.model_info = modelInfoOf(displayShortest(model.name), facts);
  response.capabilities = facts.kind === 'embedding' ? ['embedding'] : ['completion'];
  response.modified_at = formatGoTime(model.modifiedAt, { nanos: model.modifiedNanos });
  sendJson(res, 200, response);
}

async function deleteHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, res);
  if (!body) return;
  const ref = modelField(body);
  if (ref === '') return sendJson(res, 400, { error: 'model is required' });
  const name = parseModelName(ref);
  if (!name) return sendJson(res, 400, { error: `name ${JSON.stringify(ref)} is invalid` });
  const model = ctx.store().find(name);
  if (!model) return sendJson(res, 404, { error: `model '${ref}' not found` });
  ctx.store().remove(model);
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

async function pullHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, res);
  if (!body) return;
  const name = parseModelName(modelField(body));
  if (!name) return sendJson(res, 400, { error: 'invalid model name' });
  const stream = body.stream !== false;
  const controller = new AbortController();
  const untrack = ctx.track(controller);
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  let last: ProgressLine | undefined;
  const emit = (line: ProgressLine): void => {
    last = line;
    if (!stream || controller.signal.aborted) return;
    if (!res.headersSent) startStream(res);
    res.write(`${goJson(line)}\n`);
  };
  try {
    await ctx.puller.pull(name, emit, controller.signal);
    if (stream) res.end();
    else sendJson(res, 200, last ?? { status: 'success' });
  } catch (err) {
    if (controller.signal.aborted) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    const message = err instanceof PullError ? err.message : err instanceof Error ? err.message : String(err);
    if (!stream) sendJson(res, 500, { error: message });
    else if (!res.headersSent) sendJson(res, 500, { error: message });
    else res.end(`${goJson({ error: message })}\n`);
  } finally {
    untrack();
  }
}

interface ResolvedModel {
  model: StoredModel;
  facts: ModelFacts;
  display: string;
}

/** Finds the model of a generate/embed request or answers the error itself. */
function resolveModel(ctx: OllamaApiContext, ref: string, res: ServerResponse): ResolvedModel | undefined {
  const name: ModelName | undefined = parseModelName(ref);
  if (!name) {
    sendJson(res, ref === '' ? 404 : 400, { error: ref === '' ? `model '' not found` : 'invalid model name' });
    return undefined;
  }
  const model = ctx.store().find(name);
  if (!model) {
    sendJson(res, 404, { error: `model '${ref}' not found` });
    return undefined;
  }
  return { model, facts: factsFor(ctx, model), display: displayShortest(model.name) };
}

function loadInto(ctx: OllamaApiContext, r: ResolvedModel, body: Body): { wasLoaded: boolean } {
  const wasLoaded = ctx.loaded.isLoaded(r.display);
  const weights = r.model.manifest.layers.find((l) => l.mediaType === MEDIA_MODEL)?.size ?? r.model.size;
  ctx.loaded.load({
    name: r.display,
    digest: r.model.digest,
    weightsBytes: weights,
    facts: r.facts,
    details: detailsOf(ctx, r.model),
    numCtx: numOption(body, 'num_ctx'),
    keepAliveMs: parseKeepAlive(body.keep_alive),
  }, ctx.settings());
  return { wasLoaded };
}

async function generateHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, res);
  if (!body) return;
  const ref = str(body.model);
  const r = resolveModel(ctx, ref, res);
  if (!r) return;
  const prompt = str(body.prompt);
  const keepAlive = parseKeepAlive(body.keep_alive);
  const base = (): Record<string, unknown> => ({ model: ref, created_at: formatGoTime(ctx.now(), { utc: true }) });
  if (prompt === '' && keepAlive === 0) {
    ctx.loaded.unload(r.display);
    return sendJson(res, 200, { ...base(), response: '', done: true, done_reason: 'unload' });
  }
  if (r.facts.kind === 'embedding') return sendJson(res, 400, { error: `${JSON.stringify(ref)} does not support generate` });
  const { wasLoaded } = loadInto(ctx, r, body);
  if (prompt === '') return sendJson(res, 200, { ...base(), response: '', done: true, done_reason: 'load' });

  const answer = answerPrompt(prompt, numOption(body, 'num_predict'));
  const weights = r.model.manifest.layers.find((l) => l.mediaType === MEDIA_MODEL)?.size ?? r.model.size;
  const t = timings(weights, wasLoaded, answer.promptTokens, answer.tokens.length);
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

async function embedHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, res);
  if (!body) return;
  const ref = modelField(body);
  if (ref === '') return sendJson(res, 400, { error: 'model is required' });
  let inputs: string[];
  if (body.input === undefined || body.input === '') inputs = [];
  else if (typeof body.input === 'string') inputs = [body.input];
  else if (Array.isArray(body.input) && body.input.every((i) => typeof i === 'string')) inputs = body.input;
  else return sendJson(res, 400, { error: 'invalid input type' });
  const r = resolveModel(ctx, ref, res);
  if (!r) return;
  const { wasLoaded } = loadInto(ctx, r, body);
  if (inputs.length === 0) return sendJson(res, 200, { model: ref, embeddings: [] });
  const heads = r.facts.heads ?? r.facts.kv_heads;
  let dims = heads * r.facts.head_dim;
  const wanted = body.dimensions;
  if (typeof wanted === 'number' && wanted > 0 && wanted < dims) dims = Math.floor(wanted);
  const vectors = inputs.map((text) => `[${embedText(r.display, text, dims).map(formatFloat32).join(',')}]`);
  const promptTokens = inputs.reduce((n, text) => n + Math.max(1, text.split(/\s+/).filter(Boolean).length) + 2, 0);
  const weights = r.model.manifest.layers.find((l) => l.mediaType === MEDIA_MODEL)?.size ?? r.model.size;
  const t = timings(weights, wasLoaded, promptTokens, 0);
  sendRawJson(res, 200, `{"model":${goJson(ref)},"embeddings":[${vectors.join(',')}],"total_duration":${t.total},"load_duration":${t.load},"prompt_eval_count":${promptTokens}}`);
}
