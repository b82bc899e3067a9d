// ~/.symphony/fleetd.yaml on Bob: the settings only Bob's owner decides. The
// fleet repository describes the fleet; it never decides where Bob writes,
// what Bob signals, which key Bob uses or whether a host key is checked.
// `npm run schemas` writes this to schemas/fleetd-config.schema.json.
import type { FromSchema } from 'json-schema-to-ts';

const BASE = 'https://symphony-fleet.dev/schemas';

/** An absolute path or one under Bob's home (`~/...`), one line. */
export const LOCAL_PATH = '^(/|~/)[^\\u0000-\\u001f\\u007f\\u0085\\u2028\\u2029]{0,1000}$';

export const DEFAULT_BOB_SETTINGS = {
  registry_path: '~/.symphony/registry/nodes_registry.json',
  workers_path: '~/.symphony/openclaw_workers.json',
  pid_file: '~/.symphony/openclaw.pid',
  process_name: 'openclaw',
  tofu_known_hosts: '~/.symphony/known_hosts.tofu',
  secrets_dir: '~/.symphony/node-secrets',
} as const;

export const fleetdConfigSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${BASE}/fleetd-config.schema.json`,
  title: 'Bob-local settings of fleet daemon',
  description: '~/.symphony/fleetd.yaml on Bob (or `fleet daemon --config FILE`). Never in the fleet repository: these decide what Bob writes, signals and trusts. Every key is optional.',
  type: 'object',
  additionalProperties: false,
  properties: {
    registry_path: { type: 'string', pattern: LOCAL_PATH, default: DEFAULT_BOB_SETTINGS.registry_path, description: 'Where the health monitor and OpenClaw read nodes_registry.json.' },
    workers_path: { type: 'string', pattern: LOCAL_PATH, default: DEFAULT_BOB_SETTINGS.workers_path, description: 'Where OpenClaw reads openclaw_workers.json.' },
    openclaw: {
      type: 'object', additionalProperties: false, default: {},
      description: 'The OpenClaw process Bob sends SIGHUP when its workers file changed.',
      properties: {
        pid_file: { anyOf: [{ type: 'string', pattern: LOCAL_PATH }, { type: 'null' }], default: DEFAULT_BOB_SETTINGS.pid_file, description: 'OpenClaw\'s pid file; null: none.' },
        process_name: { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' }, { type: 'null' }], default: DEFAULT_BOB_SETTINGS.process_name, description: 'Exact process name signalled when there is no pid file (pgrep -x); null: none.' },
      },
    },
    ssh: {
      type: 'object', additionalProperties: false, default: {},
      description: 'How Bob logs in to nodes and trusts their host keys.',
      properties: {
        key_path: { type: 'string', pattern: LOCAL_PATH, description: 'Bob\'s private key; default: fleet.yaml\'s ssh.key_path (a file in ~/.ssh/).' },
        trust_on_first_use: { type: 'boolean', default: false, description: 'Accept the first host key a node without a pin in fleet/known_hosts presents, pin it in tofu_known_hosts, and refuse any later change. Off: unknown keys need `fleet trust NODE`.' },
        tofu_known_hosts: { type: 'string', pattern: LOCAL_PATH, default: DEFAULT_BOB_SETTINGS.tofu_known_hosts, description: 'Where keys trusted on first use are pinned (OpenSSH known_hosts format).' },
      },
    },
    secrets_dir: { type: 'string', pattern: LOCAL_PATH, default: DEFAULT_BOB_SETTINGS.secrets_dir, description: 'Per-node heartbeat keys (0600 files in a 0700 directory): Bob verifies signed heartbeats with them; `fleet apply` installs each on its node.' },
  },
} as const;

export type FleetdConfigDoc = FromSchema<typeof fleetdConfigSchema>;
