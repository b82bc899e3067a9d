// `npm run schemas`: writes every schema defined in reconciler/src/schema/ to
// schemas/<name>.schema.json (what editors and the YAML headers point at) and
// removes schema files nobody defines any more. `--check` only reports.
import { readdirSync, readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectSchemas, renderSchemaFile } from '../src/schema/collect.ts';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');
const check = process.argv.includes('--check');

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

const schemas = await collectSchemas();
mkdirSync(outDir, { recursive: true });
const wanted = new Set<string>();
let differences = 0;
for (const { name, schema } of schemas) {
  const file = `${name}.schema.json`;
  wanted.add(file);
  const path = join(outDir, file);
  const text = renderSchemaFile(schema);
  if (readOrNull(path) === text) continue;
  differences++;
  if (check) process.stdout.write(`schemas/${file} is out of date\n`);
  else {
    writeFileSync(path, text);
    process.stdout.write(`wrote schemas/${file}\n`);
  }
}
for (const file of readdirSync(outDir)) {
  if (!file.endsWith('.schema.json') || wanted.has(file)) continue;
  differences++;
  if (check) process.stdout.write(`schemas/${file} is not defined in reconciler/src/schema/\n`);
  else {
    unlinkSync(join(outDir, file));
    process.stdout.write(`removed schemas/${file}\n`);
  }
}
process.stdout.write(`${schemas.length} schemas, ${differences} ${check ? 'out of date' : 'updated'}\n`);
if (check && differences > 0) process.exitCode = 1;
