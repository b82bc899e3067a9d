// The status code and `{"error": ...}` of every route for bad bodies,
// missing and unknown model names, as server/routes.go and create.go answer
// them (gin's ShouldBindJSON + encoding/json, modelref.ParseRef, each
// handler's own message). Raw HTTP for the exact bytes, the official client
// for ResponseError's status_code and error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
  await node.ollama.seedModels(['llama3.2:3b']);
});

afterAll(async () => {
  await node.cleanup();
});

type Route = 'generate' | 'chat' | 'embed' | 'embeddings' | 'show' | 'delete' | 'pull' | 'copy' | 'create';
const ROUTES: Route[] = ['generate', 'chat', 'embed', 'embeddings', 'show', 'delete', 'pull', 'copy', 'create'];
const STRUCTS: Record<Route, string> = {
  generate: 'GenerateRequest', chat: 'ChatRequest', embed: 'EmbedRequest', embeddings: 'EmbeddingRequest', show: 'ShowRequest',
  delete: 'DeleteRequest', pull: 'PullRequest', copy: 'CopyRequest', create: 'CreateRequest',
};

async function call(route: Route, body: unknown): Promise<{ status: number; type: string; text: string }> {
  return request(`${node.url()}/api/${route}`, route === 'delete' ? 'DELETE' : 'POST', body);
}

const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => ({ resolved: true }), (e: unknown) => e);

describe('bodies gin cannot bind', () => {
  it.each(ROUTES)('%s: empty, broken, cut and wrong-kind bodies are 400 with encoding/json\'s words', async (route) => {
    const expectError = async (body: unknown, error: string): Promise<void> => {
      const res = await call(route, body);
      expect(res.status).toBe(400);
      expect(res.type).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.text)).toEqual({ error });
    };
    await expectError('', 'missing request body');
    await expectError('  \n', 'missing request body');
    await expectError('{bad', "invalid character 'b' looking for beginning of object key string");
    await expectError('{"model":', 'unexpected EOF');
    await expectError('{"model" "x"}', `invalid character '"' after object key`);
    await expectError('{"model":"x",}', "invalid character '}' looking for beginning of object key string");
    await expectError('{"model":"x" "y"}', `invalid character '"' after object key:value pair`);
    await expectError('{"model":tru}', "invalid character '}' in literal true (expecting 'e')");
    await expectError('[]', `json: cannot unmarshal array into Go value of type api.${STRUCTS[route]}`);
    await expectError('"x"', `json: cannot unmarshal string into Go value of type api.${STRUCTS[route]}`);
    const field = route === 'copy' ? 'source' : 'model';
    await expectError({ [field]: 5 }, `json: cannot unmarshal number into Go struct field ${STRUCTS[route]}.${field} of type string`);
  });

  it('checks field types by the struct, keys ignoring case, custom decoders for keep_alive, think and messages', async () => {
    const chat = async (body: unknown): Promise<unknown> => JSON.parse((await call('chat', body)).text) as unknown;
    expect(await chat({ model: 'llama3.2:3b', stream: 'no' })).toEqual({ error: 'json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool' });
    expect(await chat({ model: 'llama3.2:3b', messages: 'hi' })).toEqual({ error: 'json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message' });
    expect(await chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 5 }] })).toEqual({ error: 'json: cannot unmarshal number into Go struct field Alias.content of type string' });
    expect(await chat({ model: 'llama3.2:3b', keep_alive: '5' })).toEqual({ error: 'time: missing unit in duration "5"' });
    expect(await chat({ model: 'llama3.2:3b', keep_alive: true })).toEqual({ error: "Unsupported type: 'bool'" });
    expect(await chat({ model: 'llama3.2:3b', think: 'hard' })).toEqual({ error: 'invalid think value: "hard" (must be "high", "medium", "low", "max", true, or false)' });
    expect(await chat({ model: 'llama3.2:3b', top_logprobs: 21 })).toEqual({ error: 'top_logprobs must be between 0 and 20' });
    // Go matches JSON keys to fields ignoring case; only the first value is read.
    const loaded = await call('chat', '{"MODEL":"llama3.2:3b","Stream":false} trailing bytes are never read');
    expect(loaded.status).toBe(200);
    expect(JSON.parse(loaded.text)).toMatchObject({ model: 'llama3.2:3b', done_reason: 'load' });
    // `null` binds to an empty request.
    expect(JSON.parse((await call('show', 'null')).text)).toEqual({ error: 'model is required' });
  });
});

describe('missing, blank and invalid model names', () => {
  const cases: Array<[Route, unknown, number, string]> = [
    ['generate', { model: '' }, 404, "model '' not found"],
    ['chat', { model: '' }, 400, 'model is required'],
    ['embed', { model: '' }, 404, "model '' not found"],
    ['embeddings', { model: '' }, 400, 'model is required'],
    ['show', { model: '' }, 400, 'model is required'],
    ['show', { model: '   ' }, 400, 'model is required'],
    ['delete', { model: '' }, 400, 'model is required'],
    ['pull', { model: '' }, 400, 'invalid model name'],
    ['copy', { source: '', destination: 'x' }, 400, 'source "" is invalid'],
    ['create', { from: 'llama3.2:3b' }, 400, 'invalid model name'],
    ['generate', { model: 'x:' }, 400, 'invalid model name'],
    ['chat', { model: 'a/b/c/d' }, 400, 'invalid model name'],
    ['embed', { model: 'bad name' }, 400, 'invalid model name'],
    ['show', { model: 'x@sha256:abc' }, 400, 'invalid model name'],
    ['delete', { model: 'x:' }, 400, 'name "x:" is invalid'],
    ['chat', { model: 'a:cloud:local' }, 400, 'use either :local or :cloud, not both: "a:cloud:local"'],
  ];
  it.each(cases)('%s %j -> %i %s', async (route, body, status, error) => {
    const res = await call(route, body);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text)).toEqual({ error });
  });
});

describe('unknown models', () => {
  const cases: Array<[Route, unknown, number, string]> = [
    ['generate', { model: 'ghost' }, 404, "model 'ghost' not found"],
    ['chat', { model: 'ghost', messages: [] }, 404, "model 'ghost' not found"],
    ['embed', { model: 'ghost', input: 'x' }, 404, 'model "ghost" not found, try pulling it first'],
    ['embeddings', { model: 'ghost', prompt: 'x' }, 404, 'model "ghost" not found, try pulling it first'],
    ['show', { model: 'ghost' }, 404, "model 'ghost:latest' not found"],
    ['show', { model: 'someone/ghost:v2' }, 404, "model 'someone/ghost:v2' not found"],
    ['delete', { model: 'ghost' }, 404, "model 'ghost' not found"],
    ['copy', { source: 'ghost', destination: 'x' }, 404, 'model "ghost" not found'],
    // The local suffix is dropped before the lookup; the message keeps the name as sent.
    ['chat', { model: 'ghost:local' }, 404, "model 'ghost:local' not found"],
  ];
  it.each(cases)('%s %j -> %i %s', async (route, body, status, error) => {
    const res = await call(route, body);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text)).toEqual({ error });
  });

  it('the official client raises ResponseError with status_code and error on every route', async () => {
    const c = node.client();
    const shapes = await Promise.all([
      failure(c.generate({ model: 'ghost', prompt: 'x' })),
      failure(c.chat({ model: 'ghost', messages: [{ role: 'user', content: 'x' }] })),
      failure(c.embed({ model: 'ghost', input: 'x' })),
      failure(c.embeddings({ model: 'ghost', prompt: 'x' })),
      failure(c.show({ model: 'ghost' })),
      failure(c.delete({ model: 'ghost' })),
      failure(c.copy({ source: 'ghost', destination: 'x' })),
      failure(c.create({ model: 'bad name', from: 'llama3.2:3b' })),
      failure(c.pull({ model: '' })),
    ]);
    expect(shapes.map((e) => [(e as { name?: string }).name, (e as { status_code?: number }).status_code, (e as { error?: string }).error])).toEqual([
      ['ResponseError', 404, "model 'ghost' not found"],
      ['ResponseError', 404, "model 'ghost' not found"],
      ['ResponseError', 404, 'model "ghost" not found, try pulling it first'],
      ['ResponseError', 404, 'model "ghost" not found, try pulling it first'],
      ['ResponseError', 404, "model 'ghost:latest' not found"],
      ['ResponseError', 404, "model 'ghost' not found"],
      ['ResponseError', 404, 'model "ghost" not found'],
      ['ResponseError', 400, 'invalid model name'],
      ['ResponseError', 400, 'invalid model name'],
    ]);
  });

  it('wrong methods are gin\'s 405 in plain text', async () => {
    for (const path of ['chat', 'embeddings', 'copy', 'create']) {
      expect(await request(`${node.url()}/api/${path}`, 'GET')).toMatchObject({ status: 405, text: '405 method not allowed' });
    }
  });
});
