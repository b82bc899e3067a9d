// The JSON that `fleet plan --format json` prints (plan/render-json.ts): a Plan
// plus a summary and a sentence per step. model/steps.ts proves at compile
// time that each kind here has the Step union's fields, required alike, and a
// test checks the kinds against STEP_KINDS, so the two cannot drift apart.
import { MANAGED_FILES } from './observed.ts';

const BASE = 'https://symphony-fleet.dev/schemas';
const stringList = { type: 'array', items: { type: 'string' } } as const;

const stepBase = {
  id: { type: 'string', description: '`<node>/<kind>[/<param>]`, unique in the plan.' },
  node: { type: ['string', 'null'], description: 'null for fleet steps on Bob.' },
  why: { type: 'string', description: 'The observed fact that makes the step necessary.' },
  after: { ...stringList, description: 'Ids of steps that must succeed first.' },
  description: { type: 'string', description: 'One sentence for people.' },
  effect: { enum: ['add', 'change', 'remove', 'manual'], description: 'What the step does to its node.' },
} as const;

function stepOf<K extends string, P extends Record<string, unknown>, R extends readonly string[]>(kind: K, properties: P, required: R) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'id', 'node', 'why', 'after', 'description', 'effect', ...required],
    properties: { kind: { const: kind }, ...stepBase, ...properties },
  } as const;
}

const packageKind = { enum: ['formula', 'cask'] } as const;

export const planStepSchema = {
  oneOf: [
    stepOf('set-hostname', { computer_name: { type: 'string' }, host_name: { type: 'string' }, local_host_name: { type: 'string' } }, ['computer_name', 'host_name', 'local_host_name'] as const),
    stepOf('install-homebrew', { prefix: { enum: ['/opt/homebrew', '/usr/local'] } }, ['prefix'] as const),
    stepOf('install-package', { package: packageKind, name: { type: 'string' } }, ['package', 'name'] as const),
    stepOf('uninstall-package', { package: packageKind, name: { type: 'string' } }, ['package', 'name'] as const),
    stepOf('make-dirs', { paths: stringList }, ['paths'] as const),
    stepOf('write-file', { file: { enum: MANAGED_FILES }, path: { type: 'string' }, content: { type: 'string' }, mode: { type: 'integer' } }, ['file', 'path', 'content', 'mode'] as const),
    stepOf('install-secret', { path: { type: 'string' }, key_id: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, ['path', 'key_id'] as const),
    stepOf('stop-brew-service', { name: { type: 'string' } }, ['name'] as const),
    stepOf('load-agent', { label: { type: 'string' }, plist_path: { type: 'string' }, reload: { type: 'boolean' } }, ['label', 'plist_path', 'reload'] as const),
    stepOf('restart-agent', { label: { type: 'string' } }, ['label'] as const),
    stepOf('unload-agent', { label: { type: 'string' }, plist_path: { type: 'string' } }, ['label', 'plist_path'] as const),
    stepOf('pull-model', { model: { type: 'string' }, bytes: { type: 'integer', minimum: 0 }, lan_targets: stringList, cache: { type: 'boolean' } }, ['model', 'bytes'] as const),
    stepOf('copy-model', {
      model: { type: 'string' }, bytes: { type: 'integer', minimum: 0 }, source: { type: 'string' }, peers: stringList, fallback: { enum: ['internet', 'none'] },
    }, ['model', 'bytes', 'source', 'peers', 'fallback'] as const),
    stepOf('remove-model', { model: { type: 'string' }, bytes: { type: 'integer', minimum: 0 } }, ['model', 'bytes'] as const),
    stepOf('set-crontab', { line: { type: ['string', 'null'] }, marker: { type: 'string' } }, ['line', 'marker'] as const),
    stepOf('register', { url: { type: 'string' }, payload: { type: 'object' } }, ['url', 'payload'] as const),
    stepOf('write-generated', { files: stringList }, ['files'] as const),
    stepOf('reload-openclaw', {}, [] as const),
    stepOf('manual', {
      reason: { enum: ['ssh-bootstrap', 'sudo-password', 'harpa-setup', 'launchd-domain', 'hardware-mismatch', 'host-key', 'disk-space'] },
      instructions: stringList,
    }, ['reason', 'instructions'] as const),
  ],
} as const;

export const NODE_STATUSES = ['in-sync', 'drifted', 'unreachable', 'away', 'refused', 'unknown-hardware', 'planned', 'retired', 'error'] as const;

export const planSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/plan.schema.json`,
  title: 'Fleet plan',
  description: 'What `fleet plan --format json` prints: per node its status, differences and steps in dependency order, then the fleet steps on Bob.',
  type: 'object',
  additionalProperties: false,
  required: ['$schema', 'format_version', 'summary', 'nodes', 'fleet'],
  properties: {
    $schema: { type: 'string' },
    format_version: { const: 1 },
    summary: {
      type: 'object', additionalProperties: false,
      required: ['nodes', 'by_status', 'steps', 'manual_steps', 'fleet_steps', 'exit_code'],
      properties: {
        nodes: { type: 'integer', minimum: 0 },
        by_status: { type: 'object', propertyNames: { enum: NODE_STATUSES }, additionalProperties: { type: 'integer', minimum: 1 } },
        steps: { type: 'integer', minimum: 0 },
        manual_steps: { type: 'integer', minimum: 0 },
        fleet_steps: { type: 'integer', minimum: 0 },
        exit_code: { enum: [0, 1, 2], description: '0 no changes, 2 changes pending, 1 a node in error.' },
      },
    },
    nodes: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false,
        required: ['node', 'status', 'summary', 'differences', 'steps'],
        properties: {
          node: { type: 'string' },
          status: { enum: NODE_STATUSES },
          summary: { type: 'string' },
          differences: {
            type: 'array',
            items: {
              type: 'object', additionalProperties: false, required: ['field', 'desired', 'observed'],
              properties: { field: { type: 'string' }, desired: { type: ['string', 'null'] }, observed: { type: ['string', 'null'] } },
            },
          },
          steps: { type: 'array', items: planStepSchema },
          notes: stringList,
        },
      },
    },
    fleet: { type: 'array', items: planStepSchema },
    transfers: {
      type: 'array',
      description: 'How each missing model reaches the nodes: the internet pull and the LAN copies, with their bytes.',
      items: {
        type: 'object', additionalProperties: false, required: ['model', 'bytes', 'internet', 'lan', 'internet_bytes', 'lan_bytes'],
        properties: {
          model: { type: 'string' },
          bytes: { type: 'integer', minimum: 0 },
          internet: stringList,
          lan: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['source', 'targets'], properties: { source: { type: 'string' }, targets: stringList } } },
          internet_bytes: { type: 'integer', minimum: 0 },
          lan_bytes: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;
