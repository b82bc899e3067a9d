// How the `fleet daemon` process starts. The daemon runs for weeks on Bob
// beside the models, in a budget of 120 MB RSS with 100 nodes (npm run
// bench:daemon). Two things fixed when Node starts decide much of that, and
// neither can change once the process runs:
//  - V8's flags (DAEMON_NODE_FLAGS: each with why, and what it saved);
//  - whether the .ts sources came out of Node's compile cache. Stripping
//    types loads a WebAssembly build of swc (~17 MB) that stays for the life
//    of the process; with the cache warm it is never loaded. V8 flags are part
//    of the cache's key, so the daemon has a cache of its own, cold after
//    every change to the sources (an upgrade on Bob).
// bin/fleet.mjs therefore re-executes `fleet daemon` with the flags before
// loading anything; then it loads the daemon's modules and, when they had to
// be stripped, writes the cache and re-executes once more, so the image that
// stays finds it warm. process.execve replaces the process image: same pid,
// stdio and environment, so launchd, a terminal and the benches see one
// process; exit handlers do not run, and nothing has been written yet.
import module from 'node:module';

/**
 * Node flags the daemon runs with, unless Node was started with flags of its
 * own (then those are a person's choice and win). Measured with the daemon of
 * `npm run bench:daemon` (103 simulated nodes, Linux, Node 24.21), RSS after
 * the first reconcile: ~110 MB with all of them, 196 MB with none; leaving one
 * out costs what its comment says. CPU time per run did not grow (4.0 s over
 * both reconciles, 4.9 s with the optimizing compilers, which spend it
 * compiling): the daemon waits on SSH, HTTP and git.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  // V8 sizes the young generation from the machine's memory: the daemon's
  // grew to 64-128 MB during one reconcile and its short-lived garbage stayed
  // resident. With 1 MB semi-spaces alone RSS is ~140 MB instead of ~200 MB.
  // --optimize-for-size bounds it too today; this keeps the bound explicit.
  '--max-semi-space-size=1',
  // Smaller heap growth steps, more eager compaction: +13-17 MB without it.
  '--optimize-for-size',
  // JavaScript stays in the interpreter and the baseline compiler (Sparkplug):
  // the optimizing compilers' code and compile zones cost +23-25 MB, for code
  // that is not hot here (`fleet validate` of 1003 nodes takes 0.16 s either way).
  '--no-opt',
  '--no-maglev',
  // WebAssembly (undici's HTTP parser behind fetch, which checks each node's
  // Ollama) stays on the baseline compiler; tiering it up cost +28 MB of
  // compile memory for a parser that reads a few small responses per node.
  '--liftoff-only',
];

/** Set in the environment of the image that replaced one whose modules had to be stripped: at most one such re-execution. */
export const RELAUNCHED_ENV = 'FLEET_DAEMON_RELAUNCHED';

export interface ProcessImage {
  execPath: string;
  /** Node's own flags (process.execArgv). */
  execArgv: readonly string[];
  /** process.argv: node, the script, then the command's arguments. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}

export interface Relaunch {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** `fleet daemon [options]`, the long-running loop; not `daemon install`, `uninstall` or help. */
export function isDaemonRun(args: readonly string[]): boolean {
  if (args[0] !== 'daemon') return false;
  if (args[1] === 'install' || args[1] === 'uninstall' || args[1] === 'help') return false;
  return !args.includes('--help') && !args.includes('-h');
}

/** The same command under DAEMON_NODE_FLAGS; null when Node already runs with flags (ours after a relaunch, or a person's). */
export function relaunchWithFlags(image: ProcessImage): Relaunch | null {
  if (image.execArgv.length > 0) return null;
  return { file: image.execPath, args: [image.execPath, ...DAEMON_NODE_FLAGS, ...image.argv.slice(1)], env: image.env };
}

/** The same command again when this image had to strip types; null when it did not, or already is such a relaunch. */
export function relaunchWarm(image: ProcessImage, typesStripped: boolean): Relaunch | null {
  if (!typesStripped || image.env[RELAUNCHED_ENV] === '1') return null;
  return { file: image.execPath, args: [image.execPath, ...image.execArgv, ...image.argv.slice(1)], env: { ...image.env, [RELAUNCHED_ENV]: '1' } };
}

/**
 * Whether this process loaded Node's type stripper (amaro): a module was not
 * in the compile cache. process.moduleLoadList is not in Node's documented
 * API; where it is missing the answer is false, which costs memory, not
 * correctness.
 */
export function typesWereStripped(): boolean {
  const loaded = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return loaded?.some((m) => m.includes('internal/deps/amaro')) ?? false;
}

export function currentImage(): ProcessImage {
  return { execPath: process.execPath, execArgv: process.execArgv, argv: process.argv, env: process.env };
}

/** Replaces this process with `relaunch` (does not return), after writing the compile cache; a no-op where process.execve is missing (Windows). */
export function execRelaunch(relaunch: Relaunch | null): void {
  if (relaunch === null || typeof process.execve !== 'function') return;
  module.flushCompileCache();
  process.execve(relaunch.file, relaunch.args, relaunch.env);
}
