// /api/copy and /api/create through the official client: what they write to
// the content-addressed store is what /api/tags, /api/show, /api/delete and
// the `ollama list` stand-in see (server/routes.go CopyHandler, server/create.go).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProgressResponse } from 'ollama';
import { OLLAMA_CLI_PATH } from '../../reconciler/src/sim/ollama/index.ts';
import { request, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode;

beforeEach(async () => {
  node = await startTestNode();
});

afterEach(async () => {
  await node.cleanup();
});

const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => ({ resolved: true }), (e: unknown) => e);

function manifestOf(name: string, tag: string, namespace = 'library'): { config: { digest: string }; layers: Array<{ mediaType: string; digest: string; size: number; from?: string }> } {
  return JSON.parse(readFileSync(join(node.ollama.modelsDir(), 'manifests', 'registry.ollama.ai', namespace, name, tag), 'utf8')) as never;
}

/** The `ollama` stand-in; async, since the server shares this process. */
function ollamaCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  node.writeNodeEnv();
  return new Promise((resolve) => {
    execFile('/bin/sh', [OLLAMA_CLI_PATH, ...args], { env: { HOME: node.home, SIM_STATE: node.stateDir, PATH: '/usr/bin:/bin:/usr/sbin:/sbin' } }, (err, stdout, stderr) => {
      resolve({ code: err && typeof err.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

const ollamaList = async (): Promise<string> => (await ollamaCli(['list'])).stdout;

describe('copy', () => {
  it('answers 200 with an empty body and writes a manifest of the same bytes that every reader sees', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const res = await request(`${node.url()}/api/copy`, 'POST', { source: 'llama3.2:3b', destination: 'backup' });
    expect(res).toMatchObject({ status: 200, text: '' });
    const { models } = await node.client().list();
    expect(models.map((m) => m.name).sort()).toEqual(['backup:latest', 'llama3.2:3b']);
    const [a, b] = [models.find((m) => m.name === 'backup:latest'), models.find((m) => m.name === 'llama3.2:3b')];
    expect(a?.digest).toBe(b?.digest);
    expect(a?.size).toBe(b?.size);
    expect(manifestOf('backup', 'latest')).toEqual(manifestOf('llama3.2', '3b'));
    const shown = await node.client().show({ model: 'backup' });
    // The client types model_info as a Map; on the wire it is a JSON object.
    expect(shown.model_info).toMatchObject({ 'general.architecture': 'llama', 'llama.block_count': 28 });
    expect(await ollamaList()).toMatch(/^backup:latest\s+[0-9a-f]{12}\s+2\.0 GB\s/m);
    // The copy chats like its source.
    expect(await node.client().chat({ model: 'backup', messages: [{ role: 'user', content: 'x' }], stream: false })).toMatchObject({ model: 'backup', done: true });
  });

  it('`ollama cp` copies through the API and prints what cmd.go prints', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    expect(await ollamaCli(['cp', 'llama3.2:3b', 'spare'])).toEqual({ code: 0, stdout: "copied 'llama3.2:3b' to 'spare'\n", stderr: '' });
    expect(await ollamaList()).toMatch(/^spare:latest\s/m);
    expect(await ollamaCli(['cp', 'ghost', 'x'])).toEqual({ code: 1, stdout: '', stderr: 'Error: model "ghost" not found\n' });
    expect(await ollamaCli(['cp', 'llama3.2:3b'])).toMatchObject({ code: 1, stderr: 'Error: accepts 2 arg(s), received 1\n' });
  });

  it('delete of the copy keeps the blobs the source still lists', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    await node.client().copy({ source: 'llama3.2:3b', destination: 'me/mine:v1' });
    expect((await node.client().list()).models.map((m) => m.name).sort()).toEqual(['llama3.2:3b', 'me/mine:v1']);
    await node.client().delete({ model: 'me/mine:v1' });
    expect((await node.client().list()).models.map((m) => m.name)).toEqual(['llama3.2:3b']);
    expect((await node.client().show({ model: 'llama3.2:3b' })).license).toContain('llama3.2 license');
  });

  it('errors: unknown source 404 quoted as %q, invalid names 400, missing body 400', async () => {
    const missing = await failure(node.client().copy({ source: 'ghost', destination: 'x' }));
    expect(missing).toMatchObject({ name: 'ResponseError', status_code: 404, error: 'model "ghost" not found' });
    expect(await failure(node.client().copy({ source: 'a b', destination: 'x' }))).toMatchObject({ status_code: 400, error: 'source "a b" is invalid' });
    await node.ollama.seedModels(['llama3.2:3b']);
    expect(await failure(node.client().copy({ source: 'llama3.2:3b', destination: '' }))).toMatchObject({ status_code: 400, error: 'destination "" is invalid' });
    expect(await request(`${node.url()}/api/copy`, 'POST', '')).toMatchObject({ status: 400, text: '{"error":"missing request body"}' });
    // CopyModel compares the paths before it opens the source: a copy onto itself is fine, even of nothing.
    expect(await request(`${node.url()}/api/copy`, 'POST', { source: 'ghost', destination: 'ghost:latest' })).toMatchObject({ status: 200, text: '' });
  });
});

describe('create', () => {
  it('streams one status per layer, then writing manifest and success; the new model reuses the source\'s blobs', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const lines: ProgressResponse[] = [];
    const stream = await node.client().create({ model: 'mario', from: 'llama3.2:3b', system: 'You are Mario.', parameters: { temperature: 0.7 }, stream: true });
    for await (const p of stream) lines.push(p);
    const source = manifestOf('llama3.2', '3b');
    const created = manifestOf('mario', 'latest');
    const statuses = lines.map((l) => l.status);
    expect(statuses.slice(0, 3)).toEqual(source.layers.filter((l) => !l.mediaType.endsWith('.params')).map((l) => `using existing layer ${l.digest}`));
    expect(statuses[3]).toMatch(/^creating new layer sha256:[0-9a-f]{64}$/);
    expect(statuses[4]).toMatch(/^creating new layer sha256:[0-9a-f]{64}$/);
    expect(statuses.slice(5)).toEqual(['writing manifest', 'success']);
    expect(lines.every((l) => Object.keys(l).length === 1)).toBe(true);
    // Layers: the source's (from it), then system, then the merged params.
    expect(created.layers.map((l) => l.mediaType.split('.').pop())).toEqual(['model', 'template', 'license', 'system', 'params']);
    expect(created.layers.slice(0, 3).every((l) => l.from === 'llama3.2:3b')).toBe(true);
    expect(created.layers[0]?.digest).toBe(source.layers[0]?.digest);
    expect(created.config.digest).not.toBe(source.config.digest);

    const shown = await node.client().show({ model: 'mario' });
    expect(shown.system).toBe('You are Mario.');
    expect(shown.parameters).toContain('temperature                    0.7');
    expect(shown.parameters).toContain('stop                           "<|eot_id|>"');
    expect(shown.details).toMatchObject({ parent_model: 'llama3.2:3b', format: 'gguf', family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M' });
    expect(shown.model_info).toMatchObject({ 'llama.embedding_length': 3072 });
    const listed = (await node.client().list()).models.find((m) => m.name === 'mario:latest');
    expect(listed?.details.parent_model).toBe('llama3.2:3b');
    expect(await ollamaList()).toMatch(/^mario:latest\s/m);
    expect(await node.client().chat({ model: 'mario', messages: [{ role: 'user', content: 'hi' }], stream: false })).toMatchObject({ done: true });
  });

  it('with stream:false answers only {"status":"success"} as application/json', async () => {
    await node.ollama.seedModels(['nomic-embed-text']);
    const res = await request(`${node.url()}/api/create`, 'POST', { model: 'embedder', from: 'nomic-embed-text', stream: false });
    expect(res).toEqual({ status: 200, type: 'application/json', text: '{"status":"success"}' });
    expect((await node.client().show({ model: 'embedder' })).capabilities).toEqual(['embedding']);
    // A second create of the same thing finds every blob already there.
    const again: ProgressResponse[] = [];
    for await (const p of await node.client().create({ model: 'embedder', from: 'nomic-embed-text', stream: true })) again.push(p);
    expect(again.filter((l) => l.status.startsWith('creating new layer'))).toEqual([]);
  });

  it('re-creating a model removes the blobs only its old manifest listed (unless OLLAMA_NOPRUNE)', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    const systemBlob = (): string => {
      const layer = manifestOf('mario', 'latest').layers.find((l) => l.mediaType.endsWith('.system'));
      return join(node.ollama.modelsDir(), 'blobs', (layer?.digest ?? '').replace(':', '-'));
    };
    await node.client().create({ model: 'mario', from: 'llama3.2:3b', system: 'First.' });
    const first = systemBlob();
    await node.client().create({ model: 'mario', from: 'llama3.2:3b', system: 'Second.' });
    expect(existsSync(first)).toBe(false);
    expect((await node.client().show({ model: 'mario' })).system).toBe('Second.');
    await node.server.restart({ OLLAMA_NOPRUNE: '1' });
    await node.client().version().catch(() => undefined);
    const second = systemBlob();
    await node.client().create({ model: 'mario', from: 'llama3.2:3b', system: 'Third.' });
    expect(existsSync(second)).toBe(true);
  });

  it('pulls a source the node does not have, then creates from it', async () => {
    const lines: ProgressResponse[] = [];
    for await (const p of await node.client().create({ model: 'small', from: 'llama3.2:3b', stream: true })) lines.push(p);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.map((l) => l.status)).toContain('verifying sha256 digest');
    expect(lines.slice(-2).map((l) => l.status)).toEqual(['writing manifest', 'success']);
    expect((await node.client().list()).models.map((m) => m.name).sort()).toEqual(['llama3.2:3b', 'small:latest']);
  });

  it('an unknown `from` fails as its pull does: in the stream, or 500 without streaming; nothing is written', async () => {
    const stream = await node.client().create({ model: 'x', from: 'no-such-model', stream: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const p of stream) seen.push(p.status);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['pulling manifest']);
    expect((err as Error).message).toBe('pull model manifest: file does not exist');
    const res = await request(`${node.url()}/api/create`, 'POST', { model: 'x', from: 'no-such-model', stream: false });
    expect(res).toMatchObject({ status: 500, text: '{"error":"pull model manifest: file does not exist"}' });
    expect(await node.client().list()).toEqual({ models: [] });
  });

  it('errors before streaming: invalid names, no source, a bad template', async () => {
    await node.ollama.seedModels(['llama3.2:3b']);
    expect(await failure(node.client().create({ model: 'bad name', from: 'llama3.2:3b' }))).toMatchObject({ status_code: 400, error: 'invalid model name' });
    expect(await failure(node.client().create({ model: 'x', from: 'bad name' }))).toMatchObject({ status_code: 400, error: 'invalid model name' });
    expect(await failure(node.client().create({ model: 'x' }))).toMatchObject({ status_code: 400, error: "neither 'from' or 'files' was specified" });
    const tmpl = await failure(node.client().create({ model: 'x', from: 'llama3.2:3b', template: '{{ .Prompt ' }));
    expect(tmpl).toMatchObject({ status_code: 400, error: 'template error: template: :1: unclosed action' });
  });
});
