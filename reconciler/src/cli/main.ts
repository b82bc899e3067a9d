// `fleet`: one commander program; each subcommand lives in commands/<name>.ts
// and exports register(). Errors end here: one handler maps them to exit codes
// (0 ok, 1 error or invalid, 2 changes pending) through process.exitCode.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { FleetError } from '../errors.ts';
type Register = (program: Command) => void;

// Each subcommand's module, loaded only when it runs (or for --help): the
// heavy ones (sim, apply, daemon) would otherwise slow every `fleet validate`.
const COMMAND_MODULES: Record<string, () => Promise<{ register: Register }>> = {
  validate: () => import('./commands/validate.ts'),
  capacity: () => import('./commands/capacity.ts'),
  'add-node': () => import('./commands/add-node.ts'),
  import: () => import('./commands/import.ts'),
  catalog: () => import('./commands/catalog.ts'),
  sim: () => import('./commands/sim.ts'),
  observe: () => import('./commands/observe.ts'),
  plan: () => import('./commands/plan.ts'),
  apply: () => import('./commands/apply.ts'),
  generate: () => import('./commands/generate.ts'),
  verify: () => import('./commands/verify.ts'),
  daemon: () => import('./commands/daemon.ts'),
  demo: () => import('./commands/demo.ts'),
  secret: () => import('./commands/secret.ts'),
};
/** Commands registered by another command's module. */
const ALIASES: Record<string, string> = { trust: 'observe', drift: 'plan', status: 'daemon' };

/** The program with the modules `argv` needs (all of them for help or an unknown word). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('fleet')
    .description('GitOps reconciler for the Symphony fleet of Macs running Ollama')
    .version(packageVersion(), '-V, --version', 'print the version of fleet')
    .showHelpAfterError()
    .exitOverride();
  const first = argv[0] ?? '';
  const name = ALIASES[first] ?? first;
  const load = COMMAND_MODULES[name];
  const loaders = load ? [load] : Object.values(COMMAND_MODULES);
  for (const mod of await Promise.all(loaders.map((l) => l()))) mod.register(program);
  return program;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return `fleet ${pkg.version ?? 'unknown'} (symphony-fleet, Node ${process.version})`;
}

/**
 * Output piped into a command that stopped reading (`fleet sim up | head`):
 * nothing more can be shown, so stop quietly instead of dying on EPIPE with a
 * stack trace. The one place fleet ends the process itself.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const program = await buildProgram(argv);
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
