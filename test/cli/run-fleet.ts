// Runs `fleet` as a real process through its launcher, the way a person or
// CI does: reconciler/bin/fleet.mjs under the pinned Node 24.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repo = join(import.meta.dirname, '..', '..');
const launcher = join(repo, 'reconciler', 'bin', 'fleet.mjs');
const node24 = join(repo, 'node_modules', '.bin', 'node');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runFleet(args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(node24, [launcher, ...args], {
      cwd: options.cwd ?? repo,
      env: { ...process.env, FLEET_LOOPBACK_ONLY: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** A temporary directory holding `fleet/`: the base fleet, optionally with an invalid fixture laid over it. */
export function makeFleetDir(from: 'fleet' | 'grown' = 'fleet', fixture?: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
  const source = from === 'fleet' ? join(repo, 'fleet') : join(repo, 'test', 'fixtures', 'fleets', 'grown');
  cpSync(source, join(dir, 'fleet'), { recursive: true });
  if (fixture) {
    const overlay = join(repo, 'test', 'fixtures', 'invalid', fixture, 'fleet');
    if (existsSync(overlay)) cpSync(overlay, join(dir, 'fleet'), { recursive: true });
    const expected = JSON.parse(readFileSync(join(repo, 'test', 'fixtures', 'invalid', fixture, 'expected.json'), 'utf8')) as { remove?: string[] };
    for (const r of expected.remove ?? []) rmSync(join(dir, 'fleet', r));
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
