// What Bob's owner sets for alerts in ~/.symphony/fleetd.yaml (`alerts:`):
// the rules' thresholds and where notifications go. Settings only: the
// judging is daemon/alerts.ts, the sending daemon/notifier.ts.

export const ALERT_KINDS = ['node-unreachable', 'ollama-down', 'invalid-revision', 'pull-failed', 'low-disk', 'drift-not-healed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRules {
  /** A node (not a roaming laptop) unreachable this long. */
  unreachable_minutes: number;
  /** Ollama down this long on a node that should serve (0: at the first observation). */
  ollama_down_minutes: number;
  /** Free disk under this many GB (10^9 bytes); clears 10% above it. */
  low_disk_gb: number;
  /** A node still drifted after this many reconciles in a row. */
  drift_reconciles: number;
  /** After a recovery, the same alert waits this long before it fires again. */
  cooldown_minutes: number;
  /** Messages per rolling hour, all alerts together. */
  max_per_hour: number;
}

export const DEFAULT_ALERT_RULES: AlertRules = {
  unreachable_minutes: 10,
  ollama_down_minutes: 0,
  low_disk_gb: 20,
  drift_reconciles: 3,
  cooldown_minutes: 30,
  max_per_hour: 20,
};

export const NOTIFIER_FORMATS = ['webhook', 'ntfy', 'slack'] as const;
export type NotifierFormat = (typeof NOTIFIER_FORMATS)[number];

export interface NotifierTarget {
  format: NotifierFormat;
  url: string;
}

