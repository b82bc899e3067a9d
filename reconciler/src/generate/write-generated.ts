// Writes generated/nodes_registry.json and generated/openclaw_workers.json:
// validated first, stable formatting (2 spaces, final newline), each file
// written atomically (temp file + rename) and only when its bytes change.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { FleetError } from '../errors.ts';
import { readIfExists } from '../fs/read-if-exists.ts';
import type { GeneratedFiles } from './generate.ts';
import { validateGenerated } from './validate-generated.ts';

export type GeneratedName = keyof GeneratedFiles;

export const GENERATED_FILE_NAMES: Record<GeneratedName, string> = {
  nodes_registry: 'nodes_registry.json',
  openclaw_workers: 'openclaw_workers.json',
};

const NAMES = Object.keys(GENERATED_FILE_NAMES) as GeneratedName[];

export function formatGenerated(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The files now in `dir`, parsed; missing or unparsable ones are left out (generate then dates them anew). */
export async function readGenerated(dir: string): Promise<Partial<Record<GeneratedName, unknown>>> {
  const out: Partial<Record<GeneratedName, unknown>> = {};
  for (const name of NAMES) {
    const text = await readIfExists(join(dir, GENERATED_FILE_NAMES[name]));
    if (text === undefined) continue;
    try {
      out[name] = JSON.parse(text);
    } catch {
      // A half-edited file is replaced by the next write.
    }
  }
  return out;
}

/** Which files would change on disk (their names, e.g. nodes_registry.json). */
export async function changedGenerated(dir: string, files: GeneratedFiles): Promise<string[]> {
  const changed: string[] = [];
  for (const name of NAMES) {
    if ((await readIfExists(join(dir, GENERATED_FILE_NAMES[name]))) !== formatGenerated(files[name])) changed.push(GENERATED_FILE_NAMES[name]);
  }
  return changed;
}

export type WriteGeneratedResult = Record<GeneratedName, boolean>;

/** Validates, then writes each file whose content changed; says which did. */
export async function writeGenerated(dir: string, files: GeneratedFiles): Promise<WriteGeneratedResult> {
  const problems = validateGenerated(files);
  if (problems.length > 0) {
    throw new FleetError('internal', `generated files do not match their schemas; nothing was written:\n  ${problems.join('\n  ')}`);
  }
  await mkdir(dir, { recursive: true });
  const result: WriteGeneratedResult = { nodes_registry: false, openclaw_workers: false };
  for (const name of NAMES) {
    const path = join(dir, GENERATED_FILE_NAMES[name]);
    const text = formatGenerated(files[name]);
    if ((await readIfExists(path)) === text) continue;
    await writeFileAtomic(path, text, { mode: 0o644 });
    result[name] = true;
  }
  return result;
}
