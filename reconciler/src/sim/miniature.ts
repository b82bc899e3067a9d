// A miniature fleet directory for the simulator: the repository's fleet/
// settings, roles and hardware, its model catalog with every size divided by
// `scale`, and the nodes given. The simulated registry then serves weights of
// real bytes with real sha256 digests (under 64 MiB, see model-layers.ts), so
// LAN copies stream and verify for real; with the network's rates divided by
// the same scale, every transfer takes as long as the full-size one would.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_FLEET = fileURLToPath(new URL('../../../fleet/', import.meta.url));

export interface MiniatureNode {
  name: string;
  role: string;
  hardware: string;
  models?: string[];
}

export interface MiniatureOptions {
  /** Sizes divided by this (1000: llama3.1:8b is 4.9 MB). */
  scale: number;
  nodes: readonly MiniatureNode[];
  /** YAML text put under `transfer:` in fleet.yaml (indented two spaces), replacing the repository's. */
  transfer?: string;
}

export function writeMiniatureFleet(dir: string, options: MiniatureOptions): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  for (const part of ['roles', 'catalog', 'retired.yaml']) cpSync(join(REPO_FLEET, part), join(dir, part), { recursive: true });
  const catalog = readFileSync(join(REPO_FLEET, 'catalog/models.yaml'), 'utf8')
    .replace(/^(\s+size_bytes:\s*)(\d+)/gm, (_m, head: string, n: string) => `${head}${Math.max(1, Math.round(Number(n) / options.scale))}`);
  writeFileSync(join(dir, 'catalog/models.yaml'), catalog);
  let settings = readFileSync(join(REPO_FLEET, 'fleet.yaml'), 'utf8');
  // Routing rules name fleet/'s workers: point them at the first node.
  const first = options.nodes.find((n) => n.name !== 'bob')?.name ?? 'bob';
  const hasBob = options.nodes.some((n) => n.name === 'bob');
  settings = settings.replaceAll('maestro_', `${first}_`).replaceAll('stagehand_harpa', 'openai_fallback');
  if (!hasBob) settings = settings.replaceAll('bob_local', `${first}_ollama`);
  if (options.transfer !== undefined) {
    settings = settings.replace(/^transfer:\n(?:(?: {2}.*|\s*#.*)?\n)*/m, `transfer:\n${options.transfer.replace(/\n?$/, '\n')}\n`);
  }
  writeFileSync(join(dir, 'fleet.yaml'), settings);
  writeFileSync(join(dir, 'known_hosts'), '');
  // Bob must exist (network.bob_node); unless it is one of the nodes, it is a Mac not bootstrapped yet.
  if (!hasBob) writeFileSync(join(dir, 'nodes', 'bob.yaml'), 'name: bob\nrole: hq\nhardware: mac-mini-m4-16gb\naddresses: [bob.local]\nstatus: planned\n');
  for (const n of options.nodes) {
    const models = n.models !== undefined && n.models.length > 0 ? `models: [${n.models.join(', ')}]\n` : '';
    writeFileSync(join(dir, 'nodes', `${n.name}.yaml`), `name: ${n.name}\nrole: ${n.role}\nhardware: ${n.hardware}\naddresses: [${n.name}.local]\nstatus: active\n${models}`);
  }
  return dir;
}
