// The text of a node file as `fleet add-node` writes it: the schema header,
// the keys in the order people read them, and comments that say what each
// value means. Values go through the YAML library so anything that would
// read back differently (`null`, `1.5`, `yes`) is quoted.
import { Document, isScalar, stringify, visit } from 'yaml';
import type { Hardware, NodeDoc, RoleDoc } from '../schema/fleet.ts';

export interface NodeFileContext {
  hardware?: Hardware | undefined;
  role?: RoleDoc | undefined;
  /** Path from the node file to the schema, for the yaml-language-server header. */
  schemaPath?: string;
  /** First comment line, e.g. "Added with `fleet add-node` on 2026-11-24." */
  headline?: string;
}

function scalar(value: string | number | boolean): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/** A line with a comment lined up at column 32, so the file reads as a table. */
function commented(line: string, comment: string): string {
  return `${line.padEnd(30)} # ${comment}`;
}

/** A mapping as block YAML, its lists of plain values in flow style (`task_types: [code, qa]`) as the fleet's files write them. */
function block(value: object, indent: string): string[] {
  const doc = new Document(value);
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every((i) => isScalar(i))) seq.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false }).trimEnd().split('\n').map((l) => `${indent}${l}`);
}

/** Worker keys in the order people read them. */
const WORKER_KEYS = ['id', 'type', 'display_name', 'endpoint', 'priority', 'max_concurrent', 'task_types', 'models', 'enabled', 'notes'] as const;
const OPENCLAW_KEYS = ['worker_id', 'display_name', 'endpoint', 'priority', 'max_concurrent', 'task_types', 'models', 'enabled', 'notes', 'harpa'] as const;

function ordered<T extends object>(value: T, keys: readonly string[]): T {
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  for (const k of Object.keys(v)) if (!(k in out) && v[k] !== undefined) out[k] = v[k];
  return out as T;
}

export function renderNodeFile(node: NodeDoc, context: NodeFileContext = {}): string {
  const out: string[] = [`# yaml-language-server: $schema=${context.schemaPath ?? '../../schemas/node.schema.json'}`, '#'];
  const display = node.display_name ?? `${node.name.charAt(0).toUpperCase()}${node.name.slice(1)}`;
  out.push(`# ${display}${context.headline ? `: ${context.headline}` : ''}`);
  out.push('# Check it with `fleet validate`, then open a pull request; CI runs the same check.');
  out.push(commented(`name: ${scalar(node.name)}`, `the hostname; display name ${display}`));
  if (node.display_name !== undefined) out.push(`display_name: ${scalar(node.display_name)}`);
  const baseModels = context.role?.services.ollama ? context.role.models.join(', ') : '';
  const roleNote = context.role ? (context.role.services.ollama ? `base models: ${baseModels || 'none'}` : 'no Ollama, no models') : 'see fleet/roles/';
  out.push(commented(`role: ${scalar(node.role)}`, roleNote));
  const hw = context.hardware;
  out.push(commented(`hardware: ${scalar(node.hardware)}`, hw ? `${hw.model}, ${hw.ram_gb} GB RAM, ${hw.storage_gb} GB disk${hw.metal ? '' : ', no Metal'}` : 'see fleet/catalog/hardware.yaml'));
  out.push(commented('addresses:', 'where Bob reaches it, tried in order'));
  for (const a of node.addresses) out.push(`  - ${scalar(a)}`);
  if (node.presence !== undefined && node.presence !== 'always_on') out.push(commented(`presence: ${scalar(node.presence)}`, 'a laptop: being away is expected, not an alarm'));
  if (node.status === 'planned') {
    out.push('# planned: bought, not provisioned yet. Set it to active once the Mac is on');
    out.push('# the LAN with Remote Login on; the reconciler then provisions it.');
  }
  out.push(`status: ${scalar(node.status)}`);
  if (node.added !== undefined) out.push(`added: ${scalar(node.added)}`);
  if (node.retired !== undefined) out.push(`retired: ${scalar(node.retired)}`);
  if (node.role_models === 'replace') {
    const replaced = context.role?.services.ollama ? ` (${context.role.models.join(', ') || 'none'})` : '';
    out.push(`# The role's base models${replaced} are not pulled: models below is the whole list.`);
    out.push('role_models: replace');
  } else if (node.role_models === 'keep') {
    out.push('role_models: keep');
  }
  if (node.models !== undefined) {
    out.push(node.role_models === 'replace'
      ? '# Every model this node serves (each needs an entry in fleet/catalog/models.yaml).'
      : '# Models beyond the role\'s base models (each needs an entry in fleet/catalog/models.yaml).');
    if (node.models.length === 0) out.push('models: []');
    else {
      out.push('models:');
      for (const m of node.models) out.push(`  - ${scalar(m)}`);
    }
  }
  if (node.ollama_env !== undefined) {
    out.push('# Overrides of fleet.yaml\'s ollama.env for this node.');
    out.push('ollama_env:', ...block(node.ollama_env, '  '));
  }
  if (node.openclaw !== undefined) {
    out.push('# OpenClaw settings over the role\'s defaults.');
    out.push('openclaw:', ...block(ordered(node.openclaw, OPENCLAW_KEYS), '  '));
  }
  if (node.workers !== undefined && node.workers.length > 0) {
    out.push('# OpenClaw workers beyond the role\'s (ids unique across the fleet; routing rules may name them).');
    out.push('workers:');
    for (const w of node.workers) {
      const [first, ...rest] = block(ordered(w, WORKER_KEYS), '    ');
      out.push(`  - ${(first ?? '').trimStart()}`, ...rest);
    }
  }
  if (node.notes !== undefined) out.push(`notes: ${scalar(node.notes)}`);
  return `${out.join('\n')}\n`;
}
