// Which OpenClaw workers a node contributes, and their ids. One definition
// for validate (uniqueness, routing references) and generate.
import type { RoleDoc } from '../schema/fleet.ts';

export type WorkerKind = 'local' | 'ollama' | 'harpa';

export interface WorkerRef {
  worker_id: string;
  node: string;
  kind: WorkerKind;
}

/** Worker ids allow `_` but not `-`: `grand-piano` becomes `grand_piano`. */
export function workerIdBase(node: string): string {
  return node.replaceAll('-', '_');
}

/**
 * `<node>_local` for the Ollama of the node that runs OpenClaw, Bob (OpenClaw
 * reaches it on loopback), `<node>_ollama` for every other node running
 * Ollama, `<node>_harpa` when the role gives HARPA task types.
 */
export function workerIdsOf(node: string, role: Pick<RoleDoc, 'services' | 'openclaw'>, bobNode?: string): WorkerRef[] {
  const base = workerIdBase(node);
  const out: WorkerRef[] = [];
  if (role.services.ollama) {
    const kind: WorkerKind = role.services.openclaw || node === bobNode ? 'local' : 'ollama';
    out.push({ worker_id: `${base}_${kind}`, node, kind });
  }
  if (role.services.harpa && (role.openclaw.harpa_task_types?.length ?? 0) > 0) {
    out.push({ worker_id: `${base}_harpa`, node, kind: 'harpa' });
  }
  return out;
}
