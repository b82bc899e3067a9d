// `fleet import --registry nodes_registry.json --workers openclaw_workers.json`:
// adopts the files kept by hand today. Writes fleet/ (nodes, workers, routing
// rules, settings), then loads what it wrote, regenerates the two files for
// the nodes as the hand-written files describe them, and prints field by field
// what it could not express and what regenerating will change, and why.
// Contacts no node.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import { generate } from '../../generate/generate.ts';
import { compareRegenerated, type RegeneratedChange } from '../../import/compare-regenerated.ts';
import { importFleet, type ImportBase } from '../../import/import-fleet.ts';
import { readHandwritten, type ImportNote } from '../../import/read-handwritten.ts';
import { writeImport } from '../../import/write-import.ts';
import { loadFleet } from '../../load/load-fleet.ts';
import { countErrors } from '../../validate/problem.ts';
import { renderProblems } from '../problem-output.ts';
import { todayOf } from '../plan-inputs.ts';
import { parseTodayFlag } from './validate.ts';
import { defaultFleetDir } from '../repo-root.ts';

/** The product's own fleet/: roles and catalogs a new fleet directory starts from. */
const BUNDLED_FLEET = fileURLToPath(new URL('../../../../fleet', import.meta.url));

interface ImportFlags {
  registry: string;
  workers: string;
  out: string;
  base?: string;
  today?: string;
  format: 'text' | 'json';
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FleetError('not-found', `cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FleetError('invalid-input', `${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

async function loadBase(dir: string): Promise<ImportBase> {
  const loaded = await loadFleet(dir);
  const d = loaded.partial;
  if (d === null) {
    const errors = loaded.problems.filter((p) => p.severity === 'error').slice(0, 5).map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}: ${p.message}`);
    throw new FleetError('invalid-fleet', `the base fleet ${dir} does not load (fleet.yaml, roles and catalogs are needed):\n  ${errors.join('\n  ')}`);
  }
  return { settings: d.settings, roles: d.roles, hardware: d.hardware, models: d.models };
}

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  const text = JSON.stringify(v);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function renderText(notes: readonly ImportNote[], changes: readonly RegeneratedChange[] | null): string {
  const lines: string[] = [];
  lines.push(notes.length === 0 ? 'Everything in the files was carried over as written.' : `Not carried over as written (${notes.length}):`);
  for (const n of notes) lines.push(`  ${n.file} ${n.path}: ${n.message}`);
  if (changes === null) {
    lines.push('Regenerating: not compared, the imported fleet does not load (errors below).');
  } else {
    lines.push(changes.length === 0 ? 'Regenerating the files from fleet/ gives them back unchanged (for the nodes as the files describe them).' : `Regenerating the files from fleet/ will change (${changes.length}), for the nodes as the files describe them:`);
    for (const c of changes) lines.push(`  ${c.file} ${c.path}: ${show(c.before)} -> ${show(c.after)}: ${c.why}`);
  }
  return `${lines.join('\n')}\n`;
}

async function runImport(flags: ImportFlags): Promise<void> {
  const today = parseTodayFlag(flags.today) ?? todayOf();
  const [registry, workers] = await Promise.all([readJson(flags.registry, 'the registry'), readJson(flags.workers, 'the workers file')]);
  const outHasFleet = await readFile(join(flags.out, 'fleet.yaml')).then(() => true, () => false);
  const baseDir = flags.base ?? (outHasFleet ? flags.out : BUNDLED_FLEET);
  const base = await loadBase(baseDir);
  const hand = readHandwritten(registry, workers);
  const result = importFleet(hand, base, today);
  const written = await writeImport(flags.out, baseDir, base, result, today);

  // The round trip through the files just written: load, generate, compare.
  const loaded = await loadFleet(flags.out, { today });
  const desired = loaded.desired ?? loaded.partial;
  let changes: RegeneratedChange[] | null = null;
  if (desired !== null && countErrors(loaded.problems) === 0) {
    changes = compareRegenerated(registry, workers, generate(desired, result.claimed, { lastUpdated: today }), result.reasons);
  }
  const errors = countErrors(loaded.problems);
  if (flags.format === 'json') {
    process.stdout.write(`${JSON.stringify({ written, notes: result.notes, changes, problems: loaded.problems }, null, 2)}\n`);
  } else {
    const summary = `imported ${result.nodes.length} nodes into ${flags.out}/: wrote ${written.written.length} files${written.removed.length > 0 ? `, removed ${written.removed.join(', ')}` : ''}${written.copied.length > 0 ? `; started from ${baseDir} (${written.copied.length} files)` : ''}${Object.keys(result.newHardware).length > 0 ? `; new hardware entries: ${Object.keys(result.newHardware).join(', ')}` : ''}\n`;
    process.stdout.write(summary + renderText(result.notes, changes));
    if (loaded.problems.length > 0) {
      process.stdout.write(renderProblems(loaded.problems, 'text', { errors, warnings: loaded.problems.length - errors, ok: errors === 0, strict: false, dir: flags.out, nodes: desired?.nodes.length ?? null }));
    }
    process.stdout.write(errors === 0 ? `next: review ${flags.out}/ (git diff), commit it and open a pull request.\n` : `next: fix the ${errors} error${errors === 1 ? '' : 's'} above in ${flags.out}/ before committing.\n`);
  }
  process.exitCode = errors === 0 ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('import')
    .description('adopt hand-written nodes_registry.json and openclaw_workers.json: write fleet/ and say what regenerating them would change')
    .requiredOption('--registry <file>', 'the nodes_registry.json kept by hand')
    .requiredOption('--workers <file>', 'the openclaw_workers.json kept by hand')
    .option('--out <dir>', 'fleet directory to write (created from the base fleet when it has no fleet.yaml)', defaultFleetDir())
    .option('--base <dir>', 'fleet whose settings, roles and catalogs to start from (default: --out when it has fleet.yaml, else the bundled fleet/)')
    .option('--today <date>', 'date written as `added` where the files have none, YYYY-MM-DD (default: today)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (flags: ImportFlags) => { await runImport(flags); });
}
