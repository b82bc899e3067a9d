// Finds every JSON Schema defined in this folder, so `npm run schemas` and the
// in-sync test cover a schema the moment someone exports it: any exported
// object with a `$schema` and an `$id` counts.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface SchemaEntry {
  /** File stem from the `$id`: `node` for .../node.schema.json. */
  name: string;
  /** Where it is defined, e.g. fleet.ts, and the export's name. */
  source: string;
  schema: Readonly<Record<string, unknown>>;
}

const here = dirname(fileURLToPath(import.meta.url));

function isSchema(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
    && typeof (value as Record<string, unknown>).$schema === 'string'
    && typeof (value as Record<string, unknown>).$id === 'string';
}

export async function collectSchemas(dir: string = here): Promise<SchemaEntry[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  const found = new Map<string, SchemaEntry>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(mod)) {
      if (!isSchema(value)) continue;
      const id = value.$id as string;
      const match = /([a-z0-9_-]+)\.schema\.json$/i.exec(id);
      if (!match?.[1]) throw new Error(`${file} ${exportName}: $id ${id} must end in <name>.schema.json`);
      const name = match[1];
      const previous = found.get(name);
      if (previous && previous.schema !== value) {
        throw new Error(`two schemas want schemas/${name}.schema.json: ${previous.source} and ${file} ${exportName}`);
      }
      if (!previous) found.set(name, { name, source: `${file} ${exportName}`, schema: value });
    }
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The exact bytes of schemas/<name>.schema.json: pretty, key order as defined, newline at the end. */
export function renderSchemaFile(schema: Readonly<Record<string, unknown>>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
