// schemas/*.schema.json are generated from reconciler/src/schema/ (npm run
// schemas). This fails when someone edits one side only; the fix is to run
// `npm run schemas` and commit the result.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectSchemas, renderSchemaFile } from '../../reconciler/src/schema/collect.ts';
import { fleetSettingsSchema, hardwareCatalogSchema, modelCatalogSchema, nodeSchema, retiredSchema, roleSchema } from '../../reconciler/src/schema/fleet.ts';

const repo = join(import.meta.dirname, '..', '..');
const schemasDir = join(repo, 'schemas');

describe('schemas/ matches the TypeScript definitions', () => {
  it('has exactly one file per defined schema, byte for byte', async () => {
    const defined = await collectSchemas();
    expect(defined.length).toBeGreaterThanOrEqual(8);
    const onDisk = readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json')).sort();
    expect(onDisk, 'run `npm run schemas`').toEqual(defined.map((s) => `${s.name}.schema.json`).sort());
    for (const { name, schema } of defined) {
      expect(readFileSync(join(schemasDir, `${name}.schema.json`), 'utf8'), `schemas/${name}.schema.json is out of date: run \`npm run schemas\``).toBe(renderSchemaFile(schema));
    }
  });
});

type Json = Record<string, unknown>;

/** Every property of every object in a schema, as "path: has description". */
function undocumented(schema: unknown, path = '#'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const s = schema as Json;
  const out: string[] = [];
  const props = s.properties as Json | undefined;
  for (const [key, sub] of Object.entries(props ?? {})) {
    if (typeof (sub as Json).description !== 'string') out.push(`${path}/properties/${key}`);
  }
  for (const [key, value] of Object.entries(s)) {
    if (key === 'properties') for (const [k, v] of Object.entries(value as Json)) out.push(...undocumented(v, `${path}/properties/${k}`));
    else if (typeof value === 'object' && value !== null && key !== 'enum' && key !== 'default') out.push(...undocumented(value, `${path}/${key}`));
  }
  return out;
}

describe('the fleet file schemas', () => {
  it.each([nodeSchema, roleSchema, hardwareCatalogSchema, modelCatalogSchema, retiredSchema, fleetSettingsSchema].map((s) => [s.$id, s] as const))('%s describes every property (editors show it)', (_id, schema) => {
    expect(undocumented(schema)).toEqual([]);
  });
});

describe('fleet/ YAML files', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.yaml')) files.push(join(dir, e.name));
    }
  };
  walk(join(repo, 'fleet'));
  const kindOf = (rel: string): string => (rel.startsWith('nodes/') ? 'node' : rel.startsWith('roles/') ? 'role' : rel === 'catalog/hardware.yaml' ? 'hardware' : rel === 'catalog/models.yaml' ? 'models' : rel.replace(/\.yaml$/, ''));

  it.each(files.map((f) => [relative(join(repo, 'fleet'), f), f]))('%s starts with a yaml-language-server line pointing at its schema', (rel, file) => {
    const first = readFileSync(file, 'utf8').split('\n')[0] ?? '';
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(m, first).not.toBeNull();
    const target = resolve(dirname(file), m?.[1] ?? '');
    expect(relative(repo, target)).toBe(`schemas/${kindOf(rel)}.schema.json`);
    expect(() => readFileSync(target)).not.toThrow();
  });
});
