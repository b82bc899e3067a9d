// `fleet generate`: nodes_registry.json and openclaw_workers.json from fleet/
// and the observed snapshot. --check (for CI) writes nothing and exits 2 when
// the files would change.
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import { generate } from '../../generate/generate.ts';
import { validateGenerated } from '../../generate/validate-generated.ts';
import { GENERATED_FILE_NAMES, changedGenerated, readGenerated, writeGenerated } from '../../generate/write-generated.ts';
import { readSnapshot } from '../../observe/snapshot.ts';
import { todayOf } from '../plan-inputs.ts';
import { loadValidFleet } from './observe.ts';
import { defaultFleetDir, defaultGeneratedDir, defaultSnapshotPath } from '../repo-root.ts';

interface GenerateFlags {
  fleet: string;
  out: string;
  check?: boolean;
  snapshot?: string;
}

async function runGenerate(flags: GenerateFlags): Promise<void> {
  const desired = await loadValidFleet(flags.fleet);
  const snapshotFile = flags.snapshot ?? defaultSnapshotPath();
  const observed = await readSnapshot(snapshotFile);
  if (observed.length === 0) process.stderr.write(`note: no observations in ${snapshotFile}: every worker is disabled until \`fleet observe --snapshot\` has seen its node\n`);
  const files = generate(desired, observed, { lastUpdated: todayOf(), previous: await readGenerated(flags.out) });
  const problems = validateGenerated(files);
  if (problems.length > 0) throw new FleetError('internal', `the generated files do not match their schemas:\n  ${problems.join('\n  ')}`);
  if (flags.check === true) {
    const changed = await changedGenerated(flags.out, files);
    process.stdout.write(changed.length === 0 ? `${flags.out}: up to date\n` : `${flags.out}: would change ${changed.join(', ')} (run fleet generate)\n`);
    process.exitCode = changed.length === 0 ? 0 : 2;
    return;
  }
  const written = await writeGenerated(flags.out, files);
  for (const [name, changed] of Object.entries(written) as [keyof typeof GENERATED_FILE_NAMES, boolean][]) {
    process.stdout.write(`${flags.out}/${GENERATED_FILE_NAMES[name]}: ${changed ? 'written' : 'unchanged'}\n`);
  }
  process.exitCode = 0;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('write generated/nodes_registry.json and openclaw_workers.json from fleet/ and the observed snapshot')
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--out <dir>', 'output directory', defaultGeneratedDir())
    .option('--check', 'write nothing; exit 2 when the files would change (for CI)')
    .option('--snapshot <file>', `observed snapshot to read (default ${defaultSnapshotPath()})`)
    .action(async (flags: GenerateFlags) => { await runGenerate(flags); });
}
