// POST /api/create from an existing model (server/create.go CreateHandler,
// createModel; server/model.go parseFromModel). The new manifest reuses the
// source's blobs (each layer marked `from` the source), replaces the
// template, system and messages layers it is given, merges `parameters`
// over the source's into a new params layer, and gets a new config blob.
// Every layer's status is streamed ("using existing layer sha256:...",
// "creating new layer sha256:..."), then "writing manifest", "success".
// A source that is not on the node is pulled first, with the pull's lines.
// Creating from files or blobs (/api/blobs) and remote models are not
// simulated; they answer an error saying so.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OllamaApiContext } from './api-context.ts';
import { goJson, goQuote } from './go-json.ts';
import { readRequest, sendError, ProgressSink } from './http-reply.ts';
import { existingName } from './model-lookup.ts';
import { MEDIA_CONFIG, MEDIA_MESSAGES, MEDIA_MODEL, MEDIA_PARAMS, MEDIA_SYSTEM, MEDIA_TEMPLATE, type ModelConfig } from './model-layers.ts';
import { displayShortest, parseModelName, parseModelRef, type ModelName } from './model-name.ts';
import { templateParseError } from './model-resolve.ts';
import { ManifestScanError, type ManifestLayer, type StoredModel } from './model-store.ts';
import { humanNumber } from './go-format.ts';
import { PullError, type ProgressLine } from './pull.ts';
import type { Body } from './request-body.ts';
import { parameterCount, weightsFacts } from './weights-facts.ts';

/** A failure of the create, with the status it carries (gin.H{"error", "status"}; 500 when absent). */
class CreateError extends Error {
  readonly status: number;

  constructor(message: string, status = 500) {
    super(message);
    this.status = status;
  }
}

interface Layer extends ManifestLayer {
  status: string;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** encoding/json of a map: keys sorted, HTML characters escaped. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${goJson(k)}:${sortedJson(value[k])}`).join(',')}}`;
  return goJson(value);
}

/** manifest.NewLayer: a blob of `content`, and the status line it reports. */
function newLayer(ctx: OllamaApiContext, content: string, mediaType: string): Layer {
  const blob = ctx.store().putContentBlob(Buffer.from(content));
  return { mediaType, digest: blob.digest, size: blob.size, status: `${blob.existed ? 'using existing layer' : 'creating new layer'} ${blob.digest}` };
}

/** removeLayer: drops layers of a media type; their blobs go when no manifest lists them. */
function removeLayers(ctx: OllamaApiContext, layers: Layer[], mediaType: string): Layer[] {
  const dropped = layers.filter((l) => l.mediaType === mediaType).map((l) => l.digest);
  try {
    if (dropped.length > 0) ctx.store().removeUnusedBlobs(dropped);
  } catch (err) {
    // The server only logs "couldn't remove blob" and goes on.
    if (!(err instanceof ManifestScanError)) throw err;
  }
  return layers.filter((l) => l.mediaType !== mediaType);
}

/** parseFromModel: the source's layers, each checked on disk and marked `from` it; pulls a source that is not there. */
async function layersFrom(ctx: OllamaApiContext, from: ModelName, emit: (line: ProgressLine) => void, signal: AbortSignal): Promise<{ stored: StoredModel; layers: Layer[] }> {
  let stored = ctx.store().find(from);
  if (!stored) {
    try {
      await ctx.puller.pull(from, emit, signal);
    } catch (err) {
      throw new CreateError(err instanceof PullError || err instanceof Error ? err.message : String(err));
    }
    stored = ctx.store().find(from);
    if (!stored) throw new CreateError(`open ${ctx.store().dir}/manifests/${from.host}/${from.namespace}/${from.model}/${from.tag}: no such file or directory`);
  }
  const layers: Layer[] = [];
  for (const l of stored.manifest.layers) {
    let size: number;
    try {
      size = ctx.store().reuseBlob(l.digest);
    } catch (err) {
      throw new CreateError(err instanceof ManifestScanError ? err.message : String(err));
    }
    // The weights are decoded as GGUF: a blob that is not one stops the create.
    if (l.mediaType === MEDIA_MODEL && !weightsFacts(ctx.catalog, l.digest, displayShortest(stored.name))) throw new CreateError('invalid file magic');
    layers.push({ mediaType: l.mediaType, digest: l.digest, size, from: displayShortest(from), status: `using existing layer ${l.digest}` });
  }
  return { stored, layers };
}

/** The `info` overrides: capabilities and a few config fields, type-checked as CreateHandler does. */
function applyInfo(config: ModelConfig, info: Record<string, unknown>): void {
  if (Array.isArray(info.capabilities)) config.capabilities = [...(config.capabilities ?? []), ...info.capabilities.map((c) => (typeof c === 'string' ? c : ''))];
  const text = (k: string): string => {
    const v = info[k];
    if (v === undefined) return '';
    if (typeof v !== 'string') throw new CreateError(`info field ${goQuote(k)} must be a string`, 400);
    return v;
  };
  const int = (k: string): number => {
    const v = info[k];
    if (v === undefined) return 0;
    if (typeof v !== 'number') throw new CreateError(`info field ${goQuote(k)} must be a number`, 400);
    if (v < 0 || !Number.isInteger(v)) throw new CreateError(`info field ${goQuote(k)} must be a non-negative integer`, 400);
    return v;
  };
  config.model_family = text('model_family');
  if (config.model_family !== '') config.model_families = [config.model_family];
  config.base_name = text('base_name');
  config.file_type = text('quantization_level');
  config.model_type = text('parameter_size');
  config.context_length = int('context_length');
  config.embedding_length = int('embedding_length');
}

/** model.ConfigV2 as json.Encoder writes it: fixed field order, empty optional fields left out. */
function configJson(c: ModelConfig): string {
  const doc: Record<string, unknown> = {
    model_format: c.model_format ?? '', model_family: c.model_family ?? '', model_families: c.model_families ?? null,
    model_type: c.model_type ?? '', file_type: c.file_type ?? '',
  };
  for (const k of ['renderer', 'parser', 'requires'] as const) if (c[k]) doc[k] = c[k];
  if (c.capabilities && c.capabilities.length > 0) doc.capabilities = c.capabilities;
  if (c.context_length) doc.context_length = c.context_length;
  if (c.embedding_length) doc.embedding_length = c.embedding_length;
  if (c.base_name) doc.base_name = c.base_name;
  doc.architecture = 'amd64';
  doc.os = 'linux';
  return `${goJson(doc)}\n`;
}

async function runCreate(ctx: OllamaApiContext, body: Body, name: ModelName, emit: (line: ProgressLine) => void, signal: AbortSignal): Promise<void> {
  const store = ctx.store();
  const old = store.find(name);
  const from = str(body.from);
  if (from === '') {
    if (body.files !== undefined && body.files !== null) throw new CreateError('the simulated Ollama creates models only from an existing model (`from`), not from files');
    throw new CreateError("neither 'from' or 'files' was specified", 400);
  }
  const fromRef = parseModelRef(from);
  const fromName = fromRef.ok ? parseModelName(fromRef.ref.base) : undefined;
  if (!fromRef.ok || !fromName) throw new CreateError('invalid model name', 400);
  if (fromRef.ref.source === 'cloud' || str(body.remote_host) !== '') throw new CreateError('the simulated Ollama has no cloud: remote models cannot be created', 400);
  const source = await layersFrom(ctx, fromName, emit, signal);

  const config: ModelConfig = {};
  for (const k of ['renderer', 'parser', 'requires'] as const) if (str(body[k]) !== '') config[k] = str(body[k]);
  const base = JSON.parse(store.blobSize(source.stored.manifest.config.digest) !== undefined ? readFileSync(store.blobPath(source.stored.manifest.config.digest), 'utf8') : '{}') as ModelConfig;
  config.renderer ||= base.renderer;
  config.parser ||= base.parser;
  config.requires ||= base.requires;
  config.model_format ||= base.model_format;
  if (!config.capabilities || config.capabilities.length === 0) config.capabilities = base.capabilities;
  if (isObject(body.info)) applyInfo(config, body.info);

  let layers = source.layers;
  const weights = layers.find((l) => l.mediaType === MEDIA_MODEL);
  const facts = weights ? weightsFacts(ctx.catalog, weights.digest, displayShortest(source.stored.name)) : undefined;
  const quantize = (str(body.quantize) || str(body.quantization)).toUpperCase();
  if (facts) {
    if (quantize !== '' && !['F16', 'BF16', 'F32'].includes(facts.facts.quantization.toUpperCase())) throw new CreateError('quantization is only supported for F16, BF16 and F32 models');
    if (quantize !== '' && quantize !== facts.facts.quantization.toUpperCase()) throw new CreateError('the simulated Ollama does not quantize models');
    // What the weights' GGUF header says fills what the request and the source did not.
    config.model_format ||= 'gguf';
    config.model_family ||= facts.facts.architecture;
    config.model_type ||= humanNumber(parameterCount(facts.ref, facts.facts));
    config.file_type ||= facts.facts.quantization;
    config.model_families = [...(config.model_families ?? []), facts.facts.architecture];
  }

  const template = str(body.template);
  if (template !== '') {
    layers = removeLayers(ctx, layers, MEDIA_TEMPLATE);
    const bad = templateParseError(template);
    if (bad !== undefined) throw new CreateError(`template error: ${bad}`, 400);
    layers.push(newLayer(ctx, template, MEDIA_TEMPLATE));
  }
  const system = str(body.system);
  if (system !== '') {
    layers = removeLayers(ctx, layers, MEDIA_SYSTEM);
    layers.push(newLayer(ctx, system, MEDIA_SYSTEM));
  }
  const license = body.license;
  for (const text of typeof license === 'string' ? [license] : Array.isArray(license) ? license : []) {
    if (typeof text !== 'string') throw new CreateError('json: cannot unmarshal number into Go value of type string');
    if (text !== '') layers.push(newLayer(ctx, text, 'application/vnd.ollama.image.license'));
  }
  // setParameters: the request's values over the source's; a new params layer whenever there are any.
  const params: Record<string, unknown> = isObject(body.parameters) ? { ...body.parameters } : {};
  for (const l of layers.filter((x) => x.mediaType === MEDIA_PARAMS)) {
    const existing = JSON.parse(readFileSync(store.blobPath(l.digest), 'utf8')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(existing)) if (!(k in params)) params[k] = v;
  }
  if (Object.keys(params).length > 0) {
    layers = removeLayers(ctx, layers, MEDIA_PARAMS);
    layers.push(newLayer(ctx, `${sortedJson(params)}\n`, MEDIA_PARAMS));
  }
  if (Array.isArray(body.messages) && body.messages.length > 0) {
    layers = removeLayers(ctx, layers, MEDIA_MESSAGES);
    const messages = (body.messages as Array<Record<string, unknown> | null>).map((m) => ({ role: str(m?.role).toLowerCase(), content: str(m?.content) }));
    layers.push(newLayer(ctx, `${goJson(messages)}\n`, MEDIA_MESSAGES));
  }
  const configLayer = newLayer(ctx, configJson(config), MEDIA_CONFIG);
  for (const l of layers) emit({ status: l.status });
  emit({ status: 'writing manifest' });
  const strip = ({ status: _status, ...l }: Layer): ManifestLayer => l;
  store.writeManifestDoc(name, strip(configLayer), layers.map(strip), ctx.now());
  if (old && ctx.settings().prune) {
    try {
      store.removeUnusedBlobs([...old.manifest.layers.map((l) => l.digest), old.manifest.config.digest]);
    } catch (err) {
      throw err instanceof ManifestScanError ? new CreateError(err.message) : err;
    }
  }
  emit({ status: 'success' });
}

export async function createHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('create', req, res);
  if (!body) return;
  for (const field of ['files', 'adapters'] as const) {
    const files = body[field];
    if (!isObject(files)) continue;
    for (const [path, digest] of Object.entries(files)) {
      if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '')) return sendError(res, 400, 'file path must be relative');
      if (digest === '') return sendError(res, 400, 'invalid digest format');
    }
  }
  const asked = parseModelName(str(body.model) || str(body.name));
  if (!asked) return sendError(res, 400, 'invalid model name');
  const existing = existingName(ctx, asked);
  if (!existing.ok) return sendError(res, 400, existing.message);
  const sink = new ProgressSink<ProgressLine>(res, body.stream !== false);
  const controller = new AbortController();
  const untrack = ctx.track(controller);
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  try {
    await runCreate(ctx, body, existing.name, (line) => sink.emit(line), controller.signal);
    sink.finish();
  } catch (err) {
    if (controller.signal.aborted) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (err instanceof CreateError) sink.fail(err.message, err.status);
    else throw err;
  } finally {
    untrack();
  }
}
