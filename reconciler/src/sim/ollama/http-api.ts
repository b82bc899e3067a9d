// The HTTP face of one simulated Ollama: the routes of server/routes.go
// GenerateRoutes, gin's 404/405 for others, the 500 fault, and gin's
// recovery for an unexpected failure.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OllamaApiContext } from './api-context.ts';
import { createHandler } from './create-route.ts';
import { formatGoTime } from './go-format.ts';
import { drain, sendError, sendJson, sendText } from './http-reply.ts';
import { chatHandler, embeddingsHandler, embedHandler, generateHandler } from './inference-routes.ts';
import { copyHandler, deleteHandler, pullHandler, showHandler, tagsHandler } from './model-routes.ts';

export type { OllamaApiContext } from './api-context.ts';

type Handler = (ctx: OllamaApiContext, req: IncomingMessage, res: ServerResponse) => Promise<void>;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: rootHandler, HEAD: rootHandler },
  '/api/version': { GET: versionHandler, HEAD: versionHandler },
  '/api/tags': { GET: tagsHandler, HEAD: tagsHandler },
  '/api/ps': { GET: psHandler },
  '/api/show': { POST: showHandler },
  '/api/pull': { POST: pullHandler },
  '/api/delete': { DELETE: deleteHandler },
  '/api/copy': { POST: copyHandler },
  '/api/create': { POST: createHandler },
  '/api/generate': { POST: generateHandler },
  '/api/chat': { POST: chatHandler },
  '/api/embed': { POST: embedHandler },
  '/api/embeddings': { POST: embeddingsHandler },
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
    else if (fault !== undefined) run = drain(req).then(() => sendError(res, 500, fault));
    else run = handler(ctx, req, res);
  }
  run.catch((err: unknown) => {
    if (!res.headersSent) sendError(res, 500, err instanceof Error ? err.message : String(err));
    else res.destroy();
  });
}

function rootHandler(_ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendText(res, 200, 'Ollama is running');
  return Promise.resolve();
}

function versionHandler(ctx: OllamaApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { version: ctx.version });
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
