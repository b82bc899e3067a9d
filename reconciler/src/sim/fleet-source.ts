// Which nodes a simulated fleet has: read from a fleet directory (nodes/,
// roles/, catalog/hardware.yaml, fleet.yaml) or made up (--nodes N). Read with
// the yaml package directly: the sim needs a handful of fields and must start
// even when a file elsewhere in fleet/ does not validate yet.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FleetError } from '../errors.ts';
import type { Hardware } from '../schema/fleet.ts';
import { normalizeModelRef } from '../load/desired.ts';
import { readHardwareCatalog } from './hardware-profile.ts';

export interface SimNodeInput {
  name: string;
  displayName?: string;
  /** A hardware id from the catalog, or the profile itself. */
  hardware: string | Hardware;
  role?: string;
  /** Overrides the fleet's preset (e.g. a planned node is always fresh). */
  preset?: 'fresh' | 'provisioned';
  /** Models a provisioned node holds; default: the role's base models plus the node's own. */
  models?: readonly string[];
  ollama?: boolean;
  formulae?: readonly string[];
  casks?: readonly string[];
  harpa?: boolean;
  docker?: boolean;
  sudo?: 'passwordless' | 'password';
}

export interface FleetSource {
  user: string | undefined;
  bobAddress: string | undefined;
  registryPort: number | undefined;
  hardwareCatalog: Record<string, Hardware>;
  nodes: SimNodeInput[];
}

function readYaml(path: string): Record<string, unknown> {
  try {
    const doc: unknown = parse(readFileSync(path, 'utf8'));
    return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  } catch (err) {
    throw new FleetError('invalid-fleet', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function readFleetSource(dir: string): FleetSource {
  const nodesDir = join(dir, 'nodes');
  if (!existsSync(nodesDir)) throw new FleetError('not-found', `${dir} has no nodes/ directory; point --from at a fleet directory (e.g. fleet/)`);
  const settings = existsSync(join(dir, 'fleet.yaml')) ? readYaml(join(dir, 'fleet.yaml')) : {};
  const network = (settings.network ?? {}) as Record<string, unknown>;
  const ssh = (settings.ssh ?? {}) as Record<string, unknown>;
  const hardwareCatalog = readHardwareCatalog(join(dir, 'catalog', 'hardware.yaml'));
  const roles = new Map<string, Record<string, unknown>>();
  const nodes: SimNodeInput[] = [];
  for (const file of readdirSync(nodesDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const doc = readYaml(join(nodesDir, file));
    const name = typeof doc.name === 'string' ? doc.name : file.replace(/\.ya?ml$/, '');
    if (doc.status === 'retired') continue;
    const roleName = typeof doc.role === 'string' ? doc.role : '';
    if (!roles.has(roleName) && existsSync(join(dir, 'roles', `${roleName}.yaml`))) roles.set(roleName, readYaml(join(dir, 'roles', `${roleName}.yaml`)));
    const role = roles.get(roleName) ?? {};
    const services = (role.services ?? {}) as Record<string, unknown>;
    const software = (role.software ?? {}) as Record<string, unknown>;
    const ollama = services.ollama === true;
    const hardware = typeof doc.hardware === 'string' ? doc.hardware : '';
    if (!hardwareCatalog[hardware]) throw new FleetError('invalid-fleet', `${join(nodesDir, file)}: hardware "${hardware}" is not in catalog/hardware.yaml`);
    const input: SimNodeInput = {
      name,
      hardware,
      role: roleName,
      models: ollama ? [...new Set([...(doc.role_models === 'replace' ? [] : strings(role.models)), ...strings(doc.models)].map(normalizeModelRef))].sort() : [],
      ollama,
      formulae: strings(software.formulae),
      casks: strings(software.casks),
      harpa: services.harpa === true,
      docker: services.docker === true,
    };
    if (typeof doc.display_name === 'string') input.displayName = doc.display_name;
    if (doc.status === 'planned') input.preset = 'fresh';
    nodes.push(input);
  }
  return {
    user: typeof ssh.user === 'string' ? ssh.user : undefined,
    bobAddress: typeof network.bob_address === 'string' ? network.bob_address : undefined,
    registryPort: typeof network.registry_api_port === 'number' ? network.registry_api_port : undefined,
    hardwareCatalog,
    nodes,
  };
}

/** `node-01` ... for a made-up fleet of n nodes. */
export function generatedNodeNames(n: number): string[] {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `node-${String(i + 1).padStart(width, '0')}`);
}
