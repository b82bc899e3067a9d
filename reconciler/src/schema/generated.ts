// The two files generate writes for the consumers already on Bob (the health
// monitor and OpenClaw): nodes_registry.json and openclaw_workers.json. Field
// names and meanings follow shared/reference/symphony-interfaces.md; consumers
// ignore extra fields, but we are the only producer, so the schemas are strict.
import type { FromSchema } from 'json-schema-to-ts';
import { DATE, MODEL_REF, NODE_NAME, ONE_LINE, ROLE_NAME, TASK_TYPE, WORKER_ID } from './common.ts';

const BASE = 'https://symphony-fleet.dev/schemas';
const oneLine = { type: 'string', pattern: ONE_LINE } as const;
const date = { type: 'string', pattern: DATE } as const;
/** Model names as OpenClaw sends them to Ollama (`nomic-embed-text`, `llama3.1:8b`). */
const modelList = { type: 'array', uniqueItems: true, items: { type: 'string', pattern: MODEL_REF } } as const;
const taskTypes = { type: 'array', uniqueItems: true, items: { type: 'string', pattern: TASK_TYPE } } as const;

const meta = {
  type: 'object',
  additionalProperties: false,
  required: ['description', 'version', 'managed_by', 'last_updated', 'notes'],
  properties: {
    description: oneLine,
    version: oneLine,
    managed_by: oneLine,
    last_updated: { ...date, description: 'Changes only when the content does.' },
    notes: oneLine,
  },
} as const;

const registryNode = {
  type: 'object',
  additionalProperties: false,
  required: ['node_id', 'display_name', 'role', 'ip', 'hostname', 'hardware', 'network', 'services', 'models_loaded', 'status', 'notes'],
  properties: {
    node_id: { type: 'string', pattern: NODE_NAME },
    display_name: oneLine,
    role: { type: 'string', pattern: ROLE_NAME },
    ip: { type: 'string', description: 'Top level as the health monitor reads it; "" when unknown.' },
    hostname: { type: 'string', description: 'Top level as the health monitor reads it, e.g. maestro.local.' },
    hardware: {
      type: 'object', additionalProperties: false,
      required: ['model', 'cpu', 'ram_gb', 'storage_gb', 'architecture', 'notes'],
      properties: {
        model: oneLine,
        cpu: oneLine,
        ram_gb: { type: 'integer', minimum: 1 },
        storage_gb: { type: 'integer', minimum: 1 },
        architecture: { enum: ['arm64', 'x86_64'] },
        notes: oneLine,
      },
    },
    network: {
      type: 'object', additionalProperties: false, required: ['ip', 'hostname', 'mac_address'],
      properties: { ip: { type: 'string' }, hostname: { type: 'string' }, mac_address: { type: 'string' } },
    },
    services: {
      type: 'object', additionalProperties: false,
      required: ['ollama', 'ollama_port', 'ollama_host', 'docker', 'registry_api', 'harpa', 'openclaw'],
      properties: {
        ollama: { type: 'boolean' },
        ollama_port: { type: 'integer', minimum: 1, maximum: 65535 },
        ollama_host: { type: 'string' },
        docker: { type: 'boolean' },
        registry_api: { type: 'boolean' },
        registry_api_port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Only where registry_api is true.' },
        harpa: { type: 'boolean' },
        openclaw: { type: 'boolean' },
      },
      if: { properties: { registry_api: { const: true } } },
      then: { required: ['registry_api_port'], properties: { registry_api_port: true } },
      else: { not: { required: ['registry_api_port'], properties: { registry_api_port: true } } },
    },
    models_loaded: { ...modelList, description: 'Desired models observed present on the node.' },
    status: { enum: ['active', 'planned', 'retired'] },
    notes: oneLine,
    added_date: date,
    retired_date: date,
  },
  if: { properties: { status: { const: 'retired' } } },
  then: { required: ['retired_date'], properties: { retired_date: true } },
} as const;

export const nodesRegistrySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/nodes_registry.schema.json`,
  title: 'nodes_registry.json',
  description: 'Every node with its address, hardware, services and status; read by the health monitor and OpenClaw.',
  type: 'object',
  additionalProperties: false,
  required: ['_meta', 'nodes'],
  properties: {
    _meta: meta,
    nodes: { type: 'array', items: registryNode },
  },
} as const;

const worker = {
  type: 'object',
  additionalProperties: false,
  required: ['worker_id', 'display_name', 'node_id', 'type', 'endpoint', 'priority', 'max_concurrent', 'models_available', 'task_types', 'enabled', 'notes'],
  properties: {
    worker_id: { type: 'string', pattern: WORKER_ID },
    display_name: oneLine,
    node_id: { anyOf: [{ type: 'string', pattern: NODE_NAME }, { type: 'null' }], description: 'null for the cloud fallback.' },
    type: { enum: ['ollama_local', 'ollama_remote', 'harpa_grid', 'openai_api'] },
    endpoint: { type: 'string', pattern: '^(https?://[^\\s]+|harpa_grid)$' },
    priority: { type: 'integer', minimum: 0, maximum: 100 },
    max_concurrent: { type: 'integer', minimum: 1 },
    models_available: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9._:/-]+$' } },
    task_types: taskTypes,
    enabled: { type: 'boolean' },
    notes: oneLine,
  },
} as const;

const routingRule = {
  type: 'object',
  additionalProperties: false,
  required: ['rule_id', 'description', 'task_types', 'preferred_workers', 'fallback', 'model_preference', 'notes'],
  properties: {
    rule_id: { type: 'string', pattern: WORKER_ID },
    description: oneLine,
    task_types: taskTypes,
    preferred_workers: { type: 'array', items: { type: 'string', pattern: WORKER_ID } },
    fallback: { type: 'array', items: { type: 'string', pattern: WORKER_ID } },
    model_preference: { anyOf: [{ type: 'string', pattern: MODEL_REF }, { type: 'null' }] },
    notes: oneLine,
  },
} as const;

export const openclawWorkersSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/openclaw_workers.schema.json`,
  title: 'openclaw_workers.json',
  description: 'OpenClaw\'s workers, routing rules and global settings; reread on SIGHUP.',
  type: 'object',
  additionalProperties: false,
  required: ['_meta', 'workers', 'routing_rules', 'global_settings'],
  properties: {
    _meta: meta,
    workers: { type: 'array', items: worker, description: 'Per node, sorted by node; the cloud fallback last.' },
    routing_rules: { type: 'array', items: routingRule },
    global_settings: {
      type: 'object', additionalProperties: false,
      required: ['default_timeout_s', 'max_retries', 'worker_selection_strategy', 'health_check_interval_s', 'offline_worker_retry_after_s', 'log_all_routing_decisions'],
      properties: {
        default_timeout_s: { type: 'integer', minimum: 1 },
        max_retries: { type: 'integer', minimum: 0 },
        worker_selection_strategy: { type: 'string' },
        health_check_interval_s: { type: 'integer', minimum: 1 },
        offline_worker_retry_after_s: { type: 'integer', minimum: 1 },
        log_all_routing_decisions: { type: 'boolean' },
      },
    },
  },
} as const;

export type NodesRegistry = FromSchema<typeof nodesRegistrySchema>;
export type RegistryNode = NodesRegistry['nodes'][number];
export type OpenclawWorkers = FromSchema<typeof openclawWorkersSchema>;
export type Worker = OpenclawWorkers['workers'][number];
export type WorkerRoutingRule = OpenclawWorkers['routing_rules'][number];
