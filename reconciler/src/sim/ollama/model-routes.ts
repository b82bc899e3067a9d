// The model-store routes: /api/tags, /api/show, /api/delete, /api/copy,
// /api/pull, with the checks, status codes and messages of their handlers
// in server/routes.go (ListHandler, ShowHandler, DeleteHandler, CopyHandler,
// PullHandler).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OllamaApiContext } from './api-context.ts';
import { goQuote } from './go-json.ts';
import { readRequest, sendEmpty, sendError, sendJson, ProgressSink } from './http-reply.ts';
import { existingName } from './model-lookup.ts';
import { resolveStored } from './model-resolve.ts';
import { displayShortest, fullName, parseModelName, parseModelRef, type ModelName } from './model-name.ts';
import { ManifestScanError } from './model-store.ts';
import { buildListSummary, buildShowResponse } from './model-summaries.ts';
import { PullError, type ProgressLine } from './pull.ts';
import type { Body } from './request-body.ts';

/** Inference and show of a `:cloud` model go to ollama.com; a simulated node has no cloud. */
export const CLOUD_DISABLED = 'ollama cloud is disabled';

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** `model`, or `name` as older clients send. */
export function modelField(body: Body): string {
  return str(body.model) || str(body.name);
}

export function tagsHandler(ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  let stored;
  try {
    stored = ctx.store().scan();
  } catch (err) {
    if (err instanceof ManifestScanError) {
      sendError(res, 500, err.message);
      return Promise.resolve();
    }
    throw err;
  }
  const byKey = new Map(stored.map((m) => [fullName(m.name), m]));
  const listed = ctx.caches.syncList(
    stored.map((m) => ({ key: fullName(m.name), digest: m.digest })),
    (key) => {
      const m = byKey.get(key);
      return m ? buildListSummary(ctx, m) : undefined;
    },
  );
  // Newest first by whole seconds (sortListModelResponses); ties by the finer time.
  const time = (key: string): number => byKey.get(key)?.modifiedAt.getTime() ?? 0;
  listed.sort((a, b) => Math.floor(time(b.key) / 1000) - Math.floor(time(a.key) / 1000) || time(b.key) - time(a.key));
  sendJson(res, 200, { models: listed.map((l) => l.summary) });
  return Promise.resolve();
}

export async function showHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('show', req, res);
  if (!body) return;
  const raw = modelField(body);
  if (raw === '') return sendError(res, 400, 'model is required');
  const parsed = parseModelRef(raw);
  if (!parsed.ok) return sendError(res, 400, parsed.message);
  if (parsed.ref.source === 'cloud') return sendError(res, 403, `${CLOUD_DISABLED}: remote model details are unavailable`);
  const asked = parseModelName(parsed.ref.base);
  if (!asked) return sendError(res, 400, 'invalid model name');
  const existing = existingName(ctx, asked);
  if (!existing.ok) return sendError(res, 400, existing.message);
  const name = existing.name;
  const display = displayShortest(name);
  const system = str(body.system);
  const options = body.options;
  const cacheable = system === '' && (options === undefined || options === null || Object.keys(options).length === 0);
  const opened = ctx.store().open(name);
  if (!opened.ok) return sendError(res, opened.notExist ? 404 : 500, opened.notExist ? `model '${display}' not found` : opened.message);
  const stored = opened.model;
  // GetModelInfo loads the model itself (GetModel), not through the inference cache.
  const build = (): ReturnType<typeof buildShowResponse> => {
    const got = resolveStored(ctx.store(), ctx.catalog, stored, name);
    if (!got.ok) return got.notExist ? { ok: false, status: 404, message: `model '${display}' not found` } : { ok: false, status: 500, message: got.message };
    return buildShowResponse(ctx, got.model, name, { system });
  };
  let result: ReturnType<typeof buildShowResponse> | undefined;
  if (cacheable) {
    const key = `${fullName(name)}\u0000${body.verbose === true ? 'verbose' : ''}`;
    const response = ctx.caches.show.get(key, stored.digest, () => {
      result = build();
      return result.ok ? result.response : undefined;
    });
    if (response) result = { ok: true, response };
  }
  result ??= build();
  if (!result.ok) return sendError(res, result.status, result.message);
  sendJson(res, 200, result.response);
}

/** parseNormalizePullModelRef: a `:cloud` reference names the local stub `model:tag-cloud` / `model:cloud`. */
function pullName(raw: string): { ok: true; name: ModelName | undefined } | { ok: false; message: string; required: boolean } {
  const parsed = parseModelRef(raw);
  if (!parsed.ok) return { ok: false, message: parsed.message, required: parsed.reason === 'required' };
  let base = parsed.ref.base;
  if (parsed.ref.source === 'cloud') base += base.lastIndexOf(':') > base.lastIndexOf('/') ? '-cloud' : ':cloud';
  return { ok: true, name: parseModelName(base) };
}

export async function deleteHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('delete', req, res);
  if (!body) return;
  const ref = modelField(body);
  const parsed = pullName(ref);
  if (!parsed.ok) return sendError(res, 400, parsed.message);
  if (!parsed.name) return sendError(res, 400, `name ${goQuote(ref)} is invalid`);
  const existing = existingName(ctx, parsed.name);
  if (!existing.ok) return sendError(res, 404, `model '${ref}' not found`);
  const opened = ctx.store().open(existing.name);
  if (!opened.ok) return sendError(res, opened.notExist ? 404 : 500, opened.notExist ? `model '${ref}' not found` : opened.message);
  const model = opened.model;
  try {
    ctx.store().remove(model);
  } catch (err) {
    // The manifest is gone already; RemoveLayers could not tell which blobs are still used.
    if (err instanceof ManifestScanError) return sendError(res, 500, err.message);
    throw err;
  } finally {
    ctx.caches.list.delete(fullName(model.name));
  }
  sendEmpty(res);
}

export async function copyHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('copy', req, res);
  if (!body) return;
  const source = str(body.source);
  const destination = str(body.destination);
  // No trimming and no source suffix here: model.ParseName as sent.
  const src = parseModelName(source);
  if (!src) return sendError(res, 400, `source ${goQuote(source)} is invalid`);
  const srcName = existingName(ctx, src);
  if (!srcName.ok) return sendError(res, 400, srcName.message);
  const dst = parseModelName(destination);
  if (!dst) return sendError(res, 400, `destination ${goQuote(destination)} is invalid`);
  const dstName = existingName(ctx, dst);
  if (!dstName.ok) return sendError(res, 400, dstName.message);
  // CopyModel compares the two manifest paths before it opens the source.
  if (fullName(srcName.name) === fullName(dstName.name)) return sendEmpty(res);
  if (!ctx.store().copyManifest(srcName.name, dstName.name, ctx.now())) return sendError(res, 404, `model ${goQuote(source)} not found`);
  sendEmpty(res);
}

export async function pullHandler(ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readRequest('pull', req, res);
  if (!body) return;
  const parsed = pullName(modelField(body));
  if (!parsed.ok) return sendError(res, 400, parsed.required ? 'invalid model name' : parsed.message);
  if (!parsed.name) return sendError(res, 400, 'invalid model name');
  const existing = existingName(ctx, parsed.name);
  if (!existing.ok) return sendError(res, 400, existing.message);
  const sink = new ProgressSink<ProgressLine>(res, body.stream !== false);
  const controller = new AbortController();
  const untrack = ctx.track(controller);
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  try {
    await ctx.puller.pull(existing.name, (line) => {
      if (!controller.signal.aborted) sink.emit(line);
    }, controller.signal);
    sink.finish();
  } catch (err) {
    if (controller.signal.aborted) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    sink.fail(err instanceof PullError || err instanceof Error ? err.message : String(err));
  } finally {
    untrack();
  }
}
