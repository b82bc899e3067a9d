// A model placed in the store by another process (as a LAN copy would),
// while the server runs. What the real server does, from its source:
//   /api/tags re-reads manifests/*/*/*/* on every call (manifest.Manifests via
//   modelListCache.syncManifests), so a new manifest is listed at once; it
//   builds an entry from the config and template blobs (missing: not listed)
//   and keeps it, per manifest digest, until the manifest changes or the
//   server restarts. /api/show and inference open the manifest at the name's
//   path each time (ParseNamedManifest). `ollama serve` prunes blobs that no
//   manifest lists and that are an hour old, at start (PruneLayers).
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync, copyFileSync, existsSync, closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request, startTestNode, type TestNode } from './sim-node.ts';

const MEDIA_MODEL = 'application/vnd.ollama.image.model';
const MEDIA_CONFIG = 'application/vnd.docker.container.image.v1+json';
const MEDIA_TEMPLATE = 'application/vnd.ollama.image.template';

interface Manifest {
  config: { mediaType: string; digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

let source: TestNode;
let node: TestNode;

beforeEach(async () => {
  [source, node] = await Promise.all([startTestNode(), startTestNode()]);
  await source.ollama.seedModels(['llama3.2:3b', 'nomic-embed-text']);
});

afterEach(async () => {
  await Promise.all([source.cleanup(), node.cleanup()]);
});

const manifestPath = (n: TestNode, model: string, tag: string): string => join(n.ollama.modelsDir(), 'manifests', 'registry.ollama.ai', 'library', model, tag);
const blobPath = (n: TestNode, digest: string): string => join(n.ollama.modelsDir(), 'blobs', digest.replace(':', '-'));

/**
 * Copies a model's blobs from `source` into `node`'s store behind the
 * server's back (the weights as a sparse file of their size), except those
 * of the media types in `skip`; then its manifest, written to a dot-named
 * temp file and renamed into place. Returns the manifest.
 */
function placeModel(model: string, tag: string, options: { skip?: string[]; as?: [string, string]; manifest?: boolean } = {}): Manifest {
  const bytes = readFileSync(manifestPath(source, model, tag));
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  mkdirSync(join(node.ollama.modelsDir(), 'blobs'), { recursive: true });
  for (const layer of [...manifest.layers, manifest.config]) {
    if (options.skip?.includes(layer.mediaType)) continue;
    const to = blobPath(node, layer.digest);
    if (layer.mediaType === MEDIA_MODEL) {
      closeSync(openSync(to, 'w'));
      truncateSync(to, layer.size);
    } else copyFileSync(blobPath(source, layer.digest), to);
  }
  if (options.manifest !== false) {
    const [name, t] = options.as ?? [model, tag];
    const dest = manifestPath(node, name, t);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(join(dirname(dest), `.${t}.tmp`), bytes);
    renameSync(join(dirname(dest), `.${t}.tmp`), dest);
  }
  return manifest;
}

const names = async (n: TestNode = node): Promise<string[]> => (await n.client().list()).models.map((m) => m.name).sort();

/** A restart closes the client's kept-alive socket; like any client, the first call may need a retry. */
async function restart(env: Record<string, string> = {}): Promise<void> {
  await node.server.restart(env);
  await names().catch(() => undefined);
}
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => ({ resolved: true }), (e: unknown) => e);

describe('a model placed on disk while the server runs', () => {
  it('is listed by the next /api/tags, shown, and chatted with, without a restart', async () => {
    expect(await names()).toEqual([]);
    placeModel('llama3.2', '3b');
    expect(await names()).toEqual(['llama3.2:3b']);
    const listed = (await node.client().list()).models[0];
    const original = (await source.client().list()).models.find((m) => m.name === 'llama3.2:3b');
    expect(listed).toMatchObject({ digest: original?.digest, size: original?.size, capabilities: ['completion'], details: { context_length: 131072, embedding_length: 3072 } });
    expect((await node.client().show({ model: 'llama3.2:3b' })).details.family).toBe('llama');
    expect(await node.client().chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'ping' }], stream: false })).toMatchObject({ done: true });
  });

  it('blobs alone are not a model; a dot-named temp manifest is not listed, but any valid tag name is', async () => {
    const manifest = placeModel('llama3.2', '3b', { manifest: false });
    expect(await names()).toEqual([]);
    const dir = dirname(manifestPath(node, 'llama3.2', '3b'));
    mkdirSync(dir, { recursive: true });
    // ParseNameFromFilepath: a tag must start with a letter, digit or _, so `.3b.tmp` is skipped...
    writeFileSync(join(dir, '.3b.tmp'), JSON.stringify(manifest));
    expect(await names()).toEqual([]);
    // ...while `3b.partial` is a valid tag: a temp file named so would be listed as a model.
    writeFileSync(join(dir, '3b.partial'), JSON.stringify(manifest));
    expect(await names()).toEqual(['llama3.2:3b.partial']);
  });

  it('without its config or template blob it is not listed and show says not found', async () => {
    placeModel('nomic-embed-text', 'latest', { skip: [MEDIA_CONFIG] });
    placeModel('llama3.2', '3b', { skip: [MEDIA_TEMPLATE], as: ['other', 'latest'] });
    expect(await names()).toEqual([]);
    expect(await failure(node.client().show({ model: 'nomic-embed-text' }))).toMatchObject({ status_code: 404, error: "model 'nomic-embed-text:latest' not found" });
    expect(await failure(node.client().chat({ model: 'other', messages: [] }))).toMatchObject({ status_code: 404, error: "model 'other' not found" });
  });

  it('without its weights it is listed with no capabilities, show is 404, chat 400, embeddings 404', async () => {
    placeModel('llama3.2', '3b', { skip: [MEDIA_MODEL] });
    placeModel('nomic-embed-text', 'latest', { skip: [MEDIA_MODEL] });
    const { models } = await node.client().list();
    expect(models.map((m) => m.name).sort()).toEqual(['llama3.2:3b', 'nomic-embed-text:latest']);
    expect(models.every((m) => !('capabilities' in m))).toBe(true);
    expect(await failure(node.client().show({ model: 'llama3.2:3b' }))).toMatchObject({ status_code: 404, error: "model 'llama3.2:3b' not found" });
    // GetModel succeeds, but without the GGUF header there is no completion capability.
    expect(await failure(node.client().chat({ model: 'llama3.2:3b', messages: [] }))).toMatchObject({ status_code: 400, error: '"llama3.2:3b" does not support chat' });
    expect(await failure(node.client().generate({ model: 'llama3.2:3b', prompt: 'x' }))).toMatchObject({ status_code: 400, error: '"llama3.2:3b" does not support generate' });
    // The embedding routes check no capability: the load fails on the missing file.
    expect(await failure(node.client().embed({ model: 'nomic-embed-text', input: 'x' }))).toMatchObject({ status_code: 404, error: 'model "nomic-embed-text" not found, try pulling it first' });
  });

  it('a half-written manifest is skipped by /api/tags and is a 500 for show and chat', async () => {
    const manifest = placeModel('llama3.2', '3b', { manifest: false });
    const dest = manifestPath(node, 'llama3.2', '3b');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, JSON.stringify(manifest).slice(0, 100));
    expect(await names()).toEqual([]);
    expect(await request(`${node.url()}/api/show`, 'POST', { model: 'llama3.2:3b' })).toMatchObject({ status: 500, text: '{"error":"unexpected EOF"}' });
    expect(await failure(node.client().chat({ model: 'llama3.2:3b', messages: [] }))).toMatchObject({ status_code: 500, error: 'unexpected EOF' });
  });

  it('a dangling symlink among the manifests makes /api/tags a 500 (Manifests stats every match)', async () => {
    placeModel('llama3.2', '3b');
    const link = manifestPath(node, 'ghost', 'latest');
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(dirname(link), 'nowhere'), link);
    expect(await request(`${node.url()}/api/tags`, 'GET')).toMatchObject({ status: 500, text: JSON.stringify({ error: `stat ${link}: no such file or directory` }) });
    rmSync(link);
    expect(await names()).toEqual(['llama3.2:3b']);
  });

  it('a listed model stays listed when its config blob goes, until the server restarts (list cache per manifest digest)', async () => {
    const manifest = placeModel('llama3.2', '3b');
    expect(await names()).toEqual(['llama3.2:3b']);
    rmSync(blobPath(node, manifest.config.digest));
    expect(await names()).toEqual(['llama3.2:3b']);
    await restart();
    expect(await names()).toEqual([]);
  });
});

describe('what `ollama serve` does to the store when it starts', () => {
  const hoursAgo = (path: string, h: number): void => {
    const t = new Date(Date.now() - h * 3_600_000);
    utimesSync(path, t, t);
  };

  it('removes blobs no manifest lists once they are an hour old, and partial downloads; OLLAMA_NOPRUNE keeps them', async () => {
    const kept = placeModel('llama3.2', '3b');
    const orphan = placeModel('nomic-embed-text', 'latest', { manifest: false });
    const blobs = join(node.ollama.modelsDir(), 'blobs');
    const oldOrphan = blobPath(node, orphan.config.digest);
    const freshOrphan = blobPath(node, orphan.layers[0]?.digest ?? '');
    const partial = join(blobs, `${kept.layers[0]?.digest.replace(':', '-') ?? ''}-partial`);
    writeFileSync(partial, '');
    for (const p of [oldOrphan, partial, blobPath(node, kept.config.digest)]) hoursAgo(p, 2);

    await restart({ OLLAMA_NOPRUNE: 'true' });
    expect([oldOrphan, freshOrphan, partial].every((p) => existsSync(p))).toBe(true);

    await restart({});
    expect(existsSync(oldOrphan)).toBe(false);
    expect(existsSync(partial)).toBe(false);
    // Younger than an hour: kept (layerPruneGracePeriod). Listed by a manifest: kept whatever its age.
    expect(existsSync(freshOrphan)).toBe(true);
    expect(existsSync(blobPath(node, kept.config.digest))).toBe(true);
    expect(await names()).toEqual(['llama3.2:3b']);
  });

  it('skips the prune while any manifest is corrupt, and renames sha256:<hex> blobs to sha256-<hex>', async () => {
    const orphan = placeModel('nomic-embed-text', 'latest', { manifest: false });
    const old = blobPath(node, orphan.config.digest);
    hoursAgo(old, 2);
    const bad = manifestPath(node, 'broken', 'latest');
    mkdirSync(dirname(bad), { recursive: true });
    writeFileSync(bad, '{"layers":');
    const colon = join(node.ollama.modelsDir(), 'blobs', orphan.layers[0]?.digest ?? '');
    renameSync(blobPath(node, orphan.layers[0]?.digest ?? ''), colon);
    await restart({});
    expect(existsSync(old)).toBe(true);
    expect(existsSync(colon)).toBe(false);
    expect(existsSync(blobPath(node, orphan.layers[0]?.digest ?? ''))).toBe(true);
  });
});
