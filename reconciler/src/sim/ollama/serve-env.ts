// What `ollama serve` makes of its environment (envconfig in the Ollama
// source): bind address, keep-alive, context length, slots, KV cache type.
// Pure functions of the env text, so the sim and its tests agree.
import { parseGoDuration } from './go-format.ts';

export type ServeEnv = Readonly<Record<string, string>>;

export const DEFAULT_OLLAMA_PORT = 11434;

/** envconfig.Var: surrounding spaces and quotes are dropped. */
function readVar(env: ServeEnv, key: string): string {
  return (env[key] ?? '').trim().replace(/^["']+|["']+$/g, '');
}

export interface BindAddress {
  host: string;
  port: number;
}

/** envconfig.Host: `OLLAMA_HOST` as `host[:port]` or `scheme://host[:port]`; default 127.0.0.1:11434. */
export function parseOllamaHost(env: ServeEnv): BindAddress {
  let text = readVar(env, 'OLLAMA_HOST');
  let defaultPort = DEFAULT_OLLAMA_PORT;
  const scheme = /^([a-z]+):\/\//i.exec(text);
  if (scheme) {
    text = text.slice(scheme[0].length);
    if (scheme[1]?.toLowerCase() === 'http') defaultPort = 80;
    if (scheme[1]?.toLowerCase() === 'https') defaultPort = 443;
  }
  const hostport = text.split('/')[0] ?? '';
  const withPort = /^\[?([^\]]*?)\]?:(\d*)$/.exec(hostport);
  let host = '127.0.0.1';
  let port = defaultPort;
  if (withPort) {
    host = withPort[1] ?? '';
    const n = Number(withPort[2]);
    if (withPort[2] !== '' && Number.isInteger(n) && n >= 0 && n <= 65535) port = n;
  } else if (hostport !== '') {
    host = hostport.replace(/^\[|\]$/g, '');
  }
  return { host, port };
}

export interface BindTargets {
  /** Answers on the node's own loopback (what `curl localhost:11434` inside the node reaches). */
  loopback: boolean;
  /** Answers on the node's network address (what Bob reaches). */
  external: boolean;
  port: number;
}

/**
 * Which of the node's addresses a server started with `env` listens on.
 * 0.0.0.0 (or `::`, or an empty host) is every address; loopback names only the loopback;
 * the node's own IP only that address, so localhost inside the node is refused.
 */
export function bindTargetsFor(env: ServeEnv, nodeIp?: string): BindTargets {
  const { host, port } = parseOllamaHost(env);
  const h = host.toLowerCase();
  if (h === '' || h === '0.0.0.0' || h === '::') return { loopback: true, external: true, port };
  if (h === 'localhost' || h.startsWith('127.') || h === '::1') return { loopback: true, external: false, port };
  if (nodeIp !== undefined && h === nodeIp) return { loopback: false, external: true, port };
  // An address the node does not have: Ollama would fail to bind; treat as not reachable from outside.
  return { loopback: false, external: false, port };
}

/** envconfig.KeepAlive in ms: Go duration or integer seconds; negative is forever (Infinity); default 5m. */
export function keepAliveMs(env: ServeEnv): number {
  const text = readVar(env, 'OLLAMA_KEEP_ALIVE');
  return parseKeepAlive(text === '' ? undefined : text) ?? 5 * 60_000;
}

/** A keep_alive value as a request carries it (number of seconds or duration text); undefined when absent/invalid. */
export function parseKeepAlive(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) ms = value * 1000;
  else if (typeof value === 'string') {
    ms = parseGoDuration(value);
    if (ms === undefined && /^[+-]?\d+$/.test(value)) ms = Number(value) * 1000;
  }
  if (ms === undefined) return undefined;
  return ms < 0 ? Number.POSITIVE_INFINITY : ms;
}

function readPositiveInt(env: ServeEnv, key: string): number | undefined {
  const text = readVar(env, key);
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

export interface RuntimeSettings {
  keepAliveMs: number;
  /** undefined: Ollama picks from GPU memory. */
  contextLength: number | undefined;
  numParallel: number;
  maxLoadedModels: number;
  /** Bytes per KV cache element: 2 (f16), 1 (q8_0), 0.5 (q4_0; needs flash attention). */
  kvBytesPerElement: number;
  modelsDir: string | undefined;
  /** Unused blobs are pruned at start and after a create replaces a model (unless OLLAMA_NOPRUNE). */
  prune: boolean;
}

/** envconfig.Bool: unset or empty is false; a value strconv.ParseBool rejects counts as true. */
export function envBool(env: ServeEnv, key: string): boolean {
  const text = readVar(env, key);
  if (text === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return true;
}

export function readRuntimeSettings(env: ServeEnv): RuntimeSettings {
  const flash = ['1', 'true', 'yes', 'on'].includes(readVar(env, 'OLLAMA_FLASH_ATTENTION').toLowerCase());
  const kvType = readVar(env, 'OLLAMA_KV_CACHE_TYPE').toLowerCase();
  const kvBytesPerElement = !flash ? 2 : kvType === 'q8_0' ? 1 : kvType === 'q4_0' ? 0.5 : 2;
  const modelsDir = readVar(env, 'OLLAMA_MODELS');
  return {
    keepAliveMs: keepAliveMs(env),
    contextLength: readPositiveInt(env, 'OLLAMA_CONTEXT_LENGTH'),
    numParallel: readPositiveInt(env, 'OLLAMA_NUM_PARALLEL') ?? 1,
    maxLoadedModels: readPositiveInt(env, 'OLLAMA_MAX_LOADED_MODELS') ?? 3,
    kvBytesPerElement,
    modelsDir: modelsDir === '' ? undefined : modelsDir,
    prune: !envBool(env, 'OLLAMA_NOPRUNE'),
  };
}

const GIB = 1024 ** 3;

/** Metal's recommendedMaxWorkingSetSize: about 2/3 of RAM up to 36 GiB, 3/4 above; 0 without Metal. */
export function gpuMemoryBytes(hardware: { ramBytes: number; metal: boolean }): number {
  if (!hardware.metal) return 0;
  return Math.floor(hardware.ramBytes * (hardware.ramBytes <= 36 * GIB ? 2 / 3 : 3 / 4));
}

/** Context a model is loaded with when nothing pins it: chosen from GPU memory, capped at the trained context. */
export function defaultContextLength(gpuBytes: number, maxContext: number): number {
  const chosen = gpuBytes >= 47 * GIB ? 262_144 : gpuBytes >= 23 * GIB ? 32_768 : 4096;
  return Math.min(chosen, maxContext);
}
