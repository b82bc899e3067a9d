// Where the server listens (OLLAMA_HOST decides: the seed's "not listening
// externally" problem) and what /api/ps says about memory, context and keep-alive.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bindTargetsFor, parseOllamaHost } from '../../reconciler/src/sim/ollama/index.ts';
import { GIB, request, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode | undefined;

afterEach(async () => {
  await node?.cleanup();
  node = undefined;
});

/** 'open' when something accepts a TCP connection, else the error code (ECONNREFUSED). */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

describe('bindTargetsFor', () => {
  it.each([
    [{}, { loopback: true, external: false, port: 11434 }],
    [{ OLLAMA_HOST: '0.0.0.0' }, { loopback: true, external: true, port: 11434 }],
    [{ OLLAMA_HOST: '0.0.0.0:11434' }, { loopback: true, external: true, port: 11434 }],
    [{ OLLAMA_HOST: 'http://0.0.0.0:11434' }, { loopback: true, external: true, port: 11434 }],
    [{ OLLAMA_HOST: ' "0.0.0.0" ' }, { loopback: true, external: true, port: 11434 }],
    [{ OLLAMA_HOST: '127.0.0.1' }, { loopback: true, external: false, port: 11434 }],
    [{ OLLAMA_HOST: 'localhost:11500' }, { loopback: true, external: false, port: 11500 }],
    [{ OLLAMA_HOST: '10.0.1.21' }, { loopback: false, external: true, port: 11434 }],
    [{ OLLAMA_HOST: '10.0.9.99' }, { loopback: false, external: false, port: 11434 }],
  ])('%j -> %j', (env, expected) => {
    expect(bindTargetsFor(env, '10.0.1.21')).toEqual(expected);
  });

  it('reads a scheme without a port as Go does (http means 80)', () => {
    expect(parseOllamaHost({ OLLAMA_HOST: 'http://0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseOllamaHost({ OLLAMA_HOST: ':11435' })).toEqual({ host: '', port: 11435 });
  });
});

describe('SimOllamaServer listening', () => {
  it('answers outside only with OLLAMA_HOST=0.0.0.0, inside always, and keeps its ports across restarts', async () => {
    node = await startTestNode({ externalHost: '127.0.0.2', env: { OLLAMA_HOST: '0.0.0.0' } });
    const inside = node.server.port('loopback');
    const outside = node.server.port('external');
    expect(await probe('127.0.0.2', outside)).toBe('open');
    expect((await node.client(node.server.url('external')).version()).version).toBe('0.12.6');

    await node.server.restart({ OLLAMA_KEEP_ALIVE: '24h' });
    expect(node.server.url('external')).toBeUndefined();
    expect(await probe('127.0.0.2', outside)).toBe('ECONNREFUSED');
    expect(await probe('127.0.0.1', inside)).toBe('open');
    expect(node.server.port('loopback')).toBe(inside);

    await node.server.restart({ OLLAMA_HOST: '0.0.0.0' });
    expect(node.server.port('external')).toBe(outside);
    expect(await probe('127.0.0.2', outside)).toBe('open');
  });

  it('refuses connections when stopped or down, and keeps the models for the next start', async () => {
    node = await startTestNode();
    await node.ollama.seedModels(['llama3.2:3b']);
    const port = node.server.port('loopback');
    await node.server.setDown(true);
    expect(await probe('127.0.0.1', port)).toBe('ECONNREFUSED');
    await node.server.setDown(false);
    expect(await probe('127.0.0.1', port)).toBe('open');
    await node.server.stop();
    expect(node.ollama.isServing()).toBe(false);
    expect(await probe('127.0.0.1', port)).toBe('ECONNREFUSED');
    await node.server.start({});
    expect((await node.client().list()).models.map((m) => m.name)).toEqual(['llama3.2:3b']);
  });
});

describe('/api/ps', () => {
  /** The client's types lack context_length; read it from the raw answer. */
  async function contextOf(n: TestNode): Promise<number | undefined> {
    const raw = JSON.parse((await request(`${n.url()}/api/ps`, 'GET')).text) as { models: Array<{ context_length: number }> };
    return raw.models[0]?.context_length;
  }

  async function load(n: TestNode, model: string): Promise<void> {
    await n.client().generate({ model, prompt: 'ping', stream: false, options: { num_predict: 1 } });
  }

  it('a 64 GB Mac left unpinned loads llama3.1:8b with its full 131072 context', async () => {
    node = await startTestNode({ hardware: { ramBytes: 64 * GIB, metal: true, arch: 'arm64' } });
    await node.ollama.seedModels(['llama3.1:8b']);
    await load(node, 'llama3.1:8b');
    const [m] = (await node.client().ps()).models;
    expect(await contextOf(node)).toBe(131072);
    // 16 GiB of KV cache on top of the weights.
    expect(m?.size).toBeGreaterThan(4920753328 + 16 * GIB);
  });

  it('pins context and parallel slots from the env; 8b at 4096 is about 6 GB, all on the GPU', async () => {
    node = await startTestNode({ env: { OLLAMA_CONTEXT_LENGTH: '4096', OLLAMA_NUM_PARALLEL: '1' } });
    await node.ollama.seedModels(['llama3.1:8b']);
    await load(node, 'llama3.1:8b');
    const [m] = (await node.client().ps()).models;
    expect(await contextOf(node)).toBe(4096);
    expect((m?.size ?? 0) / 1e9).toBeCloseTo(6.2, 1);
    expect(m?.size_vram).toBe(m?.size);
    const until = new Date(m?.expires_at ?? 0).getTime() - Date.now();
    expect(until).toBeGreaterThan(4.9 * 60_000);
    expect(until).toBeLessThanOrEqual(5 * 60_000);
  });

  it('spills a model larger than the GPU share to the CPU; an Intel Mac runs 100% CPU at 4096', async () => {
    node = await startTestNode({ env: { OLLAMA_CONTEXT_LENGTH: '4096' } });
    await node.ollama.seedModels(['llama3.1:70b']);
    await load(node, 'llama3.1:70b');
    const [big] = (await node.client().ps()).models;
    expect(big?.size_vram).toBeGreaterThan(0);
    expect(big?.size_vram).toBeLessThan(big?.size ?? 0);
    await node.cleanup();

    node = await startTestNode({ hardware: { ramBytes: 64 * GIB, metal: false, arch: 'x86_64' } });
    await node.ollama.seedModels(['llama3.1:8b']);
    await load(node, 'llama3.1:8b');
    const [cpu] = (await node.client().ps()).models;
    expect(cpu?.size_vram).toBe(0);
    expect(await contextOf(node)).toBe(4096);
  });

  it('keep-alive -1 is forever (year ~2318); OLLAMA_MAX_LOADED_MODELS evicts the soonest to expire', async () => {
    node = await startTestNode({ env: { OLLAMA_KEEP_ALIVE: '-1', OLLAMA_MAX_LOADED_MODELS: '1' } });
    await node.ollama.seedModels(['llama3.2:3b', 'nomic-embed-text']);
    await load(node, 'llama3.2:3b');
    const [m] = (await node.client().ps()).models;
    expect(new Date(m?.expires_at ?? 0).getUTCFullYear()).toBeGreaterThan(2300);
    await node.client().embed({ model: 'nomic-embed-text', input: 'x' });
    expect((await node.client().ps()).models.map((x) => x.name)).toEqual(['nomic-embed-text:latest']);
  });

  it('a restart unloads everything', async () => {
    node = await startTestNode();
    await node.ollama.seedModels(['llama3.2:3b']);
    await load(node, 'llama3.2:3b');
    await node.server.restart();
    expect((await node.client().ps()).models).toEqual([]);
  });
});
