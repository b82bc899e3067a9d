// A Desired built in code, shaped like fleet/ (the four seed roles, a small
// hardware and model catalog), so plan and generate tests do not move when
// the real fleet files do. Tests override what they need.
import type { Desired } from '../../reconciler/src/model/desired.ts';
import type { FleetSettingsDoc, Hardware, ModelFacts, NodeDoc, RoleDoc } from '../../reconciler/src/schema/fleet.ts';

export const SETTINGS: FleetSettingsDoc = {
  network: { name: 'Symphony', bob_node: 'bob', bob_address: '192.168.1.10', registry_api_port: 8765 },
  ssh: { user: 'symphony', key_path: '~/.ssh/id_ed25519', known_hosts: 'known_hosts', trust_on_first_use: false, connect_timeout_s: 5, command_timeout_s: 30 },
  ollama: { port: 11434, env: { OLLAMA_HOST: '0.0.0.0', OLLAMA_KEEP_ALIVE: '24h', OLLAMA_MAX_LOADED_MODELS: 2, OLLAMA_CONTEXT_LENGTH: 4096, OLLAMA_NUM_PARALLEL: 1 } },
  memory: { runtime_overhead_gb: 0.5, apple_gpu_fraction_small: 0.6667, apple_gpu_fraction_large: 0.75, apple_gpu_threshold_gb: 36, intel_os_reserve_gb: 8, disk_margin_gb: 40 },
  openclaw: {
    global_settings: { default_timeout_s: 120, max_retries: 2, worker_selection_strategy: 'priority_with_availability', health_check_interval_s: 60, offline_worker_retry_after_s: 300, log_all_routing_decisions: true },
    priorities: { hq_local: 100, apple_silicon: 90, harpa: 70, intel: 40, cloud: 10 },
    cloud_fallback: { worker_id: 'openai_fallback', display_name: 'OpenAI (cloud fallback)', endpoint: 'https://api.openai.com/v1', models_available: ['gpt-4o-mini'], task_types: ['reason', 'code'], max_concurrent: 4, enabled: true },
    routing_rules: [
      { rule_id: 'embed_route', description: 'Embeddings.', task_types: ['embed'], preferred_workers: ['bob_local'], fallback: ['maestro_ollama', 'openai_fallback'], model_preference: 'nomic-embed-text' },
      { rule_id: 'browser_route', description: 'Browser automation.', task_types: ['browser'], preferred_workers: ['stagehand_harpa'], fallback: [] },
    ],
  },
  reconcile: { poll_interval_s: 60, drift_cron: '*/15 * * * *', concurrency: 4, prune: false, step_timeout_s: 600, pull_timeout_s: 7200, retries: 2, backoff_max_s: 900 },
  bob: { registry_path: '~/.symphony/registry/nodes_registry.json', workers_path: '~/.symphony/openclaw_workers.json', git_author_name: 'Symphony Fleet', git_author_email: 'fleet@symphony.local' },
};

const role = (name: string, formulae: string[], casks: string[], services: RoleDoc['services'], models: string[], openclaw: RoleDoc['openclaw']): RoleDoc => ({
  name, description: `${name} role`, software: { formulae, casks }, services, models, openclaw,
});

export const ROLES: Record<string, RoleDoc> = {
  hq: role('hq', ['ollama'], ['docker', 'google-chrome'], { ollama: true, docker: true, harpa: true, registry_api: true, openclaw: true }, ['llama3.2:3b', 'nomic-embed-text'], { task_types: ['route', 'classify', 'embed'], enabled: true }),
  llm_worker: role('llm_worker', ['ollama'], ['google-chrome'], { ollama: true, docker: false, harpa: true, registry_api: false, openclaw: false }, ['llama3.1:8b', 'mistral:7b', 'nomic-embed-text'], { task_types: ['summarize', 'reason', 'embed'], enabled: true }),
  full_worker: role('full_worker', ['ollama'], ['docker', 'google-chrome'], { ollama: true, docker: true, harpa: true, registry_api: false, openclaw: false }, ['llama3.2:3b', 'llama3.1:8b', 'nomic-embed-text'], { task_types: ['classify', 'summarize', 'code'], harpa_task_types: ['browser', 'scrape'], enabled: true }),
  browser_node: role('browser_node', [], ['google-chrome'], { ollama: false, docker: false, harpa: true, registry_api: false, openclaw: false }, [], { task_types: [], harpa_task_types: ['browser', 'scrape', 'form_fill'], enabled: true }),
};

export const HARDWARE: Record<string, Hardware> = {
  'mac-mini-m4-16gb': { model: 'Mac mini M4', chip: 'Apple M4', architecture: 'arm64', ram_gb: 16, metal: true, storage_gb: 256, ncpu: 10 },
  'mac-mini-m4-24gb': { model: 'Mac mini M4', chip: 'Apple M4', architecture: 'arm64', ram_gb: 24, metal: true, storage_gb: 512, ncpu: 10 },
  'mac-studio-m4-max-64gb': { model: 'Mac Studio M4 Max', chip: 'Apple M4 Max', architecture: 'arm64', ram_gb: 64, metal: true, storage_gb: 1000, ncpu: 16 },
  'imac-27-2019-i9-64gb': { model: 'Intel iMac 27-inch 2019', chip: 'Intel Core i9-9900K', architecture: 'x86_64', ram_gb: 64, metal: false, storage_gb: 2000, notes: 'No Metal.' },
  'imac-intel-i5-8gb': { model: 'Intel iMac', chip: 'Intel Core i5', architecture: 'x86_64', ram_gb: 8, metal: false, storage_gb: 1000 },
};

const model = (size_bytes: number, parameters_b: number, kind: ModelFacts['kind'] = 'completion'): ModelFacts => ({
  parameters_b, quantization: 'Q4_K_M', size_bytes, architecture: 'llama', layers: 32, kv_heads: 8, head_dim: 128, max_context: 131072, kind,
});

export const MODELS: Record<string, ModelFacts> = {
  'llama3.2:3b': model(2019393189, 3.2),
  'llama3.1:8b': model(4920753328, 8),
  'mistral:7b': model(4113301824, 7.2),
  'codestral:22b': model(12569170041, 22.2),
  'llama3.1:70b': model(42520413916, 70.6),
  'nomic-embed-text:latest': model(274302450, 0.137, 'embedding'),
};

export function node(name: string, roleName: string, hardware: string, extra: Partial<NodeDoc> = {}): NodeDoc {
  return { name, role: roleName, hardware, addresses: [`${name}.local`], status: 'active', presence: 'always_on', added: '2026-01-15', ...extra };
}

/** bob (hq), maestro (llm_worker, Intel 64 GB), stagehand (browser_node), virtuoso (full_worker, M4 24 GB). */
export function seedNodes(): NodeDoc[] {
  return [
    node('bob', 'hq', 'mac-mini-m4-16gb', { addresses: ['bob.local', '192.168.1.10'], notes: 'The conductor.' }),
    node('maestro', 'llm_worker', 'imac-27-2019-i9-64gb', { addresses: ['maestro.local', '192.168.1.20'], models: ['llama3.1:70b'], openclaw: { max_concurrent: 1 } }),
    node('stagehand', 'browser_node', 'imac-intel-i5-8gb', { addresses: ['stagehand.local', '192.168.1.30'] }),
    node('virtuoso', 'full_worker', 'mac-mini-m4-24gb', { addresses: ['virtuoso.local', '192.168.1.40'] }),
  ];
}

export function buildDesired(nodes: NodeDoc[] = seedNodes(), settings: FleetSettingsDoc = SETTINGS): Desired {
  return {
    dir: 'fleet',
    settings,
    roles: ROLES,
    hardware: HARDWARE,
    models: MODELS,
    nodes: [...nodes].sort((a, b) => (a.name < b.name ? -1 : 1)),
    retired: [],
    knownHosts: '',
  };
}

export const REGISTRY_URL = 'http://192.168.1.10:8765';
export const TODAY = '2026-11-24';
