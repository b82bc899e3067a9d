// `fleet validate [DIR]`: the CI gate. Loads every file under the fleet
// directory, checks schemas and every semantic rule, prints all problems.
import { Option } from 'commander';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import { isValidDate } from '../../validate/dates.ts';
import { countErrors } from '../../validate/problem.ts';
import { PROBLEM_FORMATS, renderProblems } from '../problem-output.ts';
import type { ProblemFormat } from '../problem-output.ts';
import { defaultFleetDir } from '../repo-root.ts';

interface ValidateFlags {
  format: ProblemFormat;
  strict?: boolean;
  today?: string;
}

/** --today, checked: a calendar date YYYY-MM-DD. */
export function parseTodayFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isValidDate(value)) throw new FleetError('invalid-input', `--today ${JSON.stringify(value)} is not a date; write YYYY-MM-DD`);
  return value;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check the fleet files: schemas, references, naming, RAM and disk fit (exit 0 valid, 1 invalid)')
    .argument('[dir]', 'fleet directory', defaultFleetDir())
    .addOption(new Option('--format <format>', 'output format').choices(PROBLEM_FORMATS).default('text'))
    .option('--strict', 'fail on warnings too')
    .option('--today <date>', 'judge name reuse as of this date, YYYY-MM-DD (default: today)')
    .action(async (dir: string, flags: ValidateFlags) => {
      const today = parseTodayFlag(flags.today);
      // Loaded on use: `fleet --help` and the other commands do not pay for the validator.
      const { loadFleet } = await import('../../load/load-fleet.ts');
      const result = await loadFleet(dir, today !== undefined ? { today } : {});
      const errors = countErrors(result.problems);
      const warnings = result.problems.length - errors;
      const ok = errors === 0 && !(flags.strict === true && warnings > 0);
      const nodes = (result.desired ?? result.partial)?.nodes.length ?? null;
      process.stdout.write(renderProblems(result.problems, flags.format, { errors, warnings, ok, strict: flags.strict === true, dir, nodes }));
      process.exitCode = ok ? 0 : 1;
    });
}
