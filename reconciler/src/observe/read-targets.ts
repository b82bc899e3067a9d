// Reads a targets.json (written by `fleet sim up`, or by hand for a lab):
// where to reach each node instead of the addresses in fleet/.
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { FleetError } from '../errors.ts';
import { targetsSchema } from '../schema/targets.ts';
import type { Targets } from '../schema/targets.ts';

export async function readTargets(file: string): Promise<Targets> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FleetError('not-found', `cannot read the targets file ${file}: ${(err as Error).message}. Start the simulated fleet with \`fleet sim up\`, or pass the right --targets path.`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FleetError('invalid-input', `${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile<Targets>(targetsSchema);
  if (!validate(doc)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new FleetError('invalid-input', `${file} does not match the targets schema: ${problems.join('; ')}`);
  }
  return doc;
}
