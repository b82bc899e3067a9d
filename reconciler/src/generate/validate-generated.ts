// Both generated files are checked against their schemas before they are
// written: a consumer on Bob never reads a file we would not accept ourselves.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { nodesRegistrySchema, openclawWorkersSchema } from '../schema/generated.ts';
import type { GeneratedFiles } from './generate.ts';

interface Validators {
  registry: ValidateFunction;
  workers: ValidateFunction;
}

function compileValidators(): Validators {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  return { registry: ajv.compile(nodesRegistrySchema), workers: ajv.compile(openclawWorkersSchema) };
}

// Compiled once: a pure cache, not an adapter.
let validators: Validators | undefined;

function problemsOf(file: string, validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${file}${e.instancePath === '' ? '' : ` at ${e.instancePath}`}: ${e.message ?? 'invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

/** Every problem in both files; [] when both are valid. */
export function validateGenerated(files: GeneratedFiles): string[] {
  validators ??= compileValidators();
  return [
    ...problemsOf('nodes_registry.json', validators.registry, files.nodes_registry),
    ...problemsOf('openclaw_workers.json', validators.workers, files.openclaw_workers),
  ];
}
