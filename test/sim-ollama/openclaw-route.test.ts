// An OpenClaw-style caller on a simulated fleet: observe two simulated Macs,
// write openclaw_workers.json with the project's own generate, pick the
// worker a routing rule selects as OpenClaw does (the highest-priority
// enabled worker, among the rule's preferred and fallback workers, whose
// models_available has the rule's model_preference; shared/reference/
// symphony-interfaces.md), and chat with it through the official client at
// the worker's endpoint.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../reconciler/src/generate/generate.ts';
import { writeGenerated } from '../../reconciler/src/generate/write-generated.ts';
import { normalizeModelRef } from '../../reconciler/src/model/desired.ts';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { createConnectionPool } from '../../reconciler/src/observe/connections.ts';
import { observeFleet } from '../../reconciler/src/observe/observe-fleet.ts';
import type { OpenclawWorkers } from '../../reconciler/src/schema/generated.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { buildDesired, node, SETTINGS } from '../plan/build-desired.ts';

const guard = createGuard({ loopbackOnly: true });

const desired = buildDesired([
  node('virtuoso', 'full_worker', 'mac-mini-m4-24gb'),
  node('maestro', 'llm_worker', 'imac-27-2019-i9-64gb'),
], {
  ...SETTINGS,
  openclaw: {
    ...SETTINGS.openclaw,
    routing_rules: [
      // virtuoso (Apple Silicon, 90) is preferred but has no mistral: the rule lands on maestro (Intel, 40).
      { rule_id: 'general_llm_route', description: 'General LLM work.', task_types: ['summarize'], preferred_workers: ['virtuoso_ollama'], fallback: ['maestro_ollama', 'openai_fallback'], model_preference: 'mistral:7b' },
      { rule_id: 'classify_route', description: 'Classification.', task_types: ['classify'], preferred_workers: ['maestro_ollama'], fallback: ['virtuoso_ollama'], model_preference: 'llama3.1:8b' },
    ],
  },
});

let stateDir: string;
let outDir: string;
let sim: SimFleet;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'sim-openclaw-'));
  outDir = join(stateDir, 'generated');
  const base = { ollama: true as const, formulae: ['ollama'], casks: ['google-chrome'] };
  sim = await startSimFleet({
    stateDir,
    user: 'symphony',
    preset: 'provisioned',
    cron: false,
    controlEndpoint: false,
    specs: [
      { name: 'virtuoso', hardware: 'mac-mini-m4-24gb', role: 'full_worker', ...base, models: ['llama3.2:3b', 'llama3.1:8b', 'nomic-embed-text:latest'] },
      { name: 'maestro', hardware: 'imac-27-2019-i9-64gb', role: 'llm_worker', ...base, models: ['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest'] },
    ],
  });
  const pool = createConnectionPool(desired, { targets: sim.targets, guard });
  try {
    const observed = await observeFleet(desired, pool, { guard });
    await writeGenerated(outDir, generate(desired, observed, { lastUpdated: '2026-01-15' }));
  } finally {
    pool.close();
  }
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

type Worker = OpenclawWorkers['workers'][number];

/** OpenClaw's choice for a rule: enabled, has the preferred model, highest priority, among the rule's workers. */
function pickWorker(file: OpenclawWorkers, ruleId: string): { worker: Worker; model: string } {
  const rule = file.routing_rules.find((r) => r.rule_id === ruleId);
  if (!rule?.model_preference) throw new Error(`no rule ${ruleId} with a model preference`);
  const wanted = normalizeModelRef(rule.model_preference);
  const named = [...rule.preferred_workers, ...rule.fallback];
  const candidates = file.workers
    .filter((w) => named.includes(w.worker_id) && w.enabled && w.models_available.some((m) => normalizeModelRef(m) === wanted))
    .sort((a, b) => b.priority - a.priority);
  const worker = candidates[0];
  if (!worker) throw new Error(`rule ${ruleId}: no enabled worker has ${wanted}`);
  return { worker, model: rule.model_preference };
}

/**
 * The endpoint as Bob reaches it: itself when the simulated node listens on
 * its own address at 11434 as a Mac does; through the targets file's
 * ollama_url when the sim had to share one address and move the port.
 */
function reach(endpoint: string): string {
  const url = new URL(endpoint);
  const target = Object.values(sim.targets.nodes).find((t) => t.addresses.includes(url.hostname) && String(t.ollama_port) === url.port);
  if (!target?.ollama_url) throw new Error(`no simulated node answers ${endpoint}`);
  return target.ollama_url;
}

describe('OpenClaw-style routing to a simulated node', () => {
  const file = (): OpenclawWorkers => JSON.parse(readFileSync(join(outDir, 'openclaw_workers.json'), 'utf8')) as OpenclawWorkers;

  it('generates workers that advertise what each node has, with endpoints on the nodes\' addresses', () => {
    const workers = file().workers.filter((w) => w.type === 'ollama_remote');
    expect(workers.map((w) => [w.worker_id, w.enabled, w.models_available])).toEqual([
      ['maestro_ollama', true, ['llama3.1:8b', 'mistral:7b', 'nomic-embed-text']],
      ['virtuoso_ollama', true, ['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text']],
    ]);
    for (const w of workers) expect(w.endpoint).toBe(`http://${sim.node(w.node_id ?? '').ip}:11434`);
  });

  it('chats with the worker the rule picks, through the official client, and only that node loads the model', async () => {
    const { worker, model } = pickWorker(file(), 'general_llm_route');
    expect(worker.worker_id).toBe('maestro_ollama');
    const client = new Ollama({ host: reach(worker.endpoint), fetch: guardedFetch(guard) });
    const reply = await client.chat({ model, messages: [{ role: 'user', content: 'Summarise: the fleet is up.' }], stream: false });
    expect(reply).toMatchObject({ model: 'mistral:7b', done: true, message: { role: 'assistant' } });
    expect(reply.message.content.length).toBeGreaterThan(0);
    expect(sim.node('maestro').ollama.loadedModels().map((m) => m.name)).toEqual(['mistral:7b']);
    expect(sim.node('virtuoso').ollama.loadedModels()).toEqual([]);

    // The other rule prefers maestro but ranks by priority: virtuoso (90) wins, streamed this time.
    const second = pickWorker(file(), 'classify_route');
    expect(second.worker.worker_id).toBe('virtuoso_ollama');
    const parts: string[] = [];
    const stream = await new Ollama({ host: reach(second.worker.endpoint), fetch: guardedFetch(guard) }).chat({ model: second.model, messages: [{ role: 'user', content: 'Classify: hello' }], stream: true });
    for await (const p of stream) parts.push(p.message.content);
    expect(parts.join('')).toMatch(/\w/);
    expect(sim.node('virtuoso').ollama.loadedModels().map((m) => m.name)).toEqual(['llama3.1:8b']);
  });
});
