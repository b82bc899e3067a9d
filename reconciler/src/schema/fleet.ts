// The contract for every YAML file under fleet/. These definitions are the
// one source of truth: `npm run schemas` writes them to schemas/*.schema.json
// (a test fails when the two differ) and the TypeScript types below are
// derived from them with json-schema-to-ts.
import type { FromSchema } from 'json-schema-to-ts';
import { ADDRESS, BREW_NAME, DATE, HW_ID, IPV4, MODEL_REF, NODE_NAME, ONE_LINE, ROLE_NAME, TASK_TYPE, WORKER_ID } from './common.ts';

const BASE = 'https://symphony-fleet.dev/schemas';

const modelRef = { type: 'string', pattern: MODEL_REF, maxLength: 160, description: 'An Ollama model reference, `name:tag` (a missing tag means `:latest`).' } as const;
const taskTypes = {
  type: 'array', uniqueItems: true, maxItems: 32,
  items: { type: 'string', pattern: TASK_TYPE, description: 'A task type OpenClaw routes, e.g. route, classify, embed, reason, code, browser.' },
  description: 'Task types this worker accepts.',
} as const;
const note = { type: 'string', maxLength: 500, pattern: ONE_LINE, description: 'Free text for people; one line.' } as const;

/** Ollama server settings written to each node's ~/.ollama/ollama.env and the launchd agent. */
const ollamaEnv = {
  type: 'object',
  additionalProperties: false,
  description: 'Environment of `ollama serve` on the node (written to ~/.ollama/ollama.env and the launchd agent).',
  properties: {
    OLLAMA_HOST: { type: 'string', pattern: `${IPV4.slice(0, -1)}(:[0-9]{1,5})?$`, description: 'Bind address. 0.0.0.0 makes the node reachable from Bob; 127.0.0.1 keeps it local.' },
    OLLAMA_KEEP_ALIVE: { type: 'string', pattern: '^(-1|[0-9]+(ms|s|m|h)?)$', description: 'How long an idle model stays loaded, e.g. 24h, 5m, -1 for forever.' },
    OLLAMA_MAX_LOADED_MODELS: { type: 'integer', minimum: 1, maximum: 8, description: 'Models kept in memory at once. The RAM-fit check loads this many of the largest assigned models together.' },
    OLLAMA_CONTEXT_LENGTH: { type: 'integer', minimum: 512, maximum: 1048576, description: 'Context per request slot. Pinned so the RAM-fit check promises what the node does (unset, Ollama picks up to 128k on large Macs).' },
    OLLAMA_NUM_PARALLEL: { type: 'integer', minimum: 1, maximum: 16, description: 'Request slots per model; the KV cache scales with it.' },
    OLLAMA_FLASH_ATTENTION: { type: 'boolean', description: 'Flash attention; needed for a quantized KV cache.' },
    OLLAMA_KV_CACHE_TYPE: { enum: ['f16', 'q8_0', 'q4_0'], description: 'KV cache element type: f16 (2 bytes), q8_0 (1 byte), q4_0 (0.5 byte).' },
  },
} as const;

/** An OpenClaw endpoint Bob's consumers can call: http(s), a host, a port, a path. No spaces, quotes or shell text. */
const endpoint = { type: 'string', maxLength: 300, pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$', description: 'URL OpenClaw calls, e.g. http://100.101.102.103:11434 (a Tailscale address). Omit it to derive it from the node: http://<its IP>:<ollama port>, http://localhost:<port> for ollama_local.' } as const;
const workerId = { type: 'string', pattern: WORKER_ID, description: 'worker_id in openclaw_workers.json: lowercase letters, digits and _; unique across the fleet.' } as const;
const workerDisplayName = { type: 'string', pattern: ONE_LINE, maxLength: 80, description: 'Name OpenClaw shows; default `<Display> (LLM)`, `(local)` or `(HARPA)`.' } as const;
const workerPriority = { type: 'integer', minimum: 0, maximum: 100, description: 'Higher is preferred. Bob local 100, Apple Silicon 80-95, HARPA 70, Intel 40, cloud 10.' } as const;
const workerMaxConcurrent = { type: 'integer', minimum: 1, maximum: 16, description: 'Simultaneous requests: 1-2 for heavy models, 3-4 for small ones. Default: from the largest model.' } as const;

const harpaOverrides = {
  type: 'object',
  additionalProperties: false,
  description: 'The role\'s HARPA worker on this node (roles with harpa_task_types), over its defaults.',
  properties: {
    worker_id: { ...workerId, description: 'Its worker_id; default <node>_harpa.' },
    display_name: workerDisplayName,
    priority: { ...workerPriority, description: 'Default: openclaw.priorities.harpa in fleet.yaml (70).' },
    max_concurrent: { ...workerMaxConcurrent, description: 'Browser sessions at once; default 1.' },
    task_types: { ...taskTypes, description: 'Default: the role\'s harpa_task_types.' },
    notes: note,
  },
} as const;

const openclawOverrides = {
  type: 'object',
  additionalProperties: false,
  description: 'OpenClaw settings for the role\'s workers on this node (its Ollama worker; `harpa` for its HARPA worker), over the role\'s defaults.',
  properties: {
    worker_id: { ...workerId, description: 'worker_id of the role\'s Ollama worker; default <node>_ollama (<node>_local on Bob). Set it to keep the ids routing rules and consumers already use.' },
    display_name: workerDisplayName,
    endpoint,
    priority: workerPriority,
    max_concurrent: workerMaxConcurrent,
    task_types: taskTypes,
    enabled: { type: 'boolean', description: 'false keeps the node in the files but routes nothing to it (none of its workers).' },
    models: { type: 'array', uniqueItems: true, maxItems: 32, items: modelRef, description: 'Models the worker advertises, all on this node; default all of the node\'s models.' },
    notes: { ...note, description: 'The worker\'s notes; default the hardware (`Mac mini M4, 16 GB, Metal`).' },
    harpa: harpaOverrides,
  },
} as const;

/** A worker beyond the role's: a second route to the node's Ollama, a HARPA worker on an LLM node. */
const nodeWorker = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'task_types'],
  description: 'An OpenClaw worker on this node beyond the role\'s default ones.',
  properties: {
    id: workerId,
    type: { enum: ['ollama_remote', 'ollama_local', 'harpa_grid'], description: 'ollama_remote: the node\'s Ollama over the network; ollama_local: Bob\'s own Ollama on loopback (Bob only); harpa_grid: HARPA in Chrome.' },
    display_name: workerDisplayName,
    endpoint,
    priority: { ...workerPriority, description: 'Default by type and hardware: openclaw.priorities in fleet.yaml.' },
    max_concurrent: workerMaxConcurrent,
    task_types: { ...taskTypes, minItems: 1 },
    models: { type: 'array', uniqueItems: true, maxItems: 32, items: modelRef, description: 'Models it advertises, all on this node; default all of the node\'s models. Only those observed on the node are listed.' },
    enabled: { type: 'boolean', description: 'false: listed but takes no tasks.' },
    notes: note,
  },
} as const;

export const nodeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/node.schema.json`,
  title: 'Symphony node',
  description: 'One Mac in the fleet: fleet/nodes/<name>.yaml. A pull request that adds a node adds one file.',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role', 'hardware', 'addresses', 'status'],
  properties: {
    name: { type: 'string', pattern: NODE_NAME, description: 'Lowercase hostname (HostName and LocalHostName); must match the file name.' },
    display_name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 \'._-]{0,62}$', description: 'ComputerName; defaults to the name with its first letter capitalised.' },
    role: { type: 'string', pattern: ROLE_NAME, description: 'A role from fleet/roles/: hq, llm_worker, full_worker, browser_node.' },
    hardware: { type: 'string', pattern: HW_ID, description: 'A hardware id from fleet/catalog/hardware.yaml.' },
    addresses: {
      type: 'array', minItems: 1, maxItems: 8, uniqueItems: true,
      description: 'Where Bob reaches the node, tried in order: e.g. the LAN name, the LAN IP, then a Tailscale address for when it travels.',
      items: { type: 'string', pattern: ADDRESS, maxLength: 253, description: 'A hostname (`maestro.local`) or an IPv4 address.' },
    },
    presence: { enum: ['always_on', 'roaming'], default: 'always_on', description: 'roaming: a laptop that is sometimes away; unreachable is expected, not an alarm.' },
    status: { enum: ['planned', 'active', 'retired'], description: 'planned: bought, not bootstrapped; active: reconciled; retired: decommissioned (its models and agents are removed).' },
    added: { type: 'string', pattern: DATE, description: 'Date the node joined, YYYY-MM-DD: the registry\'s added_date. `fleet add-node` writes today\'s date.' },
    retired: { type: 'string', pattern: DATE, description: 'Date the node was retired, YYYY-MM-DD (required when status is retired).' },
    role_models: { enum: ['keep', 'replace'], description: 'keep (the default): `models` are pulled besides the role\'s base models. replace: `models` is the whole list and the role\'s base models are not pulled (a 16 GB laptop in llm_worker serving only llama3.2:3b).' },
    models: { type: 'array', uniqueItems: true, maxItems: 32, items: modelRef, description: 'Models beyond the role\'s base models; with `role_models: replace`, all of the node\'s models.' },
    ollama_env: ollamaEnv,
    openclaw: openclawOverrides,
    workers: { type: 'array', maxItems: 16, items: nodeWorker, description: 'OpenClaw workers beyond the role\'s (e.g. bob_ollama: Bob\'s Ollama reached over the network, next to bob_local).' },
    notes: note,
  },
} as const;

export const roleSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/role.schema.json`,
  title: 'Symphony role',
  description: 'What a kind of node installs, runs and serves: fleet/roles/<name>.yaml.',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'software', 'services', 'models', 'openclaw'],
  properties: {
    name: { type: 'string', pattern: ROLE_NAME, description: 'Role name; must match the file name.' },
    description: note,
    software: {
      type: 'object', additionalProperties: false, required: ['formulae', 'casks'],
      description: 'Homebrew packages the role installs.',
      properties: {
        formulae: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: BREW_NAME }, description: 'Homebrew formulae, e.g. ollama.' },
        casks: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: BREW_NAME }, description: 'Homebrew casks, e.g. docker, google-chrome.' },
      },
    },
    services: {
      type: 'object', additionalProperties: false, required: ['ollama', 'docker', 'harpa', 'registry_api', 'openclaw'],
      description: 'Services the role runs; they become the registry\'s `services` block.',
      properties: {
        ollama: { type: 'boolean', description: 'Runs Ollama (an LLM role).' },
        docker: { type: 'boolean', description: 'Runs Docker Desktop.' },
        harpa: { type: 'boolean', description: 'Runs Chrome with the HARPA AI extension (finished by hand).' },
        registry_api: { type: 'boolean', description: 'Serves the registry API (Bob only).' },
        openclaw: { type: 'boolean', description: 'Runs OpenClaw (Bob only).' },
      },
    },
    models: { type: 'array', uniqueItems: true, maxItems: 32, items: modelRef, description: 'Base models every node of this role pulls.' },
    openclaw: {
      type: 'object', additionalProperties: false, required: ['task_types'],
      description: 'OpenClaw defaults for nodes of this role.',
      properties: {
        task_types: taskTypes,
        harpa_task_types: { ...taskTypes, description: 'Task types of the node\'s HARPA worker, when the role runs HARPA.' },
        priority: { type: 'integer', minimum: 0, maximum: 100, description: 'Default priority; otherwise from the hardware class.' },
        enabled: { type: 'boolean', default: true, description: 'Whether workers of this role take tasks.' },
      },
    },
  },
} as const;

export const hardwareCatalogSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/hardware.schema.json`,
  title: 'Hardware catalog',
  description: 'Every Mac configuration the fleet can use: fleet/catalog/hardware.yaml.',
  type: 'object',
  additionalProperties: false,
  required: ['hardware'],
  properties: {
    hardware: {
      type: 'object',
      description: 'Configurations by id.',
      propertyNames: { pattern: HW_ID },
      additionalProperties: {
        type: 'object', additionalProperties: false,
        required: ['model', 'chip', 'architecture', 'ram_gb', 'metal', 'storage_gb'],
        properties: {
          model: { type: 'string', pattern: ONE_LINE, maxLength: 80, description: 'Marketing name, e.g. Mac mini M4.' },
          chip: { type: 'string', pattern: ONE_LINE, maxLength: 80, description: 'As `sysctl -n machdep.cpu.brand_string` prints it, e.g. Apple M4 Pro.' },
          architecture: { enum: ['arm64', 'x86_64'], description: 'As `uname -m` prints it.' },
          ram_gb: { type: 'integer', minimum: 1, maximum: 1024, description: 'Installed memory in GB (GiB, as `sysctl hw.memsize` / 2^30).' },
          metal: { type: 'boolean', description: 'Ollama can use the GPU through Metal (Apple Silicon). Intel Macs run on the CPU.' },
          storage_gb: { type: 'integer', minimum: 1, maximum: 65536, description: 'Internal storage in GB.' },
          ethernet_gbps: { type: 'number', exclusiveMinimum: 0, maximum: 100, description: 'Wired LAN link in Gbit/s: 1 (Gigabit Ethernet, the default when absent), 10 for a Mac Studio or a Mac mini built with 10 Gigabit Ethernet. LAN model copies and the simulator use it.' },
          ncpu: { type: 'integer', minimum: 1, maximum: 256, description: 'Logical CPUs (`sysctl hw.ncpu`).' },
          hw_model: { type: 'string', pattern: '^[A-Za-z]+[0-9]+,[0-9]+$', description: 'Model identifier (`sysctl hw.model`), e.g. Mac16,10.' },
          price_usd: { type: 'integer', minimum: 0, description: 'Approximate price, for capacity planning.' },
          notes: note,
        },
      },
    },
  },
} as const;

export const modelCatalogSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/models.schema.json`,
  title: 'Model catalog',
  description: 'Facts about every model the fleet may assign: fleet/catalog/models.yaml. Sources: Ollama /api/tags and /api/show (GGUF metadata).',
  type: 'object',
  additionalProperties: false,
  required: ['models'],
  properties: {
    models: {
      type: 'object',
      description: 'Models by reference, with the tag (`llama3.1:8b`, `nomic-embed-text:latest`).',
      propertyNames: { pattern: MODEL_REF },
      additionalProperties: {
        type: 'object', additionalProperties: false,
        required: ['parameters_b', 'quantization', 'size_bytes', 'architecture', 'layers', 'kv_heads', 'head_dim', 'max_context', 'kind'],
        properties: {
          parameters_b: { type: 'number', exclusiveMinimum: 0, description: 'Parameters in billions.' },
          quantization: { type: 'string', pattern: '^[A-Za-z0-9_]+$', description: 'Quantization of the default tag, e.g. Q4_K_M.' },
          size_bytes: { type: 'integer', minimum: 1, description: 'Bytes on disk as /api/tags reports them; also the weights in memory.' },
          architecture: { type: 'string', pattern: '^[a-z0-9-]+$', description: 'GGUF general.architecture, e.g. llama.' },
          family: { type: 'string', pattern: '^[a-z0-9._-]+$', description: 'Model family as /api/show details.family says, e.g. llama, qwen2, nomic-bert.' },
          layers: { type: 'integer', minimum: 1, description: 'GGUF <arch>.block_count.' },
          heads: { type: 'integer', minimum: 1, description: 'GGUF <arch>.attention.head_count.' },
          kv_heads: { type: 'integer', minimum: 1, description: 'GGUF <arch>.attention.head_count_kv.' },
          head_dim: { type: 'integer', minimum: 1, description: 'Head dimension (key_length, or embedding_length / head_count).' },
          embedding_length: { type: 'integer', minimum: 1, description: 'GGUF <arch>.embedding_length, given when it is not heads x head_dim (the model then has <arch>.attention.key_length).' },
          max_context: { type: 'integer', minimum: 1, description: 'Trained context; Ollama caps the context there.' },
          kind: { enum: ['completion', 'embedding'], description: 'completion models generate; embedding models only embed.' },
          digest: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Expected manifest digest, when pinned.' },
          notes: note,
        },
      },
    },
  },
} as const;

export const retiredSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/retired.schema.json`,
  title: 'Retired names',
  description: 'Names of decommissioned nodes whose files were removed: fleet/retired.yaml. A name cannot be reused for 6 months.',
  type: 'object',
  additionalProperties: false,
  required: ['retired'],
  properties: {
    retired: {
      type: 'array', uniqueItems: true,
      description: 'One entry per decommissioned name, with its retirement date.',
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'retired'],
        properties: {
          name: { type: 'string', pattern: NODE_NAME, description: 'The retired hostname.' },
          retired: { type: 'string', pattern: DATE, description: 'Retirement date, YYYY-MM-DD.' },
          hardware: { type: 'string', pattern: HW_ID, description: 'What it was.' },
          notes: note,
        },
      },
    },
  },
} as const;

const routingRule = {
  type: 'object', additionalProperties: false,
  required: ['rule_id', 'description', 'task_types', 'preferred_workers', 'fallback'],
  properties: {
    rule_id: { type: 'string', pattern: WORKER_ID, description: 'e.g. classify_route.' },
    description: note,
    task_types: taskTypes,
    preferred_workers: { type: 'array', items: { type: 'string', pattern: WORKER_ID }, description: 'worker_ids tried first, in order (`<node>_ollama`, `<node>_local`, `<node>_harpa`).' },
    fallback: { type: 'array', items: { type: 'string', pattern: WORKER_ID }, description: 'worker_ids tried next, in order; put the cloud worker last.' },
    model_preference: { anyOf: [modelRef, { type: 'null' }], description: 'Preferred model, or null.' },
    notes: note,
  },
} as const;

export const fleetSettingsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/fleet.schema.json`,
  title: 'Fleet settings',
  description: 'Network-wide settings: fleet/fleet.yaml.',
  type: 'object',
  additionalProperties: false,
  required: ['network', 'ssh', 'ollama', 'memory', 'openclaw', 'reconcile', 'bob'],
  properties: {
    network: {
      type: 'object', additionalProperties: false, required: ['name', 'bob_node', 'bob_address', 'registry_api_port'],
      description: 'The network and Bob, its conductor.',
      properties: {
        name: { type: 'string', pattern: ONE_LINE, maxLength: 60, description: 'Network name.' },
        bob_node: { type: 'string', pattern: NODE_NAME, description: 'The node that runs the reconciler, the registry API and OpenClaw.' },
        bob_address: { type: 'string', pattern: IPV4, description: 'Bob\'s LAN IP; nodes send heartbeats and registrations here.' },
        registry_api_port: { type: 'integer', minimum: 1, maximum: 65535, default: 8765, description: 'Port of Bob\'s registry API (served by `fleet daemon`).' },
      },
    },
    ssh: {
      type: 'object', additionalProperties: false, required: ['user', 'key_path'],
      description: 'How Bob logs in to nodes.',
      properties: {
        user: { type: 'string', pattern: '^[a-z_][a-z0-9_-]{0,31}$', description: 'Admin account on every node.' },
        key_path: { type: 'string', pattern: '^~/\\.ssh/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$', description: 'Bob\'s private key, a file in ~/.ssh/ on Bob (e.g. ~/.ssh/id_ed25519); only that form is accepted, so a pull request cannot point Bob at another file. Bob\'s ~/.symphony/fleetd.yaml (ssh.key_path) wins over it.' },
        public_key: { type: 'string', pattern: '^ssh-(ed25519|rsa) [A-Za-z0-9+/=]+( [^\\u0000-\\u001f\\u007f\\u0085\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]*)?$', maxLength: 2000, description: 'Bob\'s public key, installed in each node\'s authorized_keys during the SSH bootstrap.' },
        known_hosts: { const: 'known_hosts', description: 'Deprecated, Bob-local: pinned host keys are always fleet/known_hosts. Only `known_hosts` is accepted, so a pull request cannot make `fleet trust` write elsewhere; remove the line.' },
        trust_on_first_use: { const: false, description: 'Deprecated, Bob-local: trust on first use is turned on only on Bob, in ~/.symphony/fleetd.yaml (ssh.trust_on_first_use), never by a pull request. Only false is accepted; remove the line.' },
        connect_timeout_s: { type: 'number', exclusiveMinimum: 0, maximum: 120, default: 5, description: 'Per address.' },
        command_timeout_s: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 30, description: 'Per remote command (model pulls have their own).' },
      },
    },
    ollama: {
      type: 'object', additionalProperties: false, required: ['port', 'env'],
      description: 'Ollama on every node.',
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 11434, description: 'HTTP port.' },
        env: { ...ollamaEnv, required: ['OLLAMA_HOST', 'OLLAMA_KEEP_ALIVE', 'OLLAMA_MAX_LOADED_MODELS', 'OLLAMA_CONTEXT_LENGTH', 'OLLAMA_NUM_PARALLEL'] },
      },
    },
    memory: {
      type: 'object', additionalProperties: false,
      required: ['runtime_overhead_gb', 'apple_gpu_fraction_small', 'apple_gpu_fraction_large', 'apple_gpu_threshold_gb', 'intel_os_reserve_gb', 'disk_margin_gb'],
      description: 'Constants of the RAM-fit estimate (see README, "RAM fit").',
      properties: {
        runtime_overhead_gb: { type: 'number', minimum: 0, maximum: 16, description: 'Graph and runtime memory per loaded model.' },
        apple_gpu_fraction_small: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Metal working set as a fraction of RAM, up to the threshold (about 2/3).' },
        apple_gpu_fraction_large: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Metal working set as a fraction of RAM, above the threshold (about 3/4).' },
        apple_gpu_threshold_gb: { type: 'number', minimum: 0, description: 'RAM at and below which the small fraction applies (36).' },
        intel_os_reserve_gb: { type: 'number', minimum: 0, description: 'RAM kept for macOS on CPU-only (Intel) nodes.' },
        disk_margin_gb: { type: 'number', minimum: 0, description: 'Disk (decimal GB) kept for macOS, apps and free space after all assigned models are pulled.' },
        llm_min_ram_gb: { type: 'number', minimum: 0, description: 'Smallest RAM that may get a role running Ollama; 16 when absent (the seed: 8 GB is insufficient, 16 GB minimum).' },
      },
    },
    openclaw: {
      type: 'object', additionalProperties: false, required: ['global_settings', 'routing_rules', 'priorities', 'cloud_fallback'],
      description: 'OpenClaw worker config written to generated/openclaw_workers.json.',
      properties: {
        global_settings: {
          type: 'object', additionalProperties: false,
          required: ['default_timeout_s', 'max_retries', 'worker_selection_strategy', 'health_check_interval_s', 'offline_worker_retry_after_s', 'log_all_routing_decisions'],
          description: 'Copied as `global_settings`.',
          properties: {
            default_timeout_s: { type: 'integer', minimum: 1, description: 'Seconds OpenClaw waits for a worker before giving up on a task (120).' },
            max_retries: { type: 'integer', minimum: 0, description: 'Retries of a failed task on the next worker (2).' },
            worker_selection_strategy: { type: 'string', pattern: '^[a-z_]+$', description: 'How OpenClaw picks a worker: priority_with_availability.' },
            health_check_interval_s: { type: 'integer', minimum: 1, description: 'Seconds between OpenClaw\'s worker health checks (60).' },
            offline_worker_retry_after_s: { type: 'integer', minimum: 1, description: 'Seconds before an offline worker is tried again (300).' },
            log_all_routing_decisions: { type: 'boolean', description: 'Log why each task went where it went.' },
          },
        },
        priorities: {
          type: 'object', additionalProperties: false, required: ['hq_local', 'apple_silicon', 'harpa', 'intel', 'cloud'],
          description: 'Default worker priority by hardware class.',
          properties: {
            hq_local: { type: 'integer', minimum: 0, maximum: 100, description: 'Bob\'s own Ollama, reached on loopback (100).' },
            apple_silicon: { type: 'integer', minimum: 0, maximum: 100, description: 'Ollama on Apple Silicon nodes (80-95; 90+ recommended).' },
            harpa: { type: 'integer', minimum: 0, maximum: 100, description: 'HARPA browser workers (70).' },
            intel: { type: 'integer', minimum: 0, maximum: 100, description: 'Ollama on Intel Macs, CPU only (40).' },
            cloud: { type: 'integer', minimum: 0, maximum: 100, description: 'The cloud fallback, the last resort (10).' },
          },
        },
        cloud_fallback: {
          type: 'object', additionalProperties: false, required: ['worker_id', 'display_name', 'endpoint', 'models_available', 'task_types', 'max_concurrent', 'enabled'],
          description: 'The cloud worker, listed last.',
          properties: {
            worker_id: { type: 'string', pattern: WORKER_ID, description: 'Its worker id, e.g. openai_fallback; routing rules name it last in fallback.' },
            display_name: { type: 'string', pattern: ONE_LINE, maxLength: 80, description: 'Name shown by OpenClaw, e.g. OpenAI (cloud fallback).' },
            endpoint: { type: 'string', pattern: '^https://[^\\s]+$', description: 'HTTPS API endpoint of the cloud service.' },
            models_available: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9._:-]+$' }, description: 'Cloud model names it may use.' },
            task_types: taskTypes,
            max_concurrent: { type: 'integer', minimum: 1, description: 'Simultaneous cloud requests.' },
            enabled: { type: 'boolean', description: 'false: never fall back to the cloud.' },
            notes: note,
          },
        },
        routing_rules: { type: 'array', items: routingRule, description: 'Copied as `routing_rules`; worker ids must exist.' },
      },
    },
    reconcile: {
      type: 'object', additionalProperties: false, required: ['poll_interval_s', 'drift_cron', 'concurrency', 'prune'],
      description: 'How the daemon and `fleet apply` work.',
      properties: {
        poll_interval_s: { type: 'number', minimum: 1, maximum: 86400, description: 'How often the daemon fetches the repository.' },
        drift_cron: { type: 'string', maxLength: 100, pattern: '^[0-9*/,-]+( [0-9*/,-]+){4,5}$', description: 'Cron expression for drift detection runs: minute hour day-of-month month day-of-week (an optional first field of seconds must be one number), numbers, *, ranges a-b and steps /n only.' },
        concurrency: { type: 'integer', minimum: 1, maximum: 256, description: 'Nodes observed or applied at once.' },
        prune: { type: 'boolean', description: 'Remove models and software that are no longer desired. Always shown in the plan first.' },
        step_timeout_s: { type: 'number', exclusiveMinimum: 0, maximum: 86400, default: 600, description: 'Per provisioning step (Homebrew installs are slow).' },
        pull_timeout_s: { type: 'number', exclusiveMinimum: 0, maximum: 604800, default: 7200, description: 'Per model pull.' },
        retries: { type: 'integer', minimum: 0, maximum: 10, default: 2, description: 'Retries of a transient step failure, with backoff.' },
        backoff_max_s: { type: 'number', minimum: 1, maximum: 86400, default: 900, description: 'Cap of the per-node backoff after failures.' },
      },
    },
    transfer: {
      type: 'object', additionalProperties: false,
      description: 'How models reach the nodes: one internet pull per model, then copies between Macs over the LAN (README, "Models cross the internet once").',
      properties: {
        mode: { enum: ['lan', 'internet'], description: 'lan (the default): each missing model is pulled from the internet once and copied peer to peer over SSH; internet: every node pulls every model itself (the behaviour before LAN copies).' },
        internet_nodes: { type: 'array', uniqueItems: true, maxItems: 256, items: { type: 'string', pattern: NODE_NAME }, description: 'Nodes that may pull from the internet; the others get their models over the LAN only. Absent: every node may.' },
        cache_node: { type: 'string', pattern: NODE_NAME, description: 'A node (e.g. Bob, when it has the disk) that pulls each model the fleet lacks, so the workers copy it from there. It keeps those models even with prune on.' },
        internet: {
          type: 'object', additionalProperties: false,
          description: 'The home line, shared by the household: the fleet stays under a cap.',
          properties: {
            line_mbps: { type: 'number', exclusiveMinimum: 0, maximum: 100000, description: 'Download rate of the line in Mbit/s, measured or from the contract.' },
            cap_percent: { type: 'number', exclusiveMinimum: 0, maximum: 100, description: 'Share of line_mbps the fleet\'s pulls may use together (e.g. 60). Needs line_mbps. Absent: no rate cap.' },
            max_pulls: { type: 'integer', minimum: 1, maximum: 64, description: 'Internet pulls at once, fleet-wide (1 when absent: the line is the bottleneck either way, and one at a time each model is whole, and copied onward, as early as it can be; unlimited with mode internet).' },
          },
        },
        lan: {
          type: 'object', additionalProperties: false,
          description: 'Copies between Macs.',
          properties: {
            copies_per_source: { type: 'integer', minimum: 1, maximum: 16, description: 'Copies one source Mac serves at once, at most (4 when absent). Between equal links a source serves one at a time (the first target done serves too); a 10 GbE source serves up to 10 1 GbE targets at once, up to this limit.' },
          },
        },
      },
    },
    bob: {
      type: 'object', additionalProperties: false,
      description: 'How the daemon signs its commits. Where Bob writes and what it signals are Bob-local (~/.symphony/fleetd.yaml), never set here.',
      properties: {
        registry_path: { const: '~/.symphony/registry/nodes_registry.json', description: 'Deprecated, Bob-local: a pull request cannot choose where Bob writes. Bob writes the registry where ~/.symphony/fleetd.yaml says (registry_path); only the default is accepted here. Remove the line.' },
        workers_path: { const: '~/.symphony/openclaw_workers.json', description: 'Deprecated, Bob-local: a pull request cannot choose where Bob writes. Bob writes the workers file where ~/.symphony/fleetd.yaml says (workers_path); only the default is accepted here. Remove the line.' },
        openclaw_pid_file: { const: '~/.symphony/openclaw.pid', description: 'Deprecated, Bob-local: a pull request cannot choose what Bob signals. Set openclaw.pid_file in ~/.symphony/fleetd.yaml; only the default is accepted here. Remove the line.' },
        openclaw_process_name: { const: 'openclaw', description: 'Deprecated, Bob-local: a pull request cannot choose what Bob signals. Set openclaw.process_name in ~/.symphony/fleetd.yaml; only the default is accepted here. Remove the line.' },
        git_author_name: { type: 'string', pattern: ONE_LINE, minLength: 1, maxLength: 80, default: 'Symphony Fleet', description: 'Author of the daemon\'s commits.' },
        git_author_email: { type: 'string', pattern: '^[^\\s@\\u0000-\\u001f\\u007f<>]+@[^\\s@\\u0000-\\u001f\\u007f<>]+$', maxLength: 120, default: 'fleet@symphony.local', description: 'Email of the daemon\'s commits.' },
      },
    },
  },
} as const;

export type NodeDoc = FromSchema<typeof nodeSchema>;
export type RoleDoc = FromSchema<typeof roleSchema>;
export type HardwareCatalogDoc = FromSchema<typeof hardwareCatalogSchema>;
export type ModelCatalogDoc = FromSchema<typeof modelCatalogSchema>;
export type RetiredDoc = FromSchema<typeof retiredSchema>;
export type FleetSettingsDoc = FromSchema<typeof fleetSettingsSchema>;
export type Hardware = HardwareCatalogDoc['hardware'][string];
export type ModelFacts = ModelCatalogDoc['models'][string];
export type OllamaEnv = NonNullable<NodeDoc['ollama_env']>;
export type TransferSettings = NonNullable<FleetSettingsDoc['transfer']>;
export type RoutingRule = FleetSettingsDoc['openclaw']['routing_rules'][number];
export type NodeWorkerDoc = NonNullable<NodeDoc['workers']>[number];
