// Checks observed data against its JSON Schema: what observe produces, what a
// snapshot file holds, what plan --offline reads back.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { observedNodeSchema } from '../schema/observed.ts';
import type { ObservedNode } from '../schema/observed.ts';

let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  validator ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(observedNodeSchema);
  return validator;
}

/** Problems, one sentence each (`virtuoso: /facts/ip must be string,null`); [] when valid. */
export function checkObserved(nodes: readonly unknown[]): string[] {
  const validate = compile();
  const problems: string[] = [];
  nodes.forEach((n, i) => {
    if (validate(n)) return;
    const name = n && typeof n === 'object' && typeof (n as { node?: unknown }).node === 'string' ? (n as { node: string }).node : `#${i}`;
    for (const e of validate.errors ?? []) problems.push(`${name}: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  });
  return problems;
}

export function isObservedList(value: unknown): value is ObservedNode[] {
  return Array.isArray(value) && checkObserved(value).length === 0;
}
