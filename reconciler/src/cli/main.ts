// `fleet`: one commander program; each subcommand lives in commands/<name>.ts
// and exports register(). Errors end here: one handler maps them to exit codes
// (0 ok, 1 error or invalid, 2 changes pending) through process.exitCode.
import { Command, CommanderError } from 'commander';
import { FleetError } from '../errors.ts';
import { register as registerValidate } from './commands/validate.ts';
import { register as registerCapacity } from './commands/capacity.ts';
import { register as registerAddNode } from './commands/add-node.ts';
import { register as registerSim } from './commands/sim.ts';
import { register as registerObserve } from './commands/observe.ts';
import { register as registerPlan } from './commands/plan.ts';
import { register as registerApply } from './commands/apply.ts';
import { register as registerGenerate } from './commands/generate.ts';
import { register as registerDaemon } from './commands/daemon.ts';
import { register as registerDemo } from './commands/demo.ts';

export function buildProgram(): Command {
  const program = new Command('fleet')
    .description('GitOps reconciler for the Symphony fleet of Macs running Ollama')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [registerValidate, registerCapacity, registerAddNode, registerSim, registerObserve, registerPlan, registerApply, registerGenerate, registerDaemon, registerDemo]) {
    register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : 1;
    }
    if (err instanceof FleetError) {
      process.stderr.write(`fleet: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`fleet: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
