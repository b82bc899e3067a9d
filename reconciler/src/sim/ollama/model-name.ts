// Ollama model names: `[scheme://][host/][namespace/]model[:tag]` with the
// defaults registry.ollama.ai, library and latest (types/model/name.go
// ParseName). The store keeps manifests at manifests/<host>/<namespace>/<model>/<tag>.
// Request handlers first run internal/modelref ParseRef: surrounding spaces
// are dropped and an explicit `:local` / `:cloud` source suffix is split off.
import { join } from 'node:path';
import { goQuote } from './go-json.ts';

export const DEFAULT_HOST = 'registry.ollama.ai';
export const DEFAULT_NAMESPACE = 'library';

export interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

const PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/;
const NAMESPACE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$/;
const HOST = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}$/;

/** Parses a reference; undefined when Ollama would call it an invalid model name. */
export function parseModelName(ref: string): ModelName | undefined {
  if (ref === '') return undefined;
  let rest = ref;
  let tag = 'latest';
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    // A separator promises a part: `x:` has an empty (invalid) tag.
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  const model = parts.pop() ?? '';
  const namespace = parts.length > 0 ? (parts.pop() ?? '') : DEFAULT_NAMESPACE;
  let host = parts.length > 0 ? parts.join('/') : DEFAULT_HOST;
  // Only the host part may carry a scheme (`https://registry.ollama.ai/library/x`).
  const scheme = host.indexOf('://');
  if (scheme >= 0) host = host.slice(scheme + 3);
  if (!PART.test(model) || !PART.test(tag) || !NAMESPACE.test(namespace) || !HOST.test(host)) return undefined;
  return { host, namespace, model, tag };
}

/** ParseNameFromFilepath: the four folder names of a manifest's path, each valid as it stands (no defaults). */
export function nameFromParts(host: string, namespace: string, model: string, tag: string): ModelName | undefined {
  if (!PART.test(model) || !PART.test(tag) || !NAMESPACE.test(namespace) || !HOST.test(host)) return undefined;
  return { host, namespace, model, tag };
}

/** name.DisplayShortest(): `llama3.1:8b`, `ns/model:tag`, `host/ns/model:tag`. */
export function displayShortest(name: ModelName): string {
  const lower = (s: string): string => s.toLowerCase();
  if (lower(name.host) === DEFAULT_HOST) {
    if (lower(name.namespace) === DEFAULT_NAMESPACE) return `${name.model}:${name.tag}`;
    return `${name.namespace}/${name.model}:${name.tag}`;
  }
  return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
}

/** name.String() of a fully qualified name: `registry.ollama.ai/library/llama3.1:8b`. */
export function fullName(name: ModelName): string {
  return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
}

export function manifestPathOf(modelsDir: string, name: ModelName): string {
  return join(modelsDir, 'manifests', name.host, name.namespace, name.model, name.tag);
}

export function sameName(a: ModelName, b: ModelName): boolean {
  return fullName(a).toLowerCase() === fullName(b).toLowerCase();
}

/**
 * getExistingName (server/routes.go): each part of `name` takes the spelling
 * of a stored name whose same part matches it ignoring case, part by part.
 */
export function canonicalName(name: ModelName, stored: readonly ModelName[]): ModelName {
  const out = { ...name };
  const keys = ['host', 'namespace', 'model', 'tag'] as const;
  for (const key of keys) {
    const hit = stored.find((s) => s[key].toLowerCase() === name[key].toLowerCase());
    if (hit) out[key] = hit[key];
  }
  return out;
}

export type ModelSource = 'unspecified' | 'local' | 'cloud';

export interface ModelRef {
  /** The trimmed reference as sent. */
  original: string;
  /** Without the source suffix. */
  base: string;
  source: ModelSource;
}

export type ModelRefResult = { ok: true; ref: ModelRef } | { ok: false; reason: 'required' | 'conflict'; message: string };

function splitSource(raw: string): { base: string; source: ModelSource; explicit: boolean } {
  const idx = raw.lastIndexOf(':');
  if (idx >= 0) {
    const suffixRaw = raw.slice(idx + 1).trim();
    const suffix = suffixRaw.toLowerCase();
    if (suffix === 'cloud') return { base: raw.slice(0, idx), source: 'cloud', explicit: true };
    if (suffix === 'local') return { base: raw.slice(0, idx), source: 'local', explicit: true };
    // The legacy form `model:tag-cloud`.
    if (!suffixRaw.includes('/') && suffix.endsWith('-cloud')) {
      return { base: raw.slice(0, idx + 1) + suffixRaw.slice(0, -'-cloud'.length), source: 'cloud', explicit: true };
    }
  }
  return { base: raw, source: 'unspecified', explicit: false };
}

/** modelref.ParseRef: trims, refuses an empty reference and a doubled source suffix. */
export function parseModelRef(raw: string): ModelRefResult {
  const text = raw.trim();
  if (text === '') return { ok: false, reason: 'required', message: 'model is required' };
  const split = splitSource(text);
  if (split.explicit && splitSource(split.base).explicit) {
    return { ok: false, reason: 'conflict', message: `use either :local or :cloud, not both: ${goQuote(text)}` };
  }
  return { ok: true, ref: { original: text, base: split.base, source: split.source } };
}
