// A stored model as the server loads it for show and inference (images.go
// GetModel): the config blob, then every layer's blob by media type. A
// missing config, template, system, params, messages or license blob fails
// the lookup as "not exist" (handlers answer 404); a missing weights blob does
// not: only its GGUF facts and the capability they give are lost, and the
// load fails later. Capabilities follow Model.Capabilities: the config's,
// the weights' (completion or embedding), then the template's variables.
import { existsSync, readFileSync } from 'node:fs';
import type { ModelFacts } from '../../schema/fleet.ts';
import type { ModelCatalog } from './catalog.ts';
import { MEDIA_LICENSE, MEDIA_MESSAGES, MEDIA_MODEL, MEDIA_PARAMS, MEDIA_PROMPT, MEDIA_SYSTEM, MEDIA_TEMPLATE, type ModelConfig } from './model-layers.ts';
import { displayShortest, type ModelName } from './model-name.ts';
import { errnoText, type ModelStore, type StoredModel } from './model-store.ts';
import { weightsFacts } from './weights-facts.ts';

/** template.DefaultTemplate. */
export const DEFAULT_TEMPLATE = '{{ .Prompt }}';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ResolvedModel {
  name: ModelName;
  stored: StoredModel;
  config: ModelConfig;
  template: string;
  system: string;
  /** The params layer (model options), undefined without one. */
  options: Record<string, unknown> | undefined;
  license: string[];
  messages: ChatMessage[];
  /** The weights blob, when the manifest lists one. */
  weightsDigest: string | undefined;
  weightsPresent: boolean;
  /** The weights' `from`: the model a created model was made from. */
  parentModel: string;
  /** GGUF facts of the weights; undefined when the blob is missing or not a model the registry knows. */
  facts: ModelFacts | undefined;
  /** The reference the weights were published under (GGUF general.basename comes from it). */
  weightsRef: string | undefined;
  capabilities: string[];
}

export type ResolveResult = { ok: true; model: ResolvedModel } | { ok: false; notExist: boolean; message: string };

class BlobError extends Error {
  readonly notExist: boolean;

  constructor(message: string, notExist: boolean) {
    super(message);
    this.notExist = notExist;
  }
}

function readBlob(store: ModelStore, digest: string): string {
  const path = store.blobPath(digest);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BlobError(`open ${path}: ${errnoText(err)}`, code === 'ENOENT');
  }
}

function readJsonBlob<T>(store: ModelStore, digest: string): T {
  const text = readBlob(store, digest);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new BlobError(err instanceof Error ? err.message : String(err), false);
  }
}

/**
 * The part of template.Parse's checks the sim makes: an action left open.
 * Returns text/template's message, undefined when the template parses.
 */
export function templateParseError(template: string): string | undefined {
  let line = 1;
  for (let i = 0; i < template.length; i++) {
    if (template[i] === '\n') line++;
    if (template.startsWith('{{', i)) {
      const close = template.indexOf('}}', i + 2);
      if (close < 0) return `template: :${line}: unclosed action`;
      line += (template.slice(i, close).match(/\n/g) ?? []).length;
      i = close + 1;
    }
  }
  return undefined;
}

/** template.Vars: the identifiers a Go template reads, lower-cased. */
export function templateVars(template: string): string[] {
  const vars = new Set<string>();
  for (const action of template.matchAll(/\{\{([\s\S]*?)\}\}/g)) {
    for (const field of (action[1] ?? '').matchAll(/\.([A-Za-z_]\w*)/g)) vars.add((field[1] ?? '').toLowerCase());
  }
  return [...vars].sort();
}

function capabilitiesOf(config: ModelConfig, facts: ModelFacts | undefined, weightsPresent: boolean, template: string): string[] {
  const caps: string[] = [];
  const add = (c: string): void => {
    if (!caps.includes(c)) caps.push(c);
  };
  for (const c of config.capabilities ?? []) add(c);
  if (weightsPresent && facts) add(facts.kind === 'embedding' ? 'embedding' : 'completion');
  const vars = templateVars(template);
  if (vars.includes('tools')) add('tools');
  if (vars.includes('suffix')) add('insert');
  return caps;
}

/** GetModel for a stored manifest. */
export function resolveStored(store: ModelStore, catalog: ModelCatalog, stored: StoredModel, name: ModelName = stored.name): ResolveResult {
  try {
    const m = stored.manifest;
    const config: ModelConfig = m.config.digest !== '' ? readJsonBlob<ModelConfig>(store, m.config.digest) : {};
    let template = DEFAULT_TEMPLATE;
    let system = '';
    let options: Record<string, unknown> | undefined;
    const license: string[] = [];
    let messages: ChatMessage[] = [];
    let weightsDigest: string | undefined;
    let parentModel = '';
    for (const layer of m.layers) {
      switch (layer.mediaType) {
        case MEDIA_MODEL:
          weightsDigest = layer.digest;
          parentModel = layer.from ?? '';
          break;
        case MEDIA_TEMPLATE:
        case MEDIA_PROMPT: {
          template = readBlob(store, layer.digest);
          const bad = templateParseError(template);
          if (bad !== undefined) throw new BlobError(bad, false);
          break;
        }
        case MEDIA_SYSTEM:
          system = readBlob(store, layer.digest);
          break;
        case MEDIA_PARAMS:
          options = readJsonBlob<Record<string, unknown>>(store, layer.digest);
          break;
        case MEDIA_MESSAGES:
          messages = readJsonBlob<ChatMessage[]>(store, layer.digest);
          break;
        case MEDIA_LICENSE:
          license.push(readBlob(store, layer.digest));
          break;
        default:
          break;
      }
    }
    const weightsPresent = weightsDigest !== undefined && existsSync(store.blobPath(weightsDigest));
    const weights = weightsPresent && weightsDigest !== undefined ? weightsFacts(catalog, weightsDigest, displayShortest(stored.name)) : undefined;
    const facts = weights?.facts;
    return {
      ok: true,
      model: {
        name, stored, config, template, system, options, license, messages, weightsDigest, weightsPresent, parentModel, facts, weightsRef: weights?.ref,
        capabilities: capabilitiesOf(config, facts, weightsPresent, template),
      },
    };
  } catch (err) {
    if (err instanceof BlobError) return { ok: false, notExist: err.notExist, message: err.message };
    throw err;
  }
}
