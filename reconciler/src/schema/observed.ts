// What `observe` saw on one node: plain data, the input of plan and generate.
// `fleet observe --format json` prints an array of these; the daemon keeps the
// last one per node as the offline snapshot.
import type { FromSchema } from 'json-schema-to-ts';
import { NODE_NAME, SHA256_HEX } from './common.ts';

const BASE = 'https://symphony-fleet.dev/schemas';
const nullableString = { type: ['string', 'null'] } as const;

const managedFile = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['sha256', 'size'],
  description: 'A managed file on the node, or null when it is missing.',
  properties: {
    sha256: { type: 'string', pattern: SHA256_HEX },
    size: { type: 'integer', minimum: 0 },
    content: { type: 'string', description: 'Text content, when small (for diffs in drift reports).' },
    truncated: { type: 'boolean', description: 'The file was larger than observe reads: sha256 and size cover only its start (it cannot match a managed file).' },
  },
} as const;

export const MANAGED_FILES = ['ollama_env', 'launchd_plist', 'heartbeat_script', 'harpa_instructions', 'self_registration'] as const;
export type ManagedFileId = (typeof MANAGED_FILES)[number];

export const observedNodeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/observed.schema.json`,
  title: 'Observed node',
  description: 'One node as observe saw it. `reach.status` other than ok means `facts` is absent: unreachable is never read as "everything missing".',
  type: 'object',
  additionalProperties: false,
  required: ['node', 'observed_at', 'reach'],
  properties: {
    node: { type: 'string', pattern: NODE_NAME },
    observed_at: { type: 'string', description: 'ISO time the observation finished.' },
    duration_ms: { type: 'number', minimum: 0 },
    reach: {
      type: 'object', additionalProperties: false, required: ['status', 'attempts'],
      properties: {
        status: { enum: ['ok', 'unreachable', 'timeout', 'auth-failed', 'host-key-changed', 'host-key-unknown', 'error'], description: 'ok: logged in and probed.' },
        address: { type: 'string', description: 'The address that answered (the first that did, in the node\'s order).' },
        message: { type: 'string', description: 'Why not, for people.' },
        attempts: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['address', 'result'],
            properties: {
              address: { type: 'string' },
              result: { enum: ['ok', 'refused', 'timeout', 'dns', 'auth-failed', 'host-key-changed', 'host-key-unknown', 'blocked', 'error'] },
              message: { type: 'string' },
            },
          },
        },
        host_key: {
          type: 'object', additionalProperties: false, required: ['fingerprint', 'line'],
          properties: {
            fingerprint: { type: 'string', description: 'SHA256:... as ssh-keygen -l prints it.' },
            expected: { type: 'string', description: 'The pinned fingerprint, when it differs.' },
            line: { type: 'string', description: 'known_hosts line for the key seen.' },
            trusted_on_first_use: { type: 'boolean' },
          },
        },
      },
    },
    facts: {
      type: 'object', additionalProperties: false,
      required: ['hostnames', 'os', 'hardware', 'disk', 'brew', 'ollama', 'files', 'launchd', 'crontab', 'sudo', 'ip'],
      properties: {
        hostnames: {
          type: 'object', additionalProperties: false, required: ['computer_name', 'host_name', 'local_host_name'],
          properties: { computer_name: nullableString, host_name: nullableString, local_host_name: nullableString },
        },
        os: {
          type: 'object', additionalProperties: false, required: ['product_version', 'build_version'],
          properties: {
            product_version: nullableString,
            build_version: nullableString,
            product_name: nullableString,
            product_version_extra: { ...nullableString, description: 'Rapid Security Response suffix, e.g. (a).' },
          },
        },
        hardware: {
          type: 'object', additionalProperties: false, required: ['architecture', 'chip', 'ram_bytes', 'ncpu'],
          properties: {
            architecture: nullableString,
            chip: nullableString,
            ram_bytes: { type: ['integer', 'null'] },
            ncpu: { type: ['integer', 'null'] },
            hw_model: nullableString,
            arm64_capable: { type: 'boolean', description: 'hw.optional.arm64: true on Apple Silicon even under Rosetta.' },
          },
        },
        disk: {
          type: 'object', additionalProperties: false, required: ['total_bytes', 'available_bytes'],
          properties: {
            total_bytes: { type: ['integer', 'null'] },
            available_bytes: { type: ['integer', 'null'] },
            models_bytes: { type: ['integer', 'null'], description: 'du of ~/.ollama/models.' },
          },
        },
        brew: {
          type: 'object', additionalProperties: false, required: ['prefix', 'formulae', 'casks'],
          properties: {
            prefix: { ...nullableString, description: 'null: Homebrew not installed.' },
            formulae: { type: 'object', additionalProperties: { type: 'string' }, description: 'name -> version.' },
            casks: { type: 'object', additionalProperties: { type: 'string' }, description: 'name -> version.' },
            services: { type: 'object', additionalProperties: { type: 'string' }, description: 'brew services: name -> status (started, stopped, error...).' },
          },
        },
        ollama: {
          type: 'object', additionalProperties: false, required: ['cli_version', 'local', 'external', 'models', 'loaded'],
          properties: {
            cli_version: { ...nullableString, description: 'ollama --version; null when the command is missing.' },
            local: {
              type: 'object', additionalProperties: false, required: ['up'],
              description: 'curl 127.0.0.1:<port>/api/version from inside the node.',
              properties: {
                up: { type: 'boolean' },
                version: { type: 'string' },
                status: { type: 'integer', description: 'HTTP status of a failed answer (e.g. 500).' },
                error: { type: 'string' },
              },
            },
            external: {
              type: 'object', additionalProperties: false, required: ['up'],
              description: 'The official ollama client from Bob to http://<address>:<port>.',
              properties: {
                up: { type: 'boolean' },
                version: { type: 'string' },
                url: { type: 'string' },
                error: { type: 'string' },
                status: { type: 'integer', description: 'HTTP status of a failed answer (e.g. 500).' },
              },
            },
            models: {
              type: 'array',
              items: {
                type: 'object', additionalProperties: false, required: ['name', 'digest', 'size'],
                properties: { name: { type: 'string' }, digest: { type: 'string' }, size: { type: 'integer', minimum: 0 } },
              },
            },
            loaded: {
              type: 'array',
              items: {
                type: 'object', additionalProperties: false, required: ['name', 'size', 'size_vram'],
                properties: { name: { type: 'string' }, size: { type: 'integer' }, size_vram: { type: 'integer' }, context_length: { type: 'integer' } },
              },
            },
            partial_bytes: { type: 'integer', minimum: 0, description: 'Bytes in *-partial blobs (an interrupted pull).' },
            models_source: {
              enum: ['local-api', 'external-api', 'disk', 'none'],
              description: 'Where `models` came from: the node\'s API, Bob\'s view of it, or the manifests on disk when no Ollama answered. none: unknown, not "no models".',
            },
          },
        },
        files: {
          type: 'object', additionalProperties: false,
          required: ['ollama_env', 'launchd_plist', 'heartbeat_script', 'harpa_instructions', 'self_registration'],
          properties: {
            ollama_env: managedFile,
            launchd_plist: managedFile,
            heartbeat_script: managedFile,
            harpa_instructions: managedFile,
            self_registration: managedFile,
          },
        },
        launchd: {
          type: 'object', additionalProperties: false, required: ['ollama'],
          properties: {
            ollama: {
              type: 'object', additionalProperties: false, required: ['loaded', 'pid', 'last_exit'],
              properties: {
                loaded: { type: 'boolean' },
                pid: { type: ['integer', 'null'] },
                last_exit: { type: ['integer', 'null'] },
                running: { type: 'boolean', description: 'Has a pid. Kept in snapshots, where pid is dropped as volatile.' },
              },
            },
          },
        },
        crontab: {
          type: 'object', additionalProperties: false, required: ['lines'],
          properties: { lines: { type: 'array', items: { type: 'string' } } },
        },
        sudo: { type: 'boolean', description: '`sudo -n true` exits 0.' },
        ip: { ...nullableString, description: 'ipconfig getifaddr en0 (en1 as fallback).' },
        uid: { type: ['integer', 'null'], description: 'id -u, for the gui/<uid> launchd domain.' },
        home: nullableString,
        dirs: {
          type: 'object', additionalProperties: { type: 'boolean' }, description: 'Managed directories: path -> exists.',
        },
        warnings: { type: 'array', items: { type: 'string' }, description: 'Probe sections that failed in an unexpected way, for people.' },
      },
    },
  },
} as const;

export type ObservedNode = FromSchema<typeof observedNodeSchema>;
export type ObservedFacts = NonNullable<ObservedNode['facts']>;
export type ObservedFile = ObservedFacts['files']['ollama_env'];
export type ReachStatus = ObservedNode['reach']['status'];

/** Bob's registry API state that generate needs: what nodes told Bob. */
export interface HeartbeatRecord {
  node_id: string;
  ip: string;
  last_seen: string;
}
