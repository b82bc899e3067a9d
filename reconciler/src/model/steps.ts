// A step in a plan is data. Every consumer (executor, renderer, summary)
// switches over `kind` exhaustively (see `assertNever`), so adding a kind is a
// compile error until every consumer handles it.
import type { ManagedFileId } from '../schema/observed.ts';
import type { planStepSchema } from '../schema/plan.ts';

interface StepBase {
  /** Stable id, unique in a plan: `<node>/<kind>[/<param>]` (`fleet/<kind>` for fleet steps). */
  id: string;
  /** The node the step runs on; null for fleet-level steps on Bob. */
  node: string | null;
  /** The observed fact that makes the step necessary, for people. */
  why: string;
  /**
   * Ids of steps that must succeed first (Homebrew before Ollama, Ollama before models...).
   * May name a `manual` step: a manual step is never done by the executor, so the steps
   * after it wait until a person has done it and a later plan no longer contains it.
   */
  after: string[];
}

export type ManualReason = 'ssh-bootstrap' | 'sudo-password' | 'harpa-setup' | 'launchd-domain' | 'hardware-mismatch' | 'host-key' | 'disk-space';

export type Step = StepBase & (
  /** ComputerName (display), HostName and LocalHostName (lowercase). Needs sudo. */
  | { kind: 'set-hostname'; computer_name: string; host_name: string; local_host_name: string }
  /** Homebrew, non-interactive, at the architecture's prefix. */
  | { kind: 'install-homebrew'; prefix: '/opt/homebrew' | '/usr/local' }
  /** The role's software: Homebrew formulae and casks. */
  | { kind: 'install-package'; package: 'formula' | 'cask'; name: string }
  | { kind: 'uninstall-package'; package: 'formula' | 'cask'; name: string }
  /** Managed directories (~/.symphony/registry, ~/.symphony/logs, ~/.ollama, ~/Library/LaunchAgents). */
  | { kind: 'make-dirs'; paths: string[] }
  /** A managed file (ollama.env, the agent's plist, the heartbeat script, the registration payload...): written atomically (temp file + rename) with exactly this content. */
  | { kind: 'write-file'; file: ManagedFileId; path: string; content: string; mode: number }
  /**
   * The node's heartbeat key (~/.symphony/heartbeat.key, 0600). The step carries
   * only the key's public id (sha256 of the file); the executor gets the key
   * itself from Bob's secret store, so no plan, log or output ever holds it.
   */
  | { kind: 'install-secret'; path: string; key_id: string }
  /** `brew services stop ollama`: a second Ollama that holds the port (drift). */
  | { kind: 'stop-brew-service'; name: string }
  /** Bootstrap the agent (or bootout + bootstrap when its plist changed), then kickstart. */
  | { kind: 'load-agent'; label: string; plist_path: string; reload: boolean }
  /** Restart Ollama (`launchctl kickstart -k`) because its environment changed. */
  | { kind: 'restart-agent'; label: string }
  /** `launchctl bootout`, then delete the plist so the agent does not come back at the next login. */
  | { kind: 'unload-agent'; label: string; plist_path: string }
  /**
   * Pull through the Ollama API; bytes for the disk check and ordering (small first).
   * `lan_targets`: nodes that copy the model from this one afterwards (plan/distribute-models.ts);
   * `cache`: pulled only so peers can copy it (the cache node), not desired here.
   */
  | { kind: 'pull-model'; model: string; bytes: number; lan_targets?: string[]; cache?: boolean }
  /**
   * A LAN copy from a peer Mac over SSH (apply/copy-model.ts): the blobs stream source -> target,
   * each verified against its sha256, the manifest written last. `source` is the planned peer,
   * `peers` the others that may serve it (in order); `fallback` what happens when none can:
   * an internet pull, or (a node that may not use the internet) a failure that says so.
   */
  | { kind: 'copy-model'; model: string; bytes: number; source: string; peers: string[]; fallback: 'internet' | 'none' }
  /** Only when pruning is on. */
  | { kind: 'remove-model'; model: string; bytes: number }
  /**
   * The heartbeat crontab line, replaced (never appended); null removes it.
   * The new table is `renderCrontab(current, line)` (plan/desired-files.ts): every line that runs
   * `.symphony/heartbeat.sh` and every marker line is dropped, then `marker` and `line` are appended.
   */
  | { kind: 'set-crontab'; line: string | null; marker: string }
  /** POST the self-registration payload to Bob's registry API. */
  | { kind: 'register'; url: string; payload: Record<string, unknown> }
  /** Bob: write generated/nodes_registry.json and openclaw_workers.json and install them. */
  | { kind: 'write-generated'; files: string[] }
  /** Bob: SIGHUP OpenClaw so it rereads its workers. */
  | { kind: 'reload-openclaw' }
  /** Something a person must do, with the exact instructions. */
  | { kind: 'manual'; reason: ManualReason; instructions: string[] }
);

export type StepKind = Step['kind'];
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

export const STEP_KINDS = [
  'set-hostname', 'install-homebrew', 'install-package', 'uninstall-package', 'make-dirs', 'write-file', 'install-secret',
  'stop-brew-service', 'load-agent', 'restart-agent', 'unload-agent', 'pull-model', 'copy-model', 'remove-model',
  'set-crontab', 'register', 'write-generated', 'reload-openclaw', 'manual',
] as const satisfies readonly StepKind[];

// Compile-time proof that STEP_KINDS lists every kind.
type Missing = Exclude<StepKind, (typeof STEP_KINDS)[number]>;
const _allKindsListed: Missing extends never ? true : Missing = true;
void _allKindsListed;

// Compile-time proof that the Step union and the plan's JSON Schema
// (schema/plan.ts) describe the same steps: per kind, the same fields, and
// the same ones required. A field added to one and not the other, or made
// optional in one only, fails `tsc` here and names the kind.
type SchemaStep = (typeof planStepSchema)['oneOf'][number];
type SchemaStepOf<K extends StepKind> = Extract<SchemaStep, { properties: { kind: { const: K } } }>;
/** Fields only the JSON output has (render-json.ts adds them). */
type RenderedOnly = 'description' | 'effect';
type SchemaFields<K extends StepKind> = Exclude<keyof SchemaStepOf<K>['properties'], RenderedOnly>;
type SchemaRequired<K extends StepKind> = Exclude<SchemaStepOf<K>['required'][number], RenderedOnly>;
type RequiredFields<T> = { [F in keyof T]-?: object extends Pick<T, F> ? never : F }[keyof T];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Drift = {
  [K in StepKind]: Same<SchemaFields<K>, keyof StepOf<K>> extends true
    ? Same<SchemaRequired<K>, RequiredFields<StepOf<K>>> extends true ? never : K
    : K;
}[StepKind];
const _schemaMatchesSteps: [Drift] extends [never] ? true : { drifted: Drift } = true;
void _schemaMatchesSteps;

export function assertNever(x: never): never {
  throw new Error(`unhandled step kind: ${JSON.stringify(x)}`);
}

/** Why a node is in the report the way it is. */
export type NodeStatus =
  | 'in-sync'
  | 'drifted'
  | 'unreachable'
  | 'away'
  | 'refused'
  | 'unknown-hardware'
  | 'planned'
  | 'retired'
  | 'error';

export interface Difference {
  /** Dotted path of the fact, e.g. `hostnames.host_name`, `models.llama3.1:8b`, `files.ollama_env`. */
  field: string;
  desired: string | null;
  observed: string | null;
}

export interface NodePlan {
  node: string;
  status: NodeStatus;
  /** One sentence on the status, e.g. "host key changed: expected SHA256:a, got SHA256:b". */
  summary: string;
  differences: Difference[];
  /** In dependency order (a stable topological order). */
  steps: Step[];
  /** Facts worth knowing that change nothing, e.g. "extra model mistral:7b kept (prune is off)". */
  notes?: string[];
}

/** Steps a person must do are data too; everything else is run by the executor. */
export function isManual(step: Step): step is StepOf<'manual'> {
  return step.kind === 'manual';
}

/** How one model reaches the nodes that lack it (plan/distribute-models.ts). */
export interface ModelRoute {
  model: string;
  /** Bytes of one copy of the model (the catalog's size). */
  bytes: number;
  /** Nodes that pull it from the internet (one in lan mode; every target in internet mode). */
  internet: string[];
  /** LAN copies, grouped by planned source: `virtuoso -> tempo, cadence`. */
  lan: { source: string; targets: string[] }[];
  internet_bytes: number;
  lan_bytes: number;
}

export interface Plan {
  /** Sorted by node name. */
  nodes: NodePlan[];
  /** Fleet-level steps on Bob (generated files, OpenClaw reload). */
  fleet: Step[];
  /** Model distribution, when any node lacks a model: one route per model, by name. */
  transfers?: ModelRoute[];
}

