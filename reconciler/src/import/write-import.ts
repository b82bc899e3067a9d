// Writes an import into a fleet directory: node files (rendered like
// `fleet add-node` writes them), new hardware catalog entries and fleet.yaml's
// network, Ollama port and OpenClaw settings, edited in place so the file's
// other comments stay. A directory without fleet.yaml first gets the base
// fleet's settings, roles and catalogs (never its pinned host keys).
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { Document, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml';
import { renderNodeFile } from '../load/node-file.ts';
import { readIfExists } from '../fs/read-if-exists.ts';
import type { RoleDoc } from '../schema/fleet.ts';
import type { ImportBase, ImportResult } from './import-fleet.ts';

export interface WrittenImport {
  /** Paths relative to the fleet directory. */
  written: string[];
  removed: string[];
  /** Files copied from the base fleet (a new fleet directory). */
  copied: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

/** A value as YAML text, its lists of plain values in flow style (`[a, b]`) as the fleet's files write them. */
function yamlText(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every((i) => isScalar(i))) seq.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * `text` with the value at `path` replaced, everything else (comments,
 * alignment) byte for byte as it was; unchanged when the value is equal.
 */
export function replaceYamlValue(text: string, path: (string | number)[], value: unknown): string {
  const doc = parseDocument(text);
  const node = doc.getIn(path, true);
  const current: unknown = isNode(node) ? node.toJSON() : node;
  if (JSON.stringify(current) === JSON.stringify(value)) return text;
  if (!isNode(node) || node.range === undefined || node.range === null) {
    doc.setIn(path, value);
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  }
  const [start, end] = node.range;
  const column = start - (text.lastIndexOf('\n', start - 1) + 1);
  const block = (isMap(node) || isSeq(node)) && !node.flow;
  let replacement = yamlText(value).replace(/\n$/, '');
  if (block) {
    replacement = replacement.split('\n').map((l, i) => (i === 0 ? l : `${' '.repeat(column)}${l}`)).join('\n');
    if (text.slice(start, end).endsWith('\n')) replacement += '\n';
  } else if (replacement.includes('\n')) {
    // A flow value that became a block: starts on its own line under its key.
    replacement = `\n${replacement.split('\n').map((l) => `${' '.repeat(column)}${l}`).join('\n')}`;
  }
  return `${text.slice(0, start)}${replacement}${text.slice(end)}`;
}

async function copyBase(baseDir: string, outDir: string): Promise<string[]> {
  const copied: string[] = [];
  await mkdir(join(outDir, 'roles'), { recursive: true });
  await mkdir(join(outDir, 'catalog'), { recursive: true });
  for (const rel of ['fleet.yaml', 'retired.yaml', 'catalog/hardware.yaml', 'catalog/models.yaml']) {
    if (!(await exists(join(baseDir, rel)))) continue;
    await copyFile(join(baseDir, rel), join(outDir, rel));
    copied.push(rel);
  }
  for (const f of (await readdir(join(baseDir, 'roles'))).filter((n) => n.endsWith('.yaml')).sort()) {
    await copyFile(join(baseDir, 'roles', f), join(outDir, 'roles', f));
    copied.push(`roles/${f}`);
  }
  // The base fleet's pinned keys are other machines': only its explanation comes along.
  const kh = (await readIfExists(join(baseDir, 'known_hosts'))) ?? '';
  const header = kh.split('\n').filter((l) => l.startsWith('#'));
  await writeFileAtomic(join(outDir, 'known_hosts'), `${header.join('\n')}${header.length > 0 ? '\n' : ''}`);
  copied.push('known_hosts (comments only)');
  return copied;
}

export async function writeImport(outDir: string, baseDir: string, base: ImportBase, result: ImportResult, today: string): Promise<WrittenImport> {
  const out: WrittenImport = { written: [], removed: [], copied: [] };
  await mkdir(outDir, { recursive: true });
  if (!(await exists(join(outDir, 'fleet.yaml')))) out.copied = await copyBase(baseDir, outDir);

  const settingsPath = join(outDir, 'fleet.yaml');
  const s = result.settings;
  const edits: [(string | number)[], unknown][] = [
    [['network', 'bob_node'], s.network.bob_node],
    [['network', 'bob_address'], s.network.bob_address],
    [['network', 'registry_api_port'], s.network.registry_api_port],
    [['ollama', 'port'], s.ollama.port],
    [['openclaw', 'global_settings'], s.openclaw.global_settings],
    [['openclaw', 'priorities', 'cloud'], s.openclaw.priorities.cloud],
    [['openclaw', 'cloud_fallback'], s.openclaw.cloud_fallback],
    [['openclaw', 'routing_rules'], s.openclaw.routing_rules],
  ];
  const before = await readFile(settingsPath, 'utf8');
  const after = edits.reduce((text, [path, value]) => replaceYamlValue(text, path, value), before);
  if (after !== before) {
    await writeFileAtomic(settingsPath, after);
    out.written.push('fleet.yaml');
  }

  if (Object.keys(result.newHardware).length > 0) {
    const hwPath = join(outDir, 'catalog', 'hardware.yaml');
    const text = await readFile(hwPath, 'utf8');
    const entries = Object.entries(result.newHardware).map(([id, entry]) => `  ${id}:\n${yamlText(entry).trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}\n`);
    await writeFileAtomic(hwPath, `${text.replace(/\n*$/, '\n')}\n  # --- Added by \`fleet import\` on ${today} ---\n${entries.join('')}`);
    out.written.push('catalog/hardware.yaml');
  }

  const nodesDir = join(outDir, 'nodes');
  await mkdir(nodesDir, { recursive: true });
  const keep = new Set(result.nodes.map((n) => `${n.name}.yaml`));
  for (const f of (await readdir(nodesDir)).sort()) {
    if (keep.has(f) || !/\.ya?ml$/.test(f)) continue;
    await rm(join(nodesDir, f));
    out.removed.push(`nodes/${f}`);
  }
  const hardware = { ...base.hardware, ...result.newHardware };
  for (const node of result.nodes) {
    const role: RoleDoc | undefined = base.roles[node.role];
    const text = renderNodeFile(node, { hardware: hardware[node.hardware], role, headline: `imported with \`fleet import\` on ${today}.` });
    await writeFileAtomic(join(nodesDir, `${node.name}.yaml`), text);
    out.written.push(`nodes/${node.name}.yaml`);
  }
  return out;
}
