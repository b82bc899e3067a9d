// fleet catalog add-model: a model's catalog entry from a node's /api/show.
// The pure reading on answers shaped like Ollama's, then the command against
// a simulated Ollama through the official client: facts read back from the
// simulated registry's catalog must equal that catalog's entry.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { modelFactsFromShow, type ShowAnswer } from '../../reconciler/src/catalog/model-facts.ts';
import { loadModelCatalog } from '../../reconciler/src/sim/ollama/index.ts';
import type { ModelFacts } from '../../reconciler/src/schema/fleet.ts';
import { runFleet } from '../cli/run-fleet.ts';
import { startTestNode, type TestNode } from '../sim-ollama/sim-node.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const show = (name: string): ShowAnswer => JSON.parse(readFileSync(join(fixtures, 'catalog', 'api-show', `${name}.json`), 'utf8')) as ShowAnswer;

describe('modelFactsFromShow', () => {
  it('llama3.1:8b: the catalog entry of the reference page, head size from embedding_length / head_count', () => {
    const r = modelFactsFromShow(show('llama3.1-8b'), 4920753328);
    expect(r.missing).toEqual([]);
    expect(r.facts).toEqual({ parameters_b: 8, quantization: 'Q4_K_M', size_bytes: 4920753328, architecture: 'llama', family: 'llama', layers: 32, heads: 32, kv_heads: 8, head_dim: 128, max_context: 131072, kind: 'completion' });
    expect(r.sources).toContain('head_dim: llama.embedding_length / head_count = 4096 / 32 = 128');
  });

  it('gemma2: key_length wins over embedding_length / head_count', () => {
    const r = modelFactsFromShow(show('gemma2-9b'), 5443152417);
    expect(r.facts).toMatchObject({ architecture: 'gemma2', layers: 42, heads: 16, kv_heads: 8, head_dim: 256, embedding_length: 3584, max_context: 8192, parameters_b: 9.2, quantization: 'Q4_0' });
    // llama3.1:8b's 4096 is 32 x 128: not written.
    expect(modelFactsFromShow(show('llama3.1-8b'), 1).facts).not.toHaveProperty('embedding_length');
  });

  it('per-layer head counts: the largest; an embedding-only model is kind embedding; parameter_size when there is no count', () => {
    const r = modelFactsFromShow(show('per-layer-kv-heads'), 274302450);
    expect(r.facts).toMatchObject({ kv_heads: 6, heads: 12, head_dim: 64, kind: 'embedding', parameters_b: 0.137 });
  });

  it('names every missing fact and returns no entry', () => {
    const r = modelFactsFromShow(show('missing-block-count'), undefined);
    expect(r.facts).toBeNull();
    expect(r.missing).toEqual(['model_info llama.block_count', 'size (the model\'s /api/tags entry)']);
  });
});

describe('fleet catalog add-model (against a simulated Ollama)', () => {
  const work = mkdtempSync(join(tmpdir(), 'fleet-add-model-'));
  const upstream = loadModelCatalog(join(import.meta.dirname, '..', '..', 'fleet', 'catalog', 'models.yaml'));
  let node: TestNode;

  beforeAll(async () => {
    node = await startTestNode({ catalog: upstream });
    await node.ollama.seedModels(['mistral-nemo:12b', 'nomic-embed-text']);
    cpSync(join(fixtures, 'fleets', 'base'), join(work, 'fleet'), { recursive: true });
    // The fleet's catalog lacks mistral-nemo:12b, and maestro is told to serve it.
    const catalogFile = join(work, 'fleet', 'catalog', 'models.yaml');
    writeFileSync(catalogFile, readFileSync(catalogFile, 'utf8').replace(/ {2}mistral-nemo:12b:\n( {4}.*\n)+/, ''));
    const maestro = join(work, 'fleet', 'nodes', 'maestro.yaml');
    writeFileSync(maestro, readFileSync(maestro, 'utf8').replace('  - llama3.1:70b\n', '  - llama3.1:70b\n  - mistral-nemo:12b\n'));
    writeFileSync(join(work, 'targets.json'), JSON.stringify({ nodes: { maestro: { addresses: ['127.0.0.1'], ssh_port: 22, user: 'symphony', key_path: '/nonexistent', ollama_url: node.url() } } }));
  }, 60_000);

  afterAll(async () => {
    await node?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('the fleet names a model its catalog lacks: validate fails and says how to add it', async () => {
    const v = await runFleet(['validate', 'fleet'], { cwd: work });
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('`fleet catalog add-model mistral-nemo:12b --from NODE`');
  });

  it('writes the entry from /api/show and /api/tags: the same facts the upstream catalog has; then the fleet validates', async () => {
    const r = await runFleet(['catalog', 'add-model', 'mistral-nemo:12b', '--from', 'maestro', '--targets', 'targets.json'], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('added mistral-nemo:12b to fleet/catalog/models.yaml');
    const written = (parse(readFileSync(join(work, 'fleet', 'catalog', 'models.yaml'), 'utf8')) as { models: Record<string, ModelFacts> }).models['mistral-nemo:12b'];
    const { notes: _notes, ...expected } = upstream['mistral-nemo:12b'] as ModelFacts;
    expect(written).toEqual({ ...expected, family: 'llama' });
    const v = await runFleet(['validate', 'fleet'], { cwd: work });
    expect(v.code).toBe(0);
  });

  it('again: nothing to change; different facts need --replace', async () => {
    const again = await runFleet(['catalog', 'add-model', 'mistral-nemo:12b', '--from', 'maestro', '--targets', 'targets.json'], { cwd: work });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already in fleet/catalog/models.yaml with these facts; nothing to change');
    const file = join(work, 'fleet', 'catalog', 'models.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  nomic-embed-text:latest:\n    parameters_b: 0.137', '  nomic-embed-text:latest:\n    parameters_b: 0.2'));
    const refused = await runFleet(['catalog', 'add-model', 'nomic-embed-text', '--from', 'maestro', '--targets', 'targets.json'], { cwd: work });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nomic-embed-text:latest is already in fleet/catalog/models.yaml and maestro says otherwise: parameters_b 0.2 -> 0.137');
    const replaced = await runFleet(['catalog', 'add-model', 'nomic-embed-text', '--from', 'maestro', '--targets', 'targets.json', '--replace'], { cwd: work });
    expect(replaced.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('  nomic-embed-text:latest:\n    parameters_b: 0.137');
    // The entry's notes stay; the file's header comment too.
    expect(text).toContain('notes: Embeddings only; /api/generate answers 400.');
    expect(text.startsWith('# yaml-language-server')).toBe(true);
  });

  it('a model the node does not have: an error that says what to do, nothing written', async () => {
    const file = join(work, 'fleet', 'catalog', 'models.yaml');
    const before = readFileSync(file, 'utf8');
    const r = await runFleet(['catalog', 'add-model', 'codestral:22b', '--from', 'maestro', '--targets', 'targets.json'], { cwd: work });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/maestro \(http:\/\/127\.0\.0\.1:\d+\) has no model codestral:22b.*Pull it there first/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
