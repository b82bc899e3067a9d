// /api/chat and the older /api/embeddings through the official client, with
// the shapes server/routes.go ChatHandler and EmbeddingsHandler give.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse } from 'ollama';
import { request, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode;

beforeEach(async () => {
  node = await startTestNode({ env: { OLLAMA_KEEP_ALIVE: '24h', OLLAMA_CONTEXT_LENGTH: '8192' } });
});

afterEach(async () => {
  await node.cleanup();
});

const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => ({ resolved: true }), (e: unknown) => e);

describe('chat', () => {
  it('streams assistant messages and ends with done, done_reason and the timings', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const parts: ChatResponse[] = [];
    const stream = await node.client().chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'ping' }], stream: true });
    for await (const p of stream) parts.push(p);
    expect(parts.length).toBeGreaterThan(2);
    const last = parts.at(-1);
    expect(last).toMatchObject({ model: 'llama3.2:3b', done: true, done_reason: 'stop', message: { role: 'assistant', content: '' } });
    expect(last?.eval_count).toBe(parts.length - 1);
    expect(last?.total_duration).toBeGreaterThan(last?.load_duration ?? Number.POSITIVE_INFINITY);
    expect(last?.prompt_eval_count).toBeGreaterThan(0);
    for (const p of parts.slice(0, -1)) {
      expect(p.done).toBe(false);
      expect(p.message.role).toBe('assistant');
      expect(Object.keys(p)).toEqual(['model', 'created_at', 'message', 'done']);
    }
    expect(parts.map((p) => p.message.content).join('')).toMatch(/\w/);
  });

  it('answers one object with stream:false, the whole content in message.content', async () => {
    await node.ollama.seedModels(['llama3.1:8b']);
    const res = await node.client().chat({ model: 'llama3.1:8b', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'ping' }], stream: false, options: { num_predict: 3 } });
    expect(res).toMatchObject({ model: 'llama3.1:8b', done: true, done_reason: 'length', eval_count: 3, message: { role: 'assistant' } });
    expect(res.message.content.length).toBeGreaterThan(0);
    const raw = await request(`${node.url()}/api/chat`, 'POST', { model: 'llama3.1:8b', messages: [{ role: 'USER', content: 'ping' }], stream: false });
    expect(raw.type).toBe('application/json; charset=utf-8');
    expect(Object.keys(JSON.parse(raw.text) as object)).toEqual([
      'model', 'created_at', 'message', 'done', 'done_reason', 'total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration',
    ]);
    expect((await node.client().ps()).models.map((m) => m.name)).toEqual(['llama3.1:8b']);
  });

  it('loads the model on empty messages (done_reason load) and unloads with keep_alive 0', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const loaded = await node.client().chat({ model: 'llama3.2:3b', messages: [], stream: false });
    expect(loaded).toMatchObject({ done: true, done_reason: 'load', message: { role: 'assistant', content: '' } });
    expect((await node.client().ps()).models.map((m) => m.name)).toEqual(['llama3.2:3b']);
    const unloaded = await node.client().chat({ model: 'llama3.2:3b', messages: [], keep_alive: 0, stream: false });
    expect(unloaded).toMatchObject({ done: true, done_reason: 'unload' });
    expect((await node.client().ps()).models).toEqual([]);
  });

  it('refuses an embedding-only model with 400 "does not support chat"', async () => {
    await node.ollama.seedModels(['nomic-embed-text']);
    const err = await failure(node.client().chat({ model: 'nomic-embed-text', messages: [{ role: 'user', content: 'x' }], stream: false }));
    expect(err).toMatchObject({ name: 'ResponseError', status_code: 400, error: '"nomic-embed-text" does not support chat' });
    // The streamed call fails the same way: the error comes before any line.
    const streamed = await failure(node.client().chat({ model: 'nomic-embed-text', messages: [{ role: 'user', content: 'x' }], stream: true }));
    expect(streamed).toMatchObject({ status_code: 400, error: '"nomic-embed-text" does not support chat' });
    expect((await node.client().ps()).models).toEqual([]);
  });

  it('404 names the model as sent; thinking, tools and a missing name are 400', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const missing = await failure(node.client().chat({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'x' }] }));
    expect(missing).toMatchObject({ status_code: 404, error: "model 'llama3.1:8b' not found" });
    const think = await failure(node.client().chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], think: true }));
    expect(think).toMatchObject({ status_code: 400, error: '"llama3.2:3b" does not support thinking' });
    const tools = await failure(node.client().chat({
      model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object', properties: {} } } }],
    }));
    expect(tools).toMatchObject({ status_code: 400, error: 'registry.ollama.ai/library/llama3.2:3b does not support tools' });
    const noName = await failure(node.client().chat({ model: '', messages: [] }));
    expect(noName).toMatchObject({ status_code: 400, error: 'model is required' });
  });

  it('finds a model whatever the case of its name, as on a Mac', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const res = await node.client().chat({ model: 'Llama3.2:3B', messages: [{ role: 'user', content: 'x' }], stream: false });
    expect(res).toMatchObject({ model: 'Llama3.2:3B', done: true });
  });
});

describe('embeddings (the older route)', () => {
  it('answers {embedding} with the model\'s embedding length, pointing where /api/embed points', async () => {
    await node.ollama.seedModels(['nomic-embed-text', 'llama3.1:8b']);
    const res = await node.client().embeddings({ model: 'nomic-embed-text', prompt: 'ping' });
    expect(Object.keys(res)).toEqual(['embedding']);
    expect(res.embedding).toHaveLength(768);
    // Not normalised, unlike /api/embed; normalising gives /api/embed's vector.
    const norm = Math.hypot(...res.embedding);
    expect(Math.abs(norm - 1)).toBeGreaterThan(0.5);
    const unit = (await node.client().embed({ model: 'nomic-embed-text', input: 'ping' })).embeddings[0] ?? [];
    res.embedding.forEach((v, i) => expect(v / norm).toBeCloseTo(unit[i] ?? Number.NaN, 5));
    // No capability check: a completion model embeds too, at its own width.
    expect((await node.client().embeddings({ model: 'llama3.1:8b', prompt: 'ping' })).embedding).toHaveLength(4096);
  });

  it('an empty prompt only loads the model', async () => {
    await node.ollama.seedModels(['nomic-embed-text']);
    expect(await node.client().embeddings({ model: 'nomic-embed-text', prompt: '' })).toEqual({ embedding: [] });
    expect((await node.client().ps()).models.map((m) => m.name)).toEqual(['nomic-embed-text:latest']);
  });

  it('errors: missing model 404 with the pull hint, empty name 400', async () => {
    const missing = await failure(node.client().embeddings({ model: 'nomic-embed-text', prompt: 'x' }));
    expect(missing).toMatchObject({ status_code: 404, error: 'model "nomic-embed-text" not found, try pulling it first' });
    const empty = await failure(node.client().embeddings({ model: '', prompt: 'x' }));
    expect(empty).toMatchObject({ status_code: 400, error: 'model is required' });
    const invalid = await failure(node.client().embeddings({ model: 'no good', prompt: 'x' }));
    expect(invalid).toMatchObject({ status_code: 400, error: 'invalid model name' });
  });
});
