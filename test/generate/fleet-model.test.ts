// The fleet model of issue 12 as the generated files show it: node models
// that replace the role's, workers declared as data (extra workers, settable
// ids), retirement that turns every service off, and added_date.
import { describe, expect, it } from 'vitest';
import { generate, type GeneratedFiles } from '../../reconciler/src/generate/generate.ts';
import { validateGenerated } from '../../reconciler/src/generate/validate-generated.ts';
import { resolveNode } from '../../reconciler/src/load/desired.ts';
import { plan } from '../../reconciler/src/plan/plan.ts';
import type { Worker } from '../../reconciler/src/schema/generated.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { buildDesired, node, seedNodes } from '../plan/build-desired.ts';
import { freshAs, provisioned } from '../plan/build-observed.ts';

const OPTIONS = { lastUpdated: '2026-11-24' };

function worker(f: GeneratedFiles, id: string): Worker {
  const w = f.openclaw_workers.workers.find((x) => x.worker_id === id);
  if (w === undefined) throw new Error(`no worker ${id} in ${f.openclaw_workers.workers.map((x) => x.worker_id).join(', ')}`);
  return w;
}

/** Every node provisioned exactly as fleet/ says. */
function converged(d: ReturnType<typeof buildDesired>): ObservedNode[] {
  return d.nodes.map((n) => provisioned(d, freshAs(d, n.name)));
}

describe('role_models: replace', () => {
  const laptop = node('cadenza', 'llm_worker', 'mac-mini-m4-16gb', { role_models: 'replace', models: ['llama3.2:3b'], presence: 'roaming', addresses: ['cadenza.local', '100.101.102.103'] });
  const d = buildDesired([...seedNodes(), laptop]);

  it('the node\'s models are only its own, not the role\'s base models', () => {
    expect(resolveNode(d, laptop).models).toEqual(['llama3.2:3b']);
    // keep (the default) still adds
    expect(resolveNode(d, { ...laptop, role_models: 'keep' }).models).toEqual(['llama3.1:8b', 'llama3.2:3b', 'mistral:7b', 'nomic-embed-text:latest']);
    const { role_models: _mode, ...keep } = laptop;
    expect(resolveNode(d, keep).models).toEqual(['llama3.1:8b', 'llama3.2:3b', 'mistral:7b', 'nomic-embed-text:latest']);
  });

  it('plan pulls only that model on a fresh node', () => {
    const p = plan(d, [freshAs(d, 'cadenza')], { registryUrl: 'http://192.168.1.10:8765', prune: false, nodes: ['cadenza'], today: '2026-11-24' });
    const pulls = p.nodes.flatMap((n) => n.steps).flatMap((s) => (s.kind === 'pull-model' ? [s.model] : []));
    expect(pulls).toEqual(['llama3.2:3b']);
  });

  it('the registry and the worker list only that model', () => {
    const g = generate(d, converged(d), OPTIONS);
    expect(g.nodes_registry.nodes.find((n) => n.node_id === 'cadenza')?.models_loaded).toEqual(['llama3.2:3b']);
    expect(worker(g, 'cadenza_ollama')).toMatchObject({ models_available: ['llama3.2:3b'], max_concurrent: 4, enabled: true });
  });
});

describe('workers as data', () => {
  const bob = node('bob', 'hq', 'mac-mini-m4-16gb', {
    addresses: ['bob.local', '192.168.1.189'],
    workers: [
      { id: 'bob_ollama', type: 'ollama_remote', priority: 95, max_concurrent: 2, task_types: ['summarize', 'write', 'qa'], models: ['llama3.2:3b'], notes: 'Bob for the rest of the network.' },
    ],
  });
  const maestro = node('maestro', 'llm_worker', 'imac-27-2019-i9-64gb', {
    addresses: ['maestro.local', '192.168.1.20'],
    openclaw: { worker_id: 'maestro_llm', display_name: 'Maestro (CPU)', notes: 'Slow but large.' },
    workers: [
      { id: 'maestro_harpa', type: 'harpa_grid', task_types: ['browser'] },
      { id: 'maestro_tailnet', type: 'ollama_remote', endpoint: 'http://100.64.0.20:11434', task_types: ['reason'], enabled: false },
    ],
  });
  const d = buildDesired([bob, maestro, node('stagehand', 'browser_node', 'imac-intel-i5-8gb', { openclaw: { harpa: { worker_id: 'stagehand_browser', priority: 75 } } })]);
  const g = generate(d, converged(d), OPTIONS);

  it('lists the role\'s default workers, then the node\'s, then the cloud worker', () => {
    expect(g.openclaw_workers.workers.map((w) => w.worker_id)).toEqual(['bob_local', 'bob_ollama', 'maestro_llm', 'maestro_harpa', 'maestro_tailnet', 'stagehand_browser', 'openai_fallback']);
    expect(validateGenerated(g)).toEqual([]);
  });

  it('a second worker on Bob\'s Ollama, reached over the network at Bob\'s IP, with its own settings and models', () => {
    expect(worker(g, 'bob_local')).toMatchObject({ type: 'ollama_local', endpoint: 'http://localhost:11434', priority: 100 });
    // The IP observe saw on Bob's en0 (the fixture's), as in the registry.
    const ip = g.nodes_registry.nodes.find((n) => n.node_id === 'bob')?.ip;
    expect(ip).toBe('192.168.1.40');
    expect(worker(g, 'bob_ollama')).toEqual({
      worker_id: 'bob_ollama', display_name: 'Bob (LLM)', node_id: 'bob', type: 'ollama_remote',
      endpoint: `http://${ip ?? ''}:11434`, priority: 95, max_concurrent: 2,
      models_available: ['llama3.2:3b'], task_types: ['summarize', 'write', 'qa'], enabled: true,
      notes: 'Bob for the rest of the network.',
    });
  });

  it('settable ids and names for the role\'s workers; a HARPA worker on an llm_worker; a given endpoint', () => {
    expect(worker(g, 'maestro_llm')).toMatchObject({ display_name: 'Maestro (CPU)', notes: 'Slow but large.', type: 'ollama_remote' });
    expect(worker(g, 'maestro_harpa')).toMatchObject({ type: 'harpa_grid', endpoint: 'harpa_grid', priority: 70, task_types: ['browser'], enabled: true });
    expect(worker(g, 'maestro_tailnet')).toMatchObject({ endpoint: 'http://100.64.0.20:11434', enabled: false });
    expect(worker(g, 'maestro_tailnet').notes).toContain('disabled: disabled in fleet/');
    expect(worker(g, 'stagehand_browser')).toMatchObject({ priority: 75, task_types: ['browser', 'scrape', 'form_fill'] });
  });

  it('an extra worker advertises only its models that were observed on the node', () => {
    const bare = converged(d).map((o) => (o.node !== 'bob' || !o.facts ? o : { ...o, facts: { ...o.facts, ollama: { ...o.facts.ollama, models: o.facts.ollama.models.filter((m) => !m.name.startsWith('llama3.2')) } } }));
    const h = generate(d, bare, OPTIONS);
    expect(worker(h, 'bob_ollama')).toMatchObject({ models_available: [], enabled: false });
    expect(worker(h, 'bob_ollama').notes).toContain('disabled: none of its models is on the node yet');
    expect(worker(h, 'bob_local')).toMatchObject({ models_available: ['nomic-embed-text'], enabled: true });
  });

  it('a roaming node\'s derived endpoint is the address Bob reached it at', () => {
    const mbp = node('cadenza', 'llm_worker', 'mac-mini-m4-16gb', { role_models: 'replace', models: ['llama3.2:3b'], presence: 'roaming', addresses: ['cadenza.local', '192.168.1.60', '100.101.102.103'] });
    const e = buildDesired([...seedNodes(), mbp]);
    const obs = provisioned(e, freshAs(e, 'cadenza'));
    const away = { ...obs, reach: { ...obs.reach, address: '100.101.102.103' } };
    expect(worker(generate(e, [away], OPTIONS), 'cadenza_ollama').endpoint).toBe('http://100.101.102.103:11434');
    const home = { ...obs, reach: { ...obs.reach, address: 'cadenza.local' } };
    expect(worker(generate(e, [home], OPTIONS), 'cadenza_ollama').endpoint).toBe('http://cadenza.local:11434');
  });
});

describe('retirement, whole', () => {
  const d = buildDesired(seedNodes().map((n) => (n.name === 'maestro' ? { ...n, status: 'retired' as const, retired: '2026-11-01', workers: [{ id: 'maestro_harpa', type: 'harpa_grid' as const, task_types: ['browser'] }] } : n)));
  const g = generate(d, converged(d), OPTIONS);

  it('the registry entry has every service off and no models, and keeps its dates', () => {
    const m = g.nodes_registry.nodes.find((n) => n.node_id === 'maestro');
    expect(m?.services).toEqual({ ollama: false, ollama_port: 11434, ollama_host: '0.0.0.0', docker: false, registry_api: false, harpa: false, openclaw: false });
    expect(m).toMatchObject({ status: 'retired', retired_date: '2026-11-01', added_date: '2026-01-15', models_loaded: [] });
    expect(validateGenerated(g)).toEqual([]);
  });

  it('every one of its workers stays listed, disabled', () => {
    for (const id of ['maestro_ollama', 'maestro_harpa']) {
      expect(worker(g, id)).toMatchObject({ enabled: false, models_available: [] });
      expect(worker(g, id).notes).toContain('disabled: retired on 2026-11-01');
    }
  });
});

describe('dates', () => {
  it('added becomes added_date; a node without one has none', () => {
    const { added: _added, ...undated } = node('tempo', 'full_worker', 'mac-mini-m4-24gb');
    const d = buildDesired([node('bob', 'hq', 'mac-mini-m4-16gb', { added: '2025-03-02' }), undated]);
    const g = generate(d, [], OPTIONS);
    expect(g.nodes_registry.nodes.find((n) => n.node_id === 'bob')?.added_date).toBe('2025-03-02');
    expect(g.nodes_registry.nodes.find((n) => n.node_id === 'tempo')).not.toHaveProperty('added_date');
  });
});
