// The official `ollama` npm client, unchanged, against one simulated node:
// if it works here as against a Mac, the HTTP face is faithful.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GenerateResponse, ProgressResponse } from 'ollama';
import { request, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode;

beforeEach(async () => {
  node = await startTestNode({ env: { OLLAMA_KEEP_ALIVE: '24h', OLLAMA_CONTEXT_LENGTH: '8192' } });
});

afterEach(async () => {
  await node.cleanup();
});

describe('read-only endpoints', () => {
  it('answers / and /api/version like Ollama', async () => {
    const root = await request(`${node.url()}/`, 'GET');
    expect(root).toEqual({ status: 200, type: 'text/plain; charset=utf-8', text: 'Ollama is running' });
    expect(await node.client().version()).toEqual({ version: '0.12.6' });
    expect((await request(`${node.url()}/`, 'HEAD')).status).toBe(200);
  });

  it('lists nothing on a fresh node and gin-style 404/405 for other paths', async () => {
    expect(await node.client().list()).toEqual({ models: [] });
    expect(await node.client().ps()).toEqual({ models: [] });
    expect(await request(`${node.url()}/api/nothing`, 'GET')).toMatchObject({ status: 404, text: '404 page not found' });
    expect(await request(`${node.url()}/api/tags`, 'POST', {})).toMatchObject({ status: 405, text: '405 method not allowed' });
  });

  it('lists seeded models newest first with Go timestamps, sizes from the catalog and 64-hex digests', async () => {
    await node.ollama.seedModels(['llama3.1:8b'], { modifiedAt: new Date(Date.now() - 2 * 86_400_000) });
    await node.ollama.seedModels(['nomic-embed-text']);
    const { models } = await node.client().list();
    expect(models.map((m) => m.name)).toEqual(['nomic-embed-text:latest', 'llama3.1:8b']);
    const llama = models[1];
    expect(llama).toMatchObject({
      name: 'llama3.1:8b', model: 'llama3.1:8b', size: 4920753328,
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8.0B', quantization_level: 'Q4_K_M' },
    });
    expect(llama?.digest).toMatch(/^[0-9a-f]{64}$/);
    const raw = JSON.parse((await request(`${node.url()}/api/tags`, 'GET')).text) as { models: Array<{ modified_at: string }> };
    expect(raw.models[1]?.modified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/);
  });
});

describe('show', () => {
  it('reports GGUF metadata from the catalog, keyed by architecture', async () => {
    await node.ollama.seedModels(['qwen2.5-coder:32b']);
    const info = await node.client().show({ model: 'qwen2.5-coder:32b' });
    expect(info.model_info).toMatchObject({
      'general.architecture': 'qwen2',
      'qwen2.block_count': 64,
      'qwen2.attention.head_count': 40,
      'qwen2.attention.head_count_kv': 8,
      'qwen2.context_length': 32768,
      'qwen2.embedding_length': 5120,
    });
    expect(Object.keys(info.model_info)).toEqual([...Object.keys(info.model_info)].sort());
    expect(info.capabilities).toEqual(['completion']);
    expect(info.details.quantization_level).toBe('Q4_K_M');
    expect(info.template).toContain('<|im_start|>');
  });

  it('model_info has what the fit estimate reads, named as GGUF names it; key_length only where the head size needs it', async () => {
    await node.ollama.seedModels(['llama3.1:8b', 'mistral-nemo:12b', 'nomic-embed-text']);
    const llama = (await node.client().show({ model: 'llama3.1:8b' })).model_info as unknown as Record<string, unknown>;
    expect(llama).toMatchObject({
      'general.architecture': 'llama', 'llama.block_count': 32, 'llama.attention.head_count': 32, 'llama.attention.head_count_kv': 8,
      'llama.embedding_length': 4096, 'llama.context_length': 131072, 'general.file_type': 15,
    });
    // A real count, not a round one: format.HumanNumber of it is the registry's "8.0B".
    expect(llama['general.parameter_count']).toBeGreaterThan(8.0e9);
    expect(llama['general.parameter_count']).toBeLessThan(8.05e9);
    expect(llama).not.toHaveProperty('llama.attention.key_length');
    const nemo = (await node.client().show({ model: 'mistral-nemo:12b' })).model_info as unknown as Record<string, unknown>;
    expect(nemo).toMatchObject({ 'llama.embedding_length': 5120, 'llama.attention.head_count': 32, 'llama.attention.key_length': 128, 'llama.attention.value_length': 128 });
    // An embedding model: pooling type, no template layer (the default template), embedding capability.
    const nomic = await node.client().show({ model: 'nomic-embed-text' });
    expect(nomic.model_info).toMatchObject({ 'general.architecture': 'nomic-bert', 'nomic-bert.pooling_type': 1, 'nomic-bert.embedding_length': 768 });
    expect(nomic.template).toBe('{{ .Prompt }}');
    expect(nomic.capabilities).toEqual(['embedding']);
    expect(nomic.details).toMatchObject({ family: 'nomic-bert', parameter_size: '137M', quantization_level: 'F16' });
  });

  it('lists capabilities and the GGUF context and embedding lengths in /api/tags', async () => {
    await node.ollama.seedModels(['llama3.2:3b', 'nomic-embed-text']);
    const raw = JSON.parse((await request(`${node.url()}/api/tags`, 'GET')).text) as { models: Array<Record<string, unknown>> };
    const byName: Record<string, Record<string, unknown>> = Object.fromEntries(raw.models.map((m) => [String(m.name), m]));
    expect(byName['llama3.2:3b']).toMatchObject({ capabilities: ['completion'], details: { context_length: 131072, embedding_length: 3072 } });
    expect(byName['nomic-embed-text:latest']).toMatchObject({ capabilities: ['embedding'], details: { context_length: 2048, embedding_length: 768 } });
    expect(Object.keys(byName['llama3.2:3b'] ?? {})).toEqual(['name', 'model', 'modified_at', 'size', 'digest', 'details', 'capabilities']);
  });

  it('throws ResponseError 404 naming the model with its tag', async () => {
    const err = await node.client().show({ model: 'nope' }).catch((e: unknown) => e);
    // The client's ResponseError (not exported by the package) carries the server's message and status.
    expect(err).toMatchObject({ name: 'ResponseError' });
    expect(err).toMatchObject({ status_code: 404, error: "model 'nope:latest' not found" });
  });

  it('accepts `name` as older clients send it, and escapes < > like Go', async () => {
    await node.ollama.seedModels(['llama3.1:8b']);
    const res = await request(`${node.url()}/api/show`, 'POST', { name: 'llama3.1:8b' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('\\u003c|start_header_id|\\u003e');
    expect((await request(`${node.url()}/api/show`, 'POST', '')).text).toBe('{"error":"missing request body"}');
  });
});

describe('pull', () => {
  it('streams progress: manifest, several lines per big layer, verify, write, success', async () => {
    const lines: ProgressResponse[] = [];
    for await (const p of await node.client().pull({ model: 'llama3.2:3b', stream: true })) lines.push(p);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.slice(-3).map((l) => l.status)).toEqual(['verifying sha256 digest', 'writing manifest', 'success']);
    const weights = lines.filter((l) => l.digest === lines[1]?.digest);
    expect(weights.length).toBeGreaterThanOrEqual(4);
    expect(weights[0]).toEqual({ status: `pulling ${weights[0]?.digest.slice(7, 19)}`, digest: weights[0]?.digest, total: weights[0]?.total });
    expect(weights.at(-1)?.completed).toBe(weights[0]?.total);
    const totals = new Map(lines.filter((l) => l.digest).map((l) => [l.digest, l.total]));
    expect([...totals.values()].reduce((a, b) => a + b, 0)).toBe(2019393189);
    expect((await node.client().list()).models.map((m) => m.name)).toEqual(['llama3.2:3b']);
    expect(node.ollama.usedBytes()).toBeGreaterThanOrEqual(2019393189);
  });

  it('with stream:false answers one final object', async () => {
    expect(await node.client().pull({ model: 'nomic-embed-text', stream: false })).toEqual({ status: 'success' });
    expect((await node.client().list()).models[0]?.name).toBe('nomic-embed-text:latest');
  });

  it('reports an unknown model inside the stream, and as 500 without streaming', async () => {
    const stream = await node.client().pull({ model: 'no-such-model', stream: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const p of stream) seen.push(p.status);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['pulling manifest']);
    expect((err as Error).message).toBe('pull model manifest: file does not exist');
    const res = await request(`${node.url()}/api/pull`, 'POST', { model: 'no-such-model', stream: false });
    expect(res).toMatchObject({ status: 500, text: '{"error":"pull model manifest: file does not exist"}' });
  });

  it('a second pull of a present model reports every layer as already complete', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const lines: ProgressResponse[] = [];
    for await (const p of await node.client().pull({ model: 'llama3.2:3b', stream: true })) lines.push(p);
    for (const l of lines.filter((x) => x.digest)) expect(l.completed).toBe(l.total);
  });
});

describe('delete', () => {
  it('answers 200 with an empty body and frees the blobs', async () => {
    await node.ollama.seedModels(['llama3.1:8b']);
    const res = await request(`${node.url()}/api/delete`, 'DELETE', { model: 'llama3.1:8b' });
    expect(res).toMatchObject({ status: 200, text: '' });
    expect(await node.client().list()).toEqual({ models: [] });
    expect(node.ollama.usedBytes()).toBe(0);
  });

  it('keeps blobs another model still uses', async () => {
    await node.ollama.seedModels(['llama3.1:8b', 'llama3.1:70b']);
    await node.client().delete({ model: 'llama3.1:70b' });
    const info = await node.client().show({ model: 'llama3.1:8b' });
    expect(info.license).toContain('llama3.1 license');
  });

  it('404s with the name exactly as sent', async () => {
    const err = await node.client().delete({ model: 'ghost' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status_code: 404, error: "model 'ghost' not found" });
  });
});

describe('generate and embed', () => {
  it('answers a one-token probe without streaming and loads the model into /api/ps', async () => {
    await node.ollama.seedModels(['llama3.1:8b']);
    const res = await node.client().generate({ model: 'llama3.1:8b', prompt: 'ping', stream: false, options: { num_predict: 1 } });
    expect(res).toMatchObject({ model: 'llama3.1:8b', done: true, done_reason: 'length', eval_count: 1 });
    expect(res.response).not.toBe('');
    expect(res.total_duration).toBeGreaterThan(res.load_duration);
    const { models } = await node.client().ps();
    expect(models).toHaveLength(1);
    const ps = models[0];
    expect(ps).toMatchObject({ name: 'llama3.1:8b', context_length: 8192 });
    expect(ps?.size_vram).toBe(ps?.size);
    const until = new Date(ps?.expires_at ?? 0).getTime() - Date.now();
    expect(until).toBeGreaterThan(23.9 * 3_600_000);
    expect(until).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('streams tokens and ends with done:true and the timings', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const parts: GenerateResponse[] = [];
    for await (const p of await node.client().generate({ model: 'llama3.2:3b', prompt: 'ping', stream: true })) parts.push(p);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', response: '' });
    expect(parts.slice(0, -1).every((p) => !p.done)).toBe(true);
  });

  it('refuses generate on an embedding model with 400, and a missing model with 404', async () => {
    await node.ollama.seedModels(['nomic-embed-text']);
    const err = await node.client().generate({ model: 'nomic-embed-text', prompt: 'ping', stream: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status_code: 400, error: '"nomic-embed-text" does not support generate' });
    const missing = await node.client().generate({ model: 'llama3.1:8b', prompt: 'x', stream: false }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status_code: 404, error: "model 'llama3.1:8b' not found" });
  });

  it('embeds into 768 unit-length floats for nomic-embed-text', async () => {
    await node.ollama.seedModels(['nomic-embed-text']);
    const res = await node.client().embed({ model: 'nomic-embed-text', input: 'ping' });
    expect(res.model).toBe('nomic-embed-text');
    expect(res.embeddings).toHaveLength(1);
    const v = res.embeddings[0] ?? [];
    expect(v).toHaveLength(768);
    expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-4);
    const again = await node.client().embed({ model: 'nomic-embed-text', input: ['ping', 'pong'] });
    expect(again.embeddings[0]).toEqual(v);
    expect(again.embeddings[1]).not.toEqual(v);
  });

  it('unloads with keep_alive 0 and an empty prompt', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    await node.client().generate({ model: 'llama3.2:3b', prompt: 'x', stream: false });
    const res = await node.client().generate({ model: 'llama3.2:3b', prompt: '', keep_alive: 0, stream: false });
    expect(res).toMatchObject({ done: true, done_reason: 'unload' });
    expect((await node.client().ps()).models).toEqual([]);
  });
});

describe('faults', () => {
  it('answers 500 on every /api/* while ollama-500 is set; / still says running', async () => {
    node.ollama.setFault('ollama-500', { message: 'llama runner process has terminated: signal: killed' });
    const err = await node.client().list().catch((e: unknown) => e);
    expect(err).toMatchObject({ status_code: 500, error: 'llama runner process has terminated: signal: killed' });
    expect((await request(`${node.url()}/`, 'GET')).status).toBe(200);
    node.ollama.clearFault('ollama-500');
    expect(await node.client().list()).toEqual({ models: [] });
  });

  it('slow adds latency to each answer', async () => {
    node.ollama.setFault('slow', { delayMs: 150 });
    const t0 = Date.now();
    await node.client().version();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});
