// Ollama model names: `[host/][namespace/]model[:tag]` with the defaults
// registry.ollama.ai, library and latest (types/model/name.go). The store
// keeps manifests at manifests/<host>/<namespace>/<model>/<tag>.
import { join } from 'node:path';

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
  if (ref === '' || ref.includes('@') || ref.includes('://')) return undefined;
  let rest = ref;
  let tag = 'latest';
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  const model = parts.pop() ?? '';
  const namespace = parts.pop() ?? DEFAULT_NAMESPACE;
  const host = parts.pop() ?? DEFAULT_HOST;
  if (parts.length > 0) return undefined;
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

export function manifestPathOf(modelsDir: string, name: ModelName): string {
  return join(modelsDir, 'manifests', name.host, name.namespace, name.model, name.tag);
}

export function sameName(a: ModelName, b: ModelName): boolean {
  return displayShortest(a).toLowerCase() === displayShortest(b).toLowerCase();
}
