// Bob's own settings (~/.symphony/fleetd.yaml, schema in
// schema/fleetd-config.ts): read once at start, every problem reported with
// file:line:col, defaults filled in, `~/` expanded. A missing file means the
// defaults; an invalid one stops the command before it touches anything.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { FleetError } from '../errors.ts';
import { expandHome } from '../apply/bob-local.ts';
import { DEFAULT_LIMITS, parseYamlFile } from '../load/parse-yaml.ts';
import type { PathSegment } from '../load/parse-yaml.ts';
import { fleetdConfigSchema, type FleetdConfigDoc } from '../schema/fleetd-config.ts';
import { DEFAULT_ALERT_RULES, type AlertRules } from './alerts.ts';
import type { NotifierTarget } from './notifier.ts';

export interface BobConfig {
  /** The file read, or null when there was none (all defaults). */
  file: string | null;
  home: string;
  registryPath: string;
  workersPath: string;
  openclaw: { pidFile: string | null; processName: string | null };
  ssh: {
    /** null: fleet.yaml's ssh.key_path. */
    keyPath: string | null;
    trustOnFirstUse: boolean;
    tofuKnownHosts: string;
  };
  secretsDir: string;
  /** The local token a person needs to act through the daemon's HTTP side (dashboard "Reconcile now"). */
  localTokenFile: string;
  alerts: { targets: NotifierTarget[]; rules: AlertRules };
}

/** Where Bob's settings live for a given home: `<home>/.symphony/fleetd.yaml`. */
export function bobConfigPath(home: string): string {
  return join(home, '.symphony', 'fleetd.yaml');
}

/** Bob's home: the real one, or `<targets dir>/bob` for a simulated fleet. */
export function bobHomeFor(targetsFile: string | undefined, home: string): string {
  return targetsFile ? join(dirname(targetsFile), 'bob') : home;
}

function resolveConfig(doc: FleetdConfigDoc, home: string, file: string | null): BobConfig {
  const path = (p: string): string => expandHome(p, home);
  const openclaw = doc.openclaw ?? {};
  const ssh = doc.ssh ?? {};
  return {
    file,
    home,
    registryPath: path(doc.registry_path ?? ''),
    workersPath: path(doc.workers_path ?? ''),
    openclaw: {
      pidFile: openclaw.pid_file === null || openclaw.pid_file === undefined ? null : path(openclaw.pid_file),
      processName: openclaw.process_name ?? null,
    },
    ssh: {
      keyPath: ssh.key_path === undefined ? null : path(ssh.key_path),
      trustOnFirstUse: ssh.trust_on_first_use ?? false,
      tofuKnownHosts: path(ssh.tofu_known_hosts ?? ''),
    },
    secretsDir: path(doc.secrets_dir ?? ''),
    localTokenFile: path(doc.local_token_file ?? ''),
    alerts: {
      targets: (doc.alerts?.targets ?? []).map((t) => ({ format: t.format, url: t.url })),
      rules: {
        unreachable_minutes: doc.alerts?.unreachable_minutes ?? DEFAULT_ALERT_RULES.unreachable_minutes,
        ollama_down_minutes: doc.alerts?.ollama_down_minutes ?? DEFAULT_ALERT_RULES.ollama_down_minutes,
        low_disk_gb: doc.alerts?.low_disk_gb ?? DEFAULT_ALERT_RULES.low_disk_gb,
        drift_reconciles: doc.alerts?.drift_reconciles ?? DEFAULT_ALERT_RULES.drift_reconciles,
        cooldown_minutes: doc.alerts?.cooldown_minutes ?? DEFAULT_ALERT_RULES.cooldown_minutes,
        max_per_hour: doc.alerts?.max_per_hour ?? DEFAULT_ALERT_RULES.max_per_hour,
      },
    },
  };
}

/** Parses and validates the text of a fleetd.yaml; throws a FleetError listing every problem. */
export function parseBobConfig(file: string, text: string, home: string): BobConfig {
  // Nothing but comments: every default (fleet files may not be empty, this one may).
  if (text.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('#'))) return resolveConfig(defaults(), home, file);
  const parsed = parseYamlFile(file, text, DEFAULT_LIMITS);
  const problems = parsed.problems.filter((p) => p.severity === 'error').map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`);
  const source = parsed.source;
  if (source !== null && problems.length === 0) {
    // An empty file is all defaults.
    const data: unknown = source.data ?? {};
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true });
    const check = ajv.compile<FleetdConfigDoc>(fleetdConfigSchema);
    if (check(data)) return resolveConfig(data, home, file);
    for (const err of check.errors ?? []) {
      const path: PathSegment[] = err.instancePath === '' ? [] : err.instancePath.slice(1).split('/');
      const extra = err.keyword === 'additionalProperties' ? String((err.params as { additionalProperty?: unknown }).additionalProperty) : null;
      const pos = source.locate(extra === null ? path : [...path, extra], extra === null ? 'value' : 'key');
      const what = extra === null ? `${path.join('.') || 'the file'} ${err.message ?? 'is invalid'}` : `unknown key ${JSON.stringify(extra)}`;
      problems.push(`${file}:${pos.line}:${pos.col} ${what}`);
    }
  }
  throw new FleetError('invalid-input', `Bob's settings ${file} are invalid, nothing was started:\n${problems.join('\n')}\nFix the file (schemas/fleetd-config.schema.json lists every key), or move it away to use the defaults.`);
}

/** Reads `file` (default `<home>/.symphony/fleetd.yaml`); the defaults when it does not exist. */
export async function loadBobConfig(home: string, file?: string): Promise<BobConfig> {
  const path = file ?? bobConfigPath(home);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && file === undefined) return resolveConfig(defaults(), home, null);
    throw new FleetError('invalid-input', `cannot read Bob's settings ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseBobConfig(path, text, home);
}

function defaults(): FleetdConfigDoc {
  const ajv = new Ajv2020({ useDefaults: true, strict: true });
  const doc: unknown = {};
  // An empty document is valid and comes back with every default filled in.
  if (!ajv.compile<FleetdConfigDoc>(fleetdConfigSchema)(doc)) throw new FleetError('internal', 'the fleetd.yaml defaults do not validate');
  return doc;
}

/** The defaults for a home, without reading anything (tests, `fleet apply` on a simulated fleet). */
export function defaultBobConfig(home: string): BobConfig {
  return resolveConfig(defaults(), home, null);
}
