// Bob's own view of a node's Ollama: the official client against the URL the
// fleet uses, through the loopback guard. Together with the in-node curl it
// tells "serving the fleet" from "running but bound to localhost".
import { Ollama } from 'ollama';
import { guardedFetch } from '../net/guard.ts';
import type { ConnectionGuard } from '../net/guard.ts';
import { loadedFromPs, modelsFromTags } from './parse-ollama.ts';
import type { LoadedModel, ObservedModel } from './parse-ollama.ts';

export interface ExternalOllama {
  up: boolean;
  url: string;
  version?: string;
  error?: string;
  /** HTTP status of a failed answer (e.g. 500), when there was one. */
  status?: number;
  models?: ObservedModel[];
  loaded?: LoadedModel[];
}

/**
 * The guard's fetch with a deadline, and error bodies turned into JSON so the
 * client reports `{error}` itself instead of logging to stdout.
 */
function deadlineFetch(guard: ConnectionGuard, timeoutMs: number, signal?: AbortSignal): typeof fetch {
  const base = guardedFetch(guard);
  return async (input, init) => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : []), ...(init?.signal ? [init.signal] : [])];
    const res = await base(input, { ...init, signal: AbortSignal.any(signals) });
    if (res.ok || res.headers.get('content-type')?.includes('application/json')) return res;
    const text = await res.text().catch(() => '');
    return new Response(JSON.stringify({ error: text.trim() || `HTTP ${res.status}` }), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}

function describe(err: unknown, timeoutMs: number): { error: string; status?: number } {
  if (err && typeof err === 'object') {
    const e = err as { name?: string; message?: string; status_code?: number; error?: string; cause?: { code?: string; message?: string } };
    if (typeof e.status_code === 'number') return { error: `HTTP ${e.status_code}: ${e.error ?? e.message ?? ''}`.trim(), status: e.status_code };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { error: `no answer within ${timeoutMs / 1000} s` };
    if (e.cause?.code === 'ECONNREFUSED') return { error: 'connection refused (not listening on this address: down, or bound to 127.0.0.1)' };
    if (e.name === 'FleetError') return { error: e.message ?? 'refused by the loopback guard' };
    if (e.cause?.code) return { error: `${e.cause.code}: ${e.cause.message ?? e.message ?? ''}`.trim() };
    if (e.message) return { error: e.message };
  }
  return { error: String(err) };
}

export async function checkOllama(url: string, options: { guard: ConnectionGuard; timeoutMs: number; signal?: AbortSignal }): Promise<ExternalOllama> {
  const client = new Ollama({ host: url, fetch: deadlineFetch(options.guard, options.timeoutMs, options.signal) });
  try {
    const { version } = await client.version();
    const [tags, ps] = await Promise.allSettled([client.list(), client.ps()]);
    return {
      up: true,
      url,
      version,
      ...(tags.status === 'fulfilled' ? { models: modelsFromTags(tags.value.models) } : {}),
      ...(ps.status === 'fulfilled' ? { loaded: loadedFromPs(ps.value.models) } : {}),
      ...(tags.status === 'rejected' ? { error: `/api/tags: ${describe(tags.reason, options.timeoutMs).error}` } : {}),
    };
  } catch (err) {
    return { up: false, url, ...describe(err, options.timeoutMs) };
  }
}
