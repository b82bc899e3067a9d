// Bodies of Bob's registry API as nodes send them today (see
// shared/reference/symphony-interfaces.md). Tight on the fields Bob uses,
// tolerant of extra fields: nodes provisioned by older scripts still work.
import type { FromSchema } from 'json-schema-to-ts';
import { ADDRESS, IPV4, NODE_NAME, ONE_LINE, ROLE_NAME } from './common.ts';

const BASE = 'https://symphony-fleet.dev/schemas';

/** `UNKNOWN` is what the heartbeat script sends when the node could not tell its address. */
export const UNKNOWN_IP = 'UNKNOWN';

const reportedIp = {
  type: 'string', maxLength: 64,
  anyOf: [{ pattern: IPV4 }, { const: UNKNOWN_IP }],
  description: 'The node\'s current IPv4 address, or UNKNOWN.',
} as const;
const timestamp = { type: 'string', maxLength: 64, pattern: ONE_LINE, description: 'When the node sent it (ISO 8601); informational, Bob records its own time.' } as const;

export const heartbeatRequestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/heartbeat-request.schema.json`,
  title: 'Heartbeat',
  description: 'POST /api/heartbeat, sent by every node each minute.',
  type: 'object',
  required: ['node_id', 'ip'],
  properties: {
    node_id: { type: 'string', pattern: NODE_NAME, maxLength: 63 },
    ip: reportedIp,
    timestamp,
  },
} as const;

export const registerRequestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/register-request.schema.json`,
  title: 'Node registration',
  description: 'POST /api/nodes/register, sent once at the end of provisioning (self_registration.json).',
  type: 'object',
  required: ['node_id', 'role', 'ip', 'hostname'],
  properties: {
    node_id: { type: 'string', pattern: NODE_NAME, maxLength: 63 },
    display_name: { type: 'string', pattern: ONE_LINE, maxLength: 63 },
    role: { type: 'string', pattern: ROLE_NAME },
    ip: reportedIp,
    hostname: { type: 'string', pattern: ADDRESS, maxLength: 253 },
    services: {
      type: 'object',
      properties: {
        ollama: { type: 'boolean' },
        ollama_port: { type: 'integer', minimum: 1, maximum: 65535 },
        docker: { type: 'boolean' },
        harpa: { type: 'boolean' },
      },
    },
    registered_at: timestamp,
  },
} as const;

export type HeartbeatRequest = FromSchema<typeof heartbeatRequestSchema>;
export type RegisterRequest = FromSchema<typeof registerRequestSchema>;
