// `fleet apply`: observe, plan, show the plan, confirm, execute, observe again,
// write the generated files and install them on Bob, report. Exit 0 converged,
// 2 partly (failed nodes or manual steps left), 1 error. SIGINT/SIGTERM let the
// running step finish (a pull stops cleanly and resumes next time) and skip the rest.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { join } from 'node:path';
import { applyFleet } from '../apply-fleet.ts';
import { readSnapshot, writeSnapshot } from '../../observe/snapshot.ts';
import { FleetError } from '../../errors.ts';
import { defaultFleetDir, defaultGeneratedDir } from '../repo-root.ts';

interface ApplyFlags {
  fleet: string;
  node?: string[];
  targets?: string;
  yes?: boolean;
  prune?: boolean;
  dryRun?: boolean;
  out: string;
  today?: string;
  color?: boolean;
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

async function askOnTty(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  program
    .command('apply')
    .description('converge the nodes to fleet/: observe, plan, confirm, execute, observe again, write the generated files (exit 0 converged, 2 partly, 1 error)')
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--node <name...>', 'only these nodes')
    .option('--targets <file>', 'reach the nodes through this targets.json (the simulated fleet) instead of their addresses')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--prune', 'also remove models and software that fleet/ no longer wants (shown in the plan first)')
    .option('--dry-run', 'show the plan and stop')
    .option('--out <dir>', 'where the generated files go', defaultGeneratedDir())
    .option('--today <date>', 'the date for registrations and generated files, YYYY-MM-DD (default: today, UTC)')
    .option('--color', 'colour the plan (default: on a terminal)')
    .option('--no-color', 'never colour the plan')
    .action(async (flags: ApplyFlags) => {
      if (flags.today !== undefined && !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(flags.today)) {
        throw new FleetError('invalid-input', `--today ${JSON.stringify(flags.today)} is not a date; write YYYY-MM-DD`);
      }
      const controller = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        process.stderr.write(`\nfleet apply: ${sig}: finishing the running step, skipping the rest (again to stop now)\n`);
        // A second signal gets the default action and ends the process; every step is safe to repeat.
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const tty = process.stdout.isTTY && process.stdin.isTTY;
      try {
        const result = await applyFleet({
          fleetDir: flags.fleet,
          ...(flags.node ? { nodes: flags.node } : {}),
          ...(flags.targets ? { targetsFile: flags.targets } : {}),
          yes: flags.yes === true,
          prune: flags.prune === true,
          dryRun: flags.dryRun === true,
          generatedDir: flags.out,
          previousObserved: await readSnapshot(join(flags.out, 'observed.json')).catch(() => []),
          today: flags.today ?? todayUtc(),
          tty,
          color: flags.color ?? (tty && process.env.NO_COLOR === undefined),
          columns: process.stdout.columns ?? 100,
          write: (text) => void process.stdout.write(text),
          confirm: askOnTty,
          signal: controller.signal,
        });
        // Leave the observation the files were generated from where `fleet generate`
        // and the next `apply --node` read it: nodes this run did not look at keep theirs.
        if (!flags.dryRun) await writeSnapshot(join(flags.out, 'observed.json'), result.observedAfter ?? result.observed, { merge: true });
        process.exitCode = result.exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
