// Per-node series: filled from the cards at scrape time, pull bytes counted
// as they arrive.
import { describe, expect, it } from 'vitest';
import { createMetrics, renderMetrics } from '../../reconciler/src/daemon/metrics.ts';
import { addNodeMetrics } from '../../reconciler/src/daemon/node-metrics.ts';
import type { NodeCard } from '../../reconciler/src/dashboard/fleet-view.ts';
import type { Step } from '../../reconciler/src/plan/steps.ts';

function card(node: string, over: Partial<NodeCard> = {}): NodeCard {
  return {
    node, display_name: node, role: 'llm_worker', hardware: 'Mac', presence: 'always_on', state: 'in-sync', severity: 'ok', summary: 'in sync',
    address: '192.168.1.20', observed_at: '2026-11-24T10:00:00Z',
    ollama: { expected: true, up: true, version: '0.12.6', error: null },
    models: { wanted: ['a:1', 'b:1'], present: [{ name: 'a:1', size: 1 }, { name: 'b:1', size: 2 }], loaded: [{ name: 'a:1', size: 10, size_vram: 8e9 }], missing: [] },
    memory: { ram_bytes: 64 * 2 ** 30, usable_bytes: 56 * 2 ** 30, worst_case_bytes: 40 * 2 ** 30, loaded_bytes: 8e9 },
    disk: { total_bytes: 2e12, available_bytes: 1.5e12, low: false },
    heartbeat: { last_seen: '2026-11-24T09:59:00Z', age_seconds: 60, stale: false },
    running: [], differences: [], pending: [], workers: [], ...over,
  };
}

describe('per-node metrics', () => {
  it('exports node up, Ollama up, models present and loaded, memory loaded, disk free and heartbeat age, as they are at the scrape', async () => {
    const m = createMetrics({ processMetrics: false });
    let cards = [card('maestro'), card('stagehand', { address: null, state: 'unreachable', ollama: { expected: false, up: null, version: null, error: null }, disk: { total_bytes: null, available_bytes: null, low: false }, heartbeat: { last_seen: null, age_seconds: null, stale: false } })];
    addNodeMetrics(m, { cards: () => cards });
    const { body } = await renderMetrics(m);
    for (const line of [
      'fleet_node_up{node="maestro"} 1', 'fleet_node_up{node="stagehand"} 0',
      'fleet_node_ollama_up{node="maestro"} 1',
      'fleet_node_models_present{node="maestro"} 2', 'fleet_node_models_loaded{node="maestro"} 1',
      'fleet_node_memory_loaded_bytes{node="maestro"} 8000000000',
      'fleet_node_disk_free_bytes{node="maestro"} 1500000000000',
      'fleet_node_heartbeat_age_seconds{node="maestro"} 60',
    ]) expect(body).toContain(line);
    expect(body).not.toContain('fleet_node_ollama_up{node="stagehand"}');
    expect(body).not.toContain('fleet_node_heartbeat_age_seconds{node="stagehand"}');
    cards = [card('maestro', { ollama: { expected: true, up: false, version: null, error: 'refused' }, heartbeat: { last_seen: 'x', age_seconds: 400, stale: true } })];
    const again = (await renderMetrics(m)).body;
    expect(again).toContain('fleet_node_ollama_up{node="maestro"} 0');
    expect(again).toContain('fleet_node_heartbeat_age_seconds{node="maestro"} 400');
    expect(again).not.toContain('node="stagehand"');
  });

  it('counts pull bytes per node as they arrive, not per event', async () => {
    const m = createMetrics({ processMetrics: false });
    const sink = addNodeMetrics(m, { cards: () => [] });
    const pull: Step = { kind: 'pull-model', id: 'v/pull-model/x:1', node: 'v', why: '', after: [], model: 'x:1', bytes: 1000 };
    sink.stepStarted(pull);
    for (const completed of [100, 100, 400, 300, 1000]) sink.pullProgress({ node: 'v', model: 'x:1', status: 's', completed, total: 1000 });
    sink.stepFinished(pull, { status: 'ok', changed: true, id: pull.id, node: 'v', kind: 'pull-model', attempts: 1, durationMs: 1 });
    sink.pullProgress({ node: 'v', model: 'x:1', status: 's', completed: 5000, total: 1000 });
    expect((await renderMetrics(m)).body).toContain('fleet_node_pull_bytes_total{node="v"} 1000');
  });
});
