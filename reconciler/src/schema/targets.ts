// targets.json: where to reach each node instead of the addresses in fleet/.
// `fleet sim up` writes it; plan, apply and daemon read it with --targets.
import type { FromSchema } from 'json-schema-to-ts';
import { NODE_NAME } from './common.ts';

export const targetsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://symphony-fleet.dev/schemas/targets.schema.json',
  title: 'Targets',
  description: 'Connection overrides per node (the simulated fleet, a lab).',
  type: 'object',
  additionalProperties: false,
  required: ['nodes'],
  properties: {
    bob: {
      type: 'object', additionalProperties: false, required: ['registry_url'],
      description: 'Where nodes reach Bob\'s registry API in this setting.',
      properties: { registry_url: { type: 'string' } },
    },
    control_url: { type: 'string', description: 'The simulator\'s control endpoint (faults), when this is a simulated fleet.' },
    nodes: {
      type: 'object',
      propertyNames: { pattern: NODE_NAME },
      additionalProperties: {
        type: 'object', additionalProperties: false, required: ['addresses', 'ssh_port', 'user', 'key_path', 'ollama_url'],
        properties: {
          addresses: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Tried in order, like a node\'s addresses.' },
          ssh_port: { type: 'integer', minimum: 1, maximum: 65535 },
          user: { type: 'string' },
          key_path: { type: 'string', description: 'Client private key (absolute).' },
          host_key: { type: 'string', description: 'Expected host key, known_hosts key part: `ssh-ed25519 AAAA...`.' },
          ollama_url: { type: 'string', description: 'http://host:port of the node\'s Ollama as Bob reaches it.' },
          ollama_port: { type: 'integer', description: 'Port Ollama uses inside the node (what `curl localhost:PORT` hits).' },
        },
      },
    },
  },
} as const;

export type Targets = FromSchema<typeof targetsSchema>;
export type Target = Targets['nodes'][string];
