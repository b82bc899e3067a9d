// The desired state: what the YAML under fleet/ says, after schema validation,
// and the per-node view every later stage uses (resolveNode).
import type { FleetSettingsDoc, Hardware, ModelFacts, NodeDoc, OllamaEnv, RetiredDoc, RoleDoc } from '../schema/fleet.ts';
import { declaredWorkers, type DeclaredWorker } from '../validate/worker-ids.ts';

export interface Desired {
  /** The fleet directory the files came from (for messages only). */
  dir: string;
  settings: FleetSettingsDoc;
  roles: Record<string, RoleDoc>;
  hardware: Record<string, Hardware>;
  /** Keyed by normalised reference (`name:tag`). */
  models: Record<string, ModelFacts>;
  /** Sorted by name. */
  nodes: NodeDoc[];
  retired: RetiredDoc['retired'];
  /** Text of the pinned known_hosts file ('' when absent). */
  knownHosts: string;
}

export type FullOllamaEnv = Required<Pick<OllamaEnv, 'OLLAMA_HOST' | 'OLLAMA_KEEP_ALIVE' | 'OLLAMA_MAX_LOADED_MODELS' | 'OLLAMA_CONTEXT_LENGTH' | 'OLLAMA_NUM_PARALLEL'>> & OllamaEnv;

/** One node with its role, hardware and settings merged: what plan, fit and generate read. */
export interface DesiredNode {
  name: string;
  display_name: string;
  role: RoleDoc;
  hardware_id: string;
  /** undefined when the id is unknown (validate reports it). */
  hardware: Hardware | undefined;
  addresses: string[];
  presence: 'always_on' | 'roaming';
  status: 'planned' | 'active' | 'retired';
  added: string | undefined;
  retired: string | undefined;
  /**
   * Role base models plus the node's own (only the node's own with
   * `role_models: replace`), normalised, sorted, de-duplicated; [] for a role without Ollama.
   */
  models: string[];
  ollama_env: FullOllamaEnv;
  openclaw: { priority: number | undefined; max_concurrent: number | undefined; task_types: string[]; harpa_task_types: string[]; enabled: boolean };
  /** The role's default workers then the node's own; worker models normalised. */
  workers: DeclaredWorker[];
  notes: string | undefined;
}

/** `nomic-embed-text` and `nomic-embed-text:latest` are the same model. */
export function normalizeModelRef(ref: string): string {
  const slash = ref.lastIndexOf('/');
  return ref.indexOf(':', slash + 1) === -1 ? `${ref}:latest` : ref;
}

export function displayNameOf(node: Pick<NodeDoc, 'name' | 'display_name'>): string {
  return node.display_name ?? node.name.charAt(0).toUpperCase() + node.name.slice(1);
}

/** The models a node serves: its role's base models and its own, or only its own with `role_models: replace`. */
export function nodeModels(node: Pick<NodeDoc, 'models' | 'role_models'>, role: Pick<RoleDoc, 'models' | 'services'>): string[] {
  if (!role.services.ollama) return [];
  const base = node.role_models === 'replace' ? [] : role.models;
  return [...new Set([...base, ...(node.models ?? [])].map(normalizeModelRef))].sort();
}

export function resolveNode(desired: Desired, node: NodeDoc): DesiredNode {
  const role = desired.roles[node.role];
  if (!role) throw new Error(`resolveNode: unknown role ${node.role} (validate first)`);
  const models = nodeModels(node, role);
  return {
    name: node.name,
    display_name: displayNameOf(node),
    role,
    hardware_id: node.hardware,
    hardware: desired.hardware[node.hardware],
    addresses: [...node.addresses],
    presence: node.presence,
    status: node.status,
    added: node.added,
    retired: node.retired,
    models,
    ollama_env: { ...desired.settings.ollama.env, ...node.ollama_env },
    openclaw: {
      priority: node.openclaw?.priority ?? role.openclaw.priority,
      max_concurrent: node.openclaw?.max_concurrent,
      task_types: [...(node.openclaw?.task_types ?? role.openclaw.task_types)],
      harpa_task_types: [...(role.openclaw.harpa_task_types ?? [])],
      enabled: node.openclaw?.enabled ?? role.openclaw.enabled,
    },
    workers: declaredWorkers(node, role, desired.settings.network.bob_node).map((w) => (w.models === undefined ? w : { ...w, models: [...new Set(w.models.map(normalizeModelRef))].sort() })),
    notes: node.notes,
  };
}

export function resolveNodes(desired: Desired): DesiredNode[] {
  return desired.nodes.map((n) => resolveNode(desired, n));
}
