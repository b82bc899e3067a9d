#!/usr/bin/env node
// Launcher: the project targets Node 24 (type stripping runs the .ts sources
// directly). When the `node` on PATH is older, re-run this command with the
// Node 24 binary pinned as the `node` devDependency.
import { spawn } from 'node:child_process';
import module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  // Node's on-disk compile cache roughly halves start-up for every command.
  module.enableCompileCache?.();
  const args = process.argv.slice(2);
  // The long-running daemon (src/daemon/relaunch.ts says why): V8 flags
  // cannot be set once Node runs, so re-execute with them (same pid) before
  // loading anything else; then load every module it runs, and if any had to
  // be stripped of types, write the compile cache and start once more.
  const relaunch = args[0] === 'daemon' ? await import(pathToFileURL(join(here, '..', 'src', 'daemon', 'relaunch.ts')).href) : null;
  const daemon = relaunch?.isDaemonRun(args) ?? false;
  if (daemon) relaunch.execRelaunch(relaunch.relaunchWithFlags(relaunch.currentImage()));
  const cli = await import(pathToFileURL(main).href);
  if (daemon) {
    await import(pathToFileURL(join(here, '..', 'src', 'cli', 'commands', 'daemon.ts')).href);
    relaunch.execRelaunch(relaunch.relaunchWarm(relaunch.currentImage(), relaunch.typesWereStripped()));
  }
  process.exitCode = await cli.main(args);
} else {
  let pinned;
  try {
    const require = createRequire(import.meta.url);
    pinned = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
  } catch {
    process.stderr.write(`fleet: needs Node 24 or later (found ${process.version}); run "npm install" in ${join(here, '..', '..')} to get the pinned Node 24\n`);
    process.exit(1);
  }
  // This launcher again under the pinned Node: the compile cache and the daemon's flags apply there too.
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
