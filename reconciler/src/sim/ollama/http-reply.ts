// How gin writes Ollama's answers: c.JSON (`application/json; charset=utf-8`),
// c.String, an empty 200, an NDJSON stream (streamResponse), and the body
// binding that turns a bad request into `400 {"error": ...}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { goJson } from './go-json.ts';
import { bindRequest, type Body, type RequestKind } from './request-body.ts';

export const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(res: ServerResponse, status: number, body: unknown, type = JSON_TYPE): void {
  sendRawJson(res, status, goJson(body), type);
}

export function sendRawJson(res: ServerResponse, status: number, text: string, type = JSON_TYPE): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A handler that writes nothing: gin sends 200 with an empty body. */
export function sendEmpty(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

export function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
}

export async function drain(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** ShouldBindJSON into the route's request struct; answers the 400 itself and returns undefined on failure. */
export async function readRequest(kind: RequestKind, req: IncomingMessage, res: ServerResponse): Promise<Body | undefined> {
  const bound = bindRequest(kind, await drain(req));
  if (!bound.ok) {
    sendError(res, 400, bound.error);
    return undefined;
  }
  return bound.body;
}

/**
 * Where a streamed route's messages go: NDJSON lines, or (stream:false, waitForStream)
 * only the last progress line as one `application/json` answer. An error before
 * anything was written becomes the response status; after, one `{"error"}` line.
 */
export class ProgressSink<T> {
  private last: T | undefined;
  private readonly res: ServerResponse;
  private readonly stream: boolean;

  constructor(res: ServerResponse, stream: boolean) {
    this.res = res;
    this.stream = stream;
  }

  emit(line: T): void {
    this.last = line;
    if (!this.stream || this.res.destroyed) return;
    if (!this.res.headersSent) startStream(this.res);
    this.res.write(`${goJson(line)}\n`);
  }

  /** gin.H{"error", "status"}: status defaults to 500. */
  fail(message: string, status = 500): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.res.headersSent) sendJson(this.res, status, { error: message }, 'application/json');
    else this.res.end(`${goJson({ error: message })}\n`);
  }

  finish(): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.stream) {
      if (!this.res.headersSent) startStream(this.res);
      this.res.end();
    } else sendJson(this.res, 200, this.last ?? {}, 'application/json');
  }
}
