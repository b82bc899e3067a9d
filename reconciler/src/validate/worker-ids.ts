// Which OpenClaw workers a node has: the role's defaults (its Ollama worker,
// its HARPA worker) with the node's overrides, then the node's own `workers:`.
// One definition for validate (ids, routing references, models) and generate.
import type { NodeDoc, RoleDoc } from '../schema/fleet.ts';

export type WorkerKind = 'local' | 'ollama' | 'harpa' | 'extra';
export type WorkerType = 'ollama_local' | 'ollama_remote' | 'harpa_grid';

/** A worker as fleet/ declares it; generate adds what was observed. */
export interface DeclaredWorker {
  worker_id: string;
  node: string;
  /** local/ollama/harpa: a default of the role; extra: from the node's `workers:`. */
  kind: WorkerKind;
  type: WorkerType;
  /** Where it is written: the path in the node file of its id (or of `role` for a default id). */
  path: (string | number)[];
  /** Where its `models` list is (or would be) written. */
  modelsPath: (string | number)[];
  display_name: string | undefined;
  endpoint: string | undefined;
  priority: number | undefined;
  max_concurrent: number | undefined;
  task_types: string[];
  /** As written (not normalised); undefined: all of the node's models. */
  models: string[] | undefined;
  /** Its own switch; the node's openclaw.enabled applies on top. */
  enabled: boolean;
  notes: string | undefined;
}

/** Worker ids allow `_` but not `-`: `grand-piano` becomes `grand_piano`. */
export function workerIdBase(node: string): string {
  return node.replaceAll('-', '_');
}

/** ollama_local for the node that runs OpenClaw (Bob reaches its own Ollama on loopback). */
function isLocal(node: Pick<NodeDoc, 'name'>, role: Pick<RoleDoc, 'services'>, bobNode: string | undefined): boolean {
  return role.services.openclaw || node.name === bobNode;
}

/**
 * The node's workers, role defaults first: `<node>_local` for Bob's Ollama
 * (OpenClaw reaches it on loopback), `<node>_ollama` for every other node
 * running Ollama, `<node>_harpa` when the role gives HARPA task types (ids
 * settable in the node's `openclaw:`), then the node's `workers:` in order.
 */
export function declaredWorkers(node: Pick<NodeDoc, 'name' | 'openclaw' | 'workers'>, role: Pick<RoleDoc, 'services' | 'openclaw'>, bobNode?: string): DeclaredWorker[] {
  const base = workerIdBase(node.name);
  const o = node.openclaw;
  const out: DeclaredWorker[] = [];
  if (role.services.ollama) {
    const local = isLocal(node, role, bobNode);
    const kind: WorkerKind = local ? 'local' : 'ollama';
    out.push({
      worker_id: o?.worker_id ?? `${base}_${kind}`,
      node: node.name,
      kind,
      type: local ? 'ollama_local' : 'ollama_remote',
      path: o?.worker_id !== undefined ? ['openclaw', 'worker_id'] : ['name'],
      modelsPath: ['openclaw', 'models'],
      display_name: o?.display_name,
      endpoint: o?.endpoint,
      priority: o?.priority ?? role.openclaw.priority,
      max_concurrent: o?.max_concurrent,
      task_types: [...(o?.task_types ?? role.openclaw.task_types)],
      models: o?.models === undefined ? undefined : [...o.models],
      enabled: true,
      notes: o?.notes,
    });
  }
  if (role.services.harpa && (role.openclaw.harpa_task_types?.length ?? 0) > 0) {
    const h = o?.harpa;
    out.push({
      worker_id: h?.worker_id ?? `${base}_harpa`,
      node: node.name,
      kind: 'harpa',
      type: 'harpa_grid',
      path: h?.worker_id !== undefined ? ['openclaw', 'harpa', 'worker_id'] : ['name'],
      modelsPath: ['openclaw', 'harpa', 'models'],
      display_name: h?.display_name,
      endpoint: undefined,
      priority: h?.priority,
      max_concurrent: h?.max_concurrent,
      task_types: [...(h?.task_types ?? role.openclaw.harpa_task_types ?? [])],
      models: undefined,
      enabled: true,
      notes: h?.notes,
    });
  }
  (node.workers ?? []).forEach((w, i) => {
    out.push({
      worker_id: w.id,
      node: node.name,
      kind: 'extra',
      type: w.type,
      path: ['workers', i, 'id'],
      modelsPath: ['workers', i, 'models'],
      display_name: w.display_name,
      endpoint: w.endpoint,
      priority: w.priority,
      max_concurrent: w.max_concurrent,
      task_types: [...w.task_types],
      models: w.models === undefined ? undefined : [...w.models],
      enabled: w.enabled ?? true,
      notes: w.notes,
    });
  });
  return out;
}
