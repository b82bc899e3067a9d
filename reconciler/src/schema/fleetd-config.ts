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
  local_token_file: '~/.symphony/fleetd.token',
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
    local_token_file: { type: 'string', pattern: LOCAL_PATH, default: DEFAULT_BOB_SETTINGS.local_token_file, description: 'The local token (created 0600 at the first start): what a person on Bob gives the dashboard to act ("Reconcile now"). Without it the page is read-only.' },
    alerts: {
      type: 'object', additionalProperties: false, default: {},
      description: 'Where Bob sends alerts (each sent once, with a recovery message when it clears, rate-limited) and when.',
      properties: {
        targets: {
          type: 'array', maxItems: 10, default: [],
          items: {
            type: 'object', additionalProperties: false, required: ['format', 'url'],
            properties: {
              format: { enum: ['webhook', 'ntfy', 'slack'], description: 'webhook: a JSON object per message; ntfy: the message to a topic URL (https://ntfy.sh/TOPIC); slack: a Slack-compatible incoming webhook ({"text": ...}).' },
              url: { type: 'string', pattern: '^https?://[^\\s]{1,2000}$', description: 'Where to POST. Can hold a secret (a Slack hook): never logged or shown.' },
            },
          },
        },
        unreachable_minutes: { type: 'number', minimum: 1, maximum: 10080, default: 10, description: 'Alert when a node (never a roaming laptop that is away) has been unreachable this long.' },
        ollama_down_minutes: { type: 'number', minimum: 0, maximum: 10080, default: 0, description: 'Alert when Ollama has been down this long on a node that should serve (0: at once).' },
        low_disk_gb: { type: 'number', minimum: 0, maximum: 100000, default: 20, description: 'Alert when a node has less free disk (GB of 10^9 bytes).' },
        drift_reconciles: { type: 'integer', minimum: 1, maximum: 1000, default: 3, description: 'Alert when a node is still drifted after this many reconciles in a row.' },
        cooldown_minutes: { type: 'number', minimum: 0, maximum: 10080, default: 30, description: 'After a recovery, the same alert waits this long before it fires again.' },
        max_per_hour: { type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'Messages per rolling hour, all alerts together; the rest are counted and reported with the next.' },
      },
    },
    secrets_dir: { type: 'string', pattern: LOCAL_PATH, default: DEFAULT_BOB_SETTINGS.secrets_dir, description: 'Per-node heartbeat keys (0600 files in a 0700 directory): Bob verifies signed heartbeats with them; `fleet apply` installs each on its node.' },
  },
} as const;

export type FleetdConfigDoc = FromSchema<typeof fleetdConfigSchema>;
