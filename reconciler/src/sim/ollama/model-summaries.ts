// What /api/tags and /api/show say about a stored model.
//   list entry  model_list_cache.go buildModelListSummary: details from the
//               config blob, capabilities and context/embedding lengths from
//               the weights' GGUF header and the template. Fails (the model
//               is left out of the list) when the config or template blob
//               is missing; missing weights only lose the GGUF part.
//   show        routes.go GetModelInfo: GetModel, then the GGUF metadata of
//               the weights as model_info (arrays left null unless verbose).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ModelFacts } from '../../schema/fleet.ts';
import type { ListSummary, OllamaApiContext, ShowResult } from './api-context.ts';
import { findCatalogEntry } from './catalog.ts';
import { formatGoTime } from './go-format.ts';
import { MEDIA_MODEL, MEDIA_PROMPT, MEDIA_TEMPLATE, planModel, type ModelConfig } from './model-layers.ts';
import { displayShortest, type ModelName } from './model-name.ts';
import { DEFAULT_TEMPLATE, templateParseError, templateVars, type ResolvedModel } from './model-resolve.ts';
import type { StoredModel } from './model-store.ts';
import { embeddingLength, parameterCount, weightsFacts } from './weights-facts.ts';

/** api.ModelDetails from a config blob. */
export function detailsOf(config: ModelConfig, parentModel: string): Record<string, unknown> {
  return {
    parent_model: parentModel,
    format: config.model_format ?? '',
    family: config.model_family ?? '',
    families: config.model_families && config.model_families.length > 0 ? config.model_families : null,
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

function readBlobText(ctx: OllamaApiContext, digest: string): string | undefined {
  try {
    return readFileSync(ctx.store().blobPath(digest), 'utf8');
  } catch {
    return undefined;
  }
}

const unknownQuantization = (q: string | undefined): boolean => q === undefined || q === '' || q === 'unknown';

/** buildModelListSummary; undefined when the model cannot be listed. */
export function buildListSummary(ctx: OllamaApiContext, stored: StoredModel): ListSummary | undefined {
  let config: ModelConfig = {};
  if (stored.manifest.config.digest !== '') {
    const text = readBlobText(ctx, stored.manifest.config.digest);
    if (text === undefined) return undefined;
    try {
      config = JSON.parse(text) as ModelConfig;
    } catch {
      return undefined;
    }
  }
  let parentModel = '';
  let weights: string | undefined;
  let template = DEFAULT_TEMPLATE;
  for (const layer of stored.manifest.layers) {
    if (layer.mediaType === MEDIA_MODEL) {
      weights = layer.digest;
      parentModel = layer.from ?? '';
    } else if (layer.mediaType === MEDIA_TEMPLATE || layer.mediaType === MEDIA_PROMPT) {
      const text = readBlobText(ctx, layer.digest);
      if (text === undefined || templateParseError(text) !== undefined) return undefined;
      template = text;
    }
  }
  const details = detailsOf(config, parentModel);
  const capabilities: string[] = [];
  const add = (c: string): void => {
    if (!capabilities.includes(c)) capabilities.push(c);
  };
  // The GGUF header is read only when the weights blob is there; a failure is only logged.
  const facts = weights !== undefined && ctx.store().blobSize(weights) !== undefined ? weightsFacts(ctx.catalog, weights, displayShortest(stored.name))?.facts : undefined;
  if (config.context_length) details.context_length = config.context_length;
  if (config.embedding_length) details.embedding_length = config.embedding_length;
  if (facts) {
    add(facts.kind === 'embedding' ? 'embedding' : 'completion');
    details.context_length ??= facts.max_context;
    details.embedding_length ??= embeddingLength(facts);
    if (unknownQuantization(config.file_type)) details.quantization_level = facts.quantization;
  }
  for (const c of config.capabilities ?? []) add(c);
  const vars = templateVars(template);
  if (vars.includes('tools')) add('tools');
  if (vars.includes('suffix')) add('insert');
  const name = displayShortest(stored.name);
  const summary: ListSummary = {
    name,
    model: name,
    modified_at: formatGoTime(stored.modifiedAt, { nanos: stored.modifiedNanos }),
    size: stored.size,
    digest: reportedDigest(ctx, stored),
    details,
  };
  if (capabilities.length > 0) summary.capabilities = capabilities;
  return summary;
}

const FILE_TYPES: Record<string, number> = { F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K_S: 11, Q3_K_M: 12, Q3_K_L: 13, Q4_K_S: 14, Q4_K_M: 15, Q5_K_S: 16, Q5_K_M: 17, Q6_K: 18 };

/**
 * GGUF metadata of /api/show's model_info, keyed by architecture (Go sorts map keys).
 * `<arch>.attention.key_length` and `value_length` are there only when the
 * head size is not embedding_length / head_count, as converted GGUFs have them.
 */
export function modelInfoOf(ref: string, facts: ModelFacts): Record<string, unknown> {
  const arch = facts.architecture;
  const heads = facts.heads ?? facts.kv_heads;
  const embedding = embeddingLength(facts);
  const info: Record<string, unknown> = {
    'general.architecture': arch,
    'general.basename': ref.split(':')[0] ?? ref,
    'general.parameter_count': parameterCount(ref, facts),
    'general.quantization_version': 2,
    [`${arch}.attention.head_count`]: heads,
    [`${arch}.attention.head_count_kv`]: facts.kv_heads,
    [`${arch}.block_count`]: facts.layers,
    [`${arch}.context_length`]: facts.max_context,
    [`${arch}.embedding_length`]: embedding,
    'tokenizer.ggml.model': facts.kind === 'embedding' ? 'bert' : ref.startsWith('llama3') || arch.startsWith('qwen') ? 'gpt2' : 'llama',
    // Arrays are not read without `verbose`: they marshal as null.
    'tokenizer.ggml.tokens': null,
    'tokenizer.ggml.token_type': null,
  };
  if (embedding !== heads * facts.head_dim) {
    info[`${arch}.attention.key_length`] = facts.head_dim;
    info[`${arch}.attention.value_length`] = facts.head_dim;
  }
  // An embedding model is one with a pooling type (1: mean).
  if (facts.kind === 'embedding') info[`${arch}.pooling_type`] = 1;
  const fileType = FILE_TYPES[facts.quantization.toUpperCase()];
  if (fileType !== undefined) info['general.file_type'] = fileType;
  return Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `%#v` of a parameter value: strings quoted, numbers and bools plain. */
function goSharpV(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** api.ShowResponse parameters: one `key  value` line per value, keys padded to 30. */
function formatParameters(options: Record<string, unknown> | undefined): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(options ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) lines.push(`${k.padEnd(30)} ${goSharpV(item)}`);
  }
  return lines.join('\n');
}

/** Model.String() under the two comment lines GetModelInfo puts first. */
function modelfileOf(ctx: OllamaApiContext, m: ResolvedModel, display: string): string {
  let text = `# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM ${display}\n\n`;
  text += `FROM ${m.weightsDigest !== undefined ? ctx.store().blobPath(m.weightsDigest) : ''}\n`;
  text += `TEMPLATE """${m.template}"""\n`;
  if (m.system) text += `SYSTEM """${m.system}"""\n`;
  for (const [k, v] of Object.entries(m.options ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) text += `PARAMETER ${k} ${String(item)}\n`;
  }
  for (const license of m.license) text += `LICENSE """${license}"""\n`;
  for (const msg of m.messages) text += `MESSAGE ${msg.role} ${msg.content}\n`;
  return text;
}

/** GetModelInfo for a model GetModel resolved, shown as `display`. */
export function buildShowResponse(ctx: OllamaApiContext, m: ResolvedModel, name: ModelName, options: { system?: string } = {}): ShowResult {
  const display = displayShortest(name);
  // getModelData: the weights are opened (a missing file is "not found") and decoded.
  if (m.weightsDigest === undefined || !m.weightsPresent) return { ok: false, status: 404, message: `model '${display}' not found` };
  if (!m.facts || m.weightsRef === undefined) return { ok: false, status: 500, message: 'invalid file magic' };
  const system = options.system || m.system;
  const details = detailsOf(m.config, m.parentModel);
  if (unknownQuantization(m.config.file_type)) details.quantization_level = m.facts.quantization;
  const response: Record<string, unknown> = {};
  if (m.license.length > 0) response.license = m.license.join('\n');
  response.modelfile = modelfileOf(ctx, { ...m, system }, display);
  const parameters = formatParameters(m.options);
  if (parameters) response.parameters = parameters;
  response.template = m.template;
  if (system) response.system = system;
  if (m.config.renderer) response.renderer = m.config.renderer;
  if (m.config.parser) response.parser = m.config.parser;
  response.details = details;
  if (m.messages.length > 0) response.messages = m.messages.map((x) => ({ role: x.role, content: x.content }));
  response.model_info = modelInfoOf(m.weightsRef, m.facts);
  if (m.capabilities.length > 0) response.capabilities = m.capabilities;
  response.modified_at = formatGoTime(m.stored.modifiedAt, { nanos: m.stored.modifiedNanos });
  if (m.config.requires) response.requires = m.config.requires;
  return { ok: true, response };
}
