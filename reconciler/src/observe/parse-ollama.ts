// Pure parsers for what Ollama says: the HTTP API bodies (preferred), the
// CLI's version line and its `list` / `ps` tables (kept for tests and for
// diagnostics when only the CLI answers), curl's framing of a response, and
// the manifests on disk (the models when no server answers).
import { createHash } from 'node:crypto';

export interface ObservedModel {
  name: string;
  digest: string;
  size: number;
}

export interface LoadedModel {
  name: string;
  size: number;
  size_vram: number;
  context_length?: number;
}

/**
 * The CLI's own version from `ollama --version`: `ollama version is 0.12.6`
 * is the server's, and matches the CLI unless a `Warning: client version is
 * 0.12.7` follows (a CLI upgraded under a running server, or no server).
 */
export function parseOllamaCliVersion(stdout: string, stderr = ''): string | null {
  const text = `${stdout}\n${stderr}`;
  const client = /client version is\s+(\S+)/i.exec(text);
  if (client) return client[1] ?? null;
  const server = /ollama version is\s+(\S+)/i.exec(text);
  return server ? (server[1] ?? null) : null;
}

/** What the probe's ollama.cli section prints instead of running the CLI when it is Homebrew's: its version is the keg's. */
export const CLI_FROM_KEG = 'homebrew-keg';

const UNIT: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** Ollama's human sizes are decimal: `4.9 GB`, `274 MB`, `42 GB`. Approximate by nature. */
export function parseHumanSize(text: string): number | null {
  const m = /^\s*([\d.]+)\s*([KMGT]?B)\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNIT[(m[2] ?? '').toUpperCase()];
  const n = Number(m[1]);
  if (unit === undefined || Number.isNaN(n)) return null;
  return Math.round(n * unit);
}

export interface OllamaListRow {
  name: string;
  /** First 12 hex digits of the digest. */
  id: string;
  size: number;
  size_text: string;
  modified: string;
}

/** `ollama list`: NAME, ID, SIZE (`4.9 GB`: two words), MODIFIED (relative). */
export function parseOllamaList(stdout: string): OllamaListRow[] {
  const rows: OllamaListRow[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^(\S+)\s+([0-9a-f]{12})\s+([\d.]+\s*[KMGT]?B)\s+(.*?)\s*$/i.exec(line);
    if (!m) continue;
    rows.push({ name: m[1] ?? '', id: m[2] ?? '', size: parseHumanSize(m[3] ?? '') ?? 0, size_text: m[3] ?? '', modified: m[4] ?? '' });
  }
  return rows;
}

export interface OllamaPsRow {
  name: string;
  id: string;
  size: number;
  processor: string;
  /** Share of the model on the GPU, 0-100. */
  gpu_percent: number | null;
  context: number | null;
  until: string;
}

/** `ollama ps`: NAME, ID, SIZE, PROCESSOR (`100% GPU`, `48%/52% CPU/GPU`), CONTEXT, UNTIL. */
export function parseOllamaPs(stdout: string): OllamaPsRow[] {
  const rows: OllamaPsRow[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^(\S+)\s+([0-9a-f]{12})\s+([\d.]+\s*[KMGT]?B)\s+(\d+%(?:\/\d+%)?\s+\S+)\s+(?:(\d+)\s+)?(.*?)\s*$/i.exec(line);
    if (!m) continue;
    const processor = m[4] ?? '';
    let gpu: number | null = null;
    const split = /^(\d+)%\/(\d+)%\s+CPU\/GPU$/i.exec(processor);
    const single = /^(\d+)%\s+(CPU|GPU)$/i.exec(processor);
    if (split) gpu = Number(split[2]);
    else if (single) gpu = (single[2] ?? '').toUpperCase() === 'GPU' ? Number(single[1]) : 100 - Number(single[1]);
    rows.push({
      name: m[1] ?? '',
      id: m[2] ?? '',
      size: parseHumanSize(m[3] ?? '') ?? 0,
      processor,
      gpu_percent: gpu,
      context: m[5] ? Number(m[5]) : null,
      until: m[6] ?? '',
    });
  }
  return rows;
}

function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `GET /api/version` body: `{"version":"0.12.6"}`. */
export function parseVersionBody(body: string): string | null {
  const v = parseJsonObject(body)?.version;
  return typeof v === 'string' && v !== '' ? v : null;
}

function modelName(m: Record<string, unknown>): string | null {
  const n = typeof m.name === 'string' && m.name !== '' ? m.name : m.model;
  return typeof n === 'string' && n !== '' ? n : null;
}

/** Items of `/api/tags` (`models`): name, digest (bare hex), size in bytes. Malformed items are skipped. */
export function modelsFromTags(items: unknown): ObservedModel[] {
  if (!Array.isArray(items)) return [];
  const out: ObservedModel[] = [];
  for (const item of items as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const m = item as Record<string, unknown>;
    const name = modelName(m);
    if (!name) continue;
    const digest = typeof m.digest === 'string' ? m.digest.replace(/^sha256:/, '') : '';
    const size = typeof m.size === 'number' && Number.isSafeInteger(m.size) && m.size >= 0 ? m.size : 0;
    out.push({ name, digest, size });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Items of `/api/ps` (`models`): loaded models with their GPU share and context. */
export function loadedFromPs(items: unknown): LoadedModel[] {
  if (!Array.isArray(items)) return [];
  const out: LoadedModel[] = [];
  for (const item of items as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const m = item as Record<string, unknown>;
    const name = modelName(m);
    if (!name) continue;
    const int = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) ? v : 0);
    const ctx = m.context_length;
    out.push({ name, size: int(m.size), size_vram: int(m.size_vram), ...(typeof ctx === 'number' && Number.isSafeInteger(ctx) ? { context_length: ctx } : {}) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `GET /api/tags` body; null when it is not a tags answer. */
export function parseTagsBody(body: string): ObservedModel[] | null {
  const obj = parseJsonObject(body);
  if (!obj || !Array.isArray(obj.models)) return null;
  return modelsFromTags(obj.models);
}

/** `GET /api/ps` body; null when it is not a ps answer. */
export function parsePsBody(body: string): LoadedModel[] | null {
  const obj = parseJsonObject(body);
  if (!obj || !Array.isArray(obj.models)) return null;
  return loadedFromPs(obj.models);
}

export interface CurlResponse {
  /** HTTP status, null when no response (curl failed). */
  status: number | null;
  body: string;
  /** Why there is no usable answer, for people. */
  error?: string;
}

const CURL_EXIT: Record<number, string> = {
  6: 'cannot resolve the host',
  7: 'connection refused (Ollama not running)',
  28: 'timed out',
  52: 'empty reply from the server',
  56: 'connection reset',
};

/**
 * `curl -s -m N -w '\n%{http_code}' URL`: the body, then the status on the
 * last line. curl exits 0 for any HTTP status without `-f`.
 */
export function parseCurlResponse(stdout: string, code: number | null): CurlResponse {
  if (code === null) return { status: null, body: '', error: 'did not finish' };
  if (code !== 0) {
    return { status: null, body: '', error: `curl exit ${code}${CURL_EXIT[code] ? `: ${CURL_EXIT[code]}` : ''}` };
  }
  const m = /\n?(\d{3})\s*$/.exec(stdout);
  if (!m) return { status: null, body: stdout, error: 'no HTTP status in the answer' };
  const status = Number(m[1]);
  const body = stdout.slice(0, m.index);
  if (status === 0) return { status: null, body: '', error: 'no HTTP answer' };
  if (status >= 400) {
    const msg = parseJsonObject(body)?.error;
    return { status, body, error: `HTTP ${status}${typeof msg === 'string' ? `: ${msg}` : ''}` };
  }
  return { status, body };
}

/**
 * The model name a manifest path stands for, as /api/tags names it:
 * `.../manifests/registry.ollama.ai/library/llama3.1/8b` is `llama3.1:8b`,
 * another namespace keeps it (`ns/model:tag`), another host keeps both.
 */
export function modelNameFromManifestPath(path: string): string | null {
  const parts = path.split('/');
  const at = parts.lastIndexOf('manifests');
  const rest = at === -1 ? parts.slice(-4) : parts.slice(at + 1);
  if (rest.length !== 4) return null;
  const [host, namespace, model, tag] = rest as [string, string, string, string];
  if (!host || !namespace || !model || !tag) return null;
  if (host === 'registry.ollama.ai') return namespace === 'library' ? `${model}:${tag}` : `${namespace}/${model}:${tag}`;
  return `${host}/${namespace}/${model}:${tag}`;
}

/**
 * `head -c N /dev/null manifest...`: each file after a `==> path <==` header.
 * A model's digest is the sha256 of its manifest file and its size the sum of
 * the config and layer sizes, which is what /api/tags reports.
 */
export function parseManifestListing(stdout: string): ObservedModel[] {
  const out: ObservedModel[] = [];
  const header = /(?:^|\n)==> (.*) <==\n/g;
  const heads = [...stdout.matchAll(header)];
  heads.forEach((h, i) => {
    const path = h[1] ?? '';
    if (path === '/dev/null') return;
    const start = (h.index ?? 0) + h[0].length;
    const next = heads[i + 1];
    const body = stdout.slice(start, next ? next.index : undefined);
    const name = modelNameFromManifestPath(path);
    if (!name) return;
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return;
    }
    if (!doc || typeof doc !== 'object') return;
    const { config, layers } = doc as { config?: { size?: unknown }; layers?: unknown };
    const sizeOf = (x: unknown): number => {
      const s = x && typeof x === 'object' ? (x as { size?: unknown }).size : undefined;
      return typeof s === 'number' && Number.isSafeInteger(s) && s >= 0 ? s : 0;
    };
    const size = sizeOf(config) + (Array.isArray(layers) ? (layers as unknown[]).reduce<number>((sum, l) => sum + sizeOf(l), 0) : 0);
    out.push({ name, digest: createHash('sha256').update(body, 'utf8').digest('hex'), size });
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One curl fetching several URLs with `-w '\n<marker> %{http_code} %{exitcode}\n'`:
 * each body followed by its marker line. Returns one response per marker, in
 * order; a transfer that failed has status 000 and curl's exit code.
 */
export function parseCurlMulti(stdout: string, marker: string): CurlResponse[] {
  const out: CurlResponse[] = [];
  const re = new RegExp(`\\n${marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (\\d{3}) ?(\\S*)\\n`, 'g');
  let from = 0;
  for (const m of stdout.matchAll(re)) {
    const body = stdout.slice(from, m.index);
    from = (m.index ?? 0) + m[0].length;
    const status = Number(m[1]);
    const exit = /^\d+$/.test(m[2] ?? '') ? Number(m[2]) : null;
    if (status === 0) {
      const code = exit ?? 7;
      out.push({ status: null, body: '', error: `curl exit ${code}${CURL_EXIT[code] ? `: ${CURL_EXIT[code]}` : ''}` });
    } else {
      out.push(parseCurlResponse(`${body}\n${m[1] ?? ''}`, 0));
    }
  }
  return out;
}
