// Bob's side of apply: install the generated files where the existing
// consumers read them (settings.bob paths) and SIGHUP OpenClaw when its file
// changed. Local files and signals, injected into the executor as ctx.bob.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { readIfExists } from '../fs/read-if-exists.ts';
import type { StepOf } from '../model/steps.ts';

/** What apply's executor does on Bob (its ctx.bob). */
export interface BobAdapter {
  /** Installs the generated files named by the step; returns the installed paths whose content changed. */
  installGenerated(step: StepOf<'write-generated'>): Promise<{ changed: string[]; workersChanged: boolean }>;
  /** SIGHUP OpenClaw; `signalled: false` with a message when it is not running. */
  reloadOpenClaw(): Promise<{ signalled: boolean; message: string }>;
}

export interface GeneratedContents {
  nodes_registry: string;
  openclaw_workers: string;
}

export interface BobLocalOptions {
  paths: { registry_path: string; workers_path: string; openclaw_pid_file?: string | undefined; openclaw_process_name?: string | undefined };
  /** Bob's home, for `~/` in the paths. */
  home: string;
  /** The generated files' content (generated after the nodes were applied). */
  contents(): Promise<GeneratedContents>;
  signalProcess?: (pid: number, signal: NodeJS.Signals) => void;
  findPidsByName?: (name: string) => Promise<number[]>;
}

export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

function pgrep(name: string): Promise<number[]> {
  return new Promise((resolve) => {
    execFile('pgrep', ['-x', name], (err, stdout) => {
      // pgrep exits 1 when nothing matches.
      if (err && (err as { code?: unknown }).code !== 1) return resolve([]);
      resolve(stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0));
    });
  });
}

/** Which generated file a write-generated step's entry names (`generated/nodes_registry.json`, `openclaw_workers`...). */
function fileIdOf(entry: string): keyof GeneratedContents | undefined {
  const b = basename(entry);
  if (b.startsWith('nodes_registry')) return 'nodes_registry';
  if (b.startsWith('openclaw_workers')) return 'openclaw_workers';
  return undefined;
}

export function createBobAdapter(options: BobLocalOptions): BobAdapter {
  const signalProcess = options.signalProcess ?? ((pid: number, signal: NodeJS.Signals) => void process.kill(pid, signal));
  const findPids = options.findPidsByName ?? pgrep;
  return {
    async installGenerated(step: StepOf<'write-generated'>) {
      const contents = await options.contents();
      const wanted = new Set(step.files.map(fileIdOf).filter((f): f is keyof GeneratedContents => f !== undefined));
      if (wanted.size === 0) {
        wanted.add('nodes_registry');
        wanted.add('openclaw_workers');
      }
      const changed: string[] = [];
      let workersChanged = false;
      for (const id of ['nodes_registry', 'openclaw_workers'] as const) {
        if (!wanted.has(id)) continue;
        const target = expandHome(id === 'nodes_registry' ? options.paths.registry_path : options.paths.workers_path, options.home);
        const content = contents[id];
        if ((await readIfExists(target)) === content) continue;
        await mkdir(dirname(target), { recursive: true });
        // Temp file + rename: the health monitor and OpenClaw never read half a file.
        await writeFileAtomic(target, content, { mode: 0o644 });
        changed.push(target);
        if (id === 'openclaw_workers') workersChanged = true;
      }
      return { changed, workersChanged };
    },
    async reloadOpenClaw() {
      const pidFile = options.paths.openclaw_pid_file;
      const pids: number[] = [];
      if (pidFile) {
        const text = await readIfExists(expandHome(pidFile, options.home));
        const pid = Number(text?.trim());
        if (Number.isInteger(pid) && pid > 0) pids.push(pid);
      }
      if (pids.length === 0 && options.paths.openclaw_process_name) pids.push(...await findPids(options.paths.openclaw_process_name));
      if (pids.length === 0) {
        return { signalled: false, message: 'OpenClaw is not running (no pid file, no process): it reads the new workers when it starts' };
      }
      const signalled: number[] = [];
      for (const pid of pids) {
        try {
          signalProcess(pid, 'SIGHUP');
          signalled.push(pid);
        } catch {
          // A stale pid file: that process is gone.
        }
      }
      return signalled.length > 0
        ? { signalled: true, message: `sent SIGHUP to OpenClaw (pid ${signalled.join(', ')})` }
        : { signalled: false, message: `OpenClaw pid ${pids.join(', ')} is not running: it reads the new workers when it starts` };
    },
  };
}
