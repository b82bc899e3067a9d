// `npm run bench:abuse` in its short mode, so CI runs the abuse load through
// the real server on every change. Only the correctness half is asserted
// (forged heartbeats change nothing, no signed heartbeat is lost): the
// latency and RSS figures belong to the benchmark's printout, not to a test.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

it('bench:abuse --seconds 2: forged heartbeats change nothing and nothing is lost', async () => {
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(join(repo, 'node_modules', '.bin', 'node'), [join(repo, 'reconciler', 'bench', 'abuse.ts'), '--seconds', '2', '--no-targets'], { cwd: repo, env: { ...process.env, FLEET_LOOPBACK_ONLY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.on('close', (code) => resolve({ code, out }));
  });
  expect(run.out).toMatch(/forged heartbeats changed nothing: yes/);
  expect(run.out).toMatch(/nothing lost: yes/);
  expect(run.out).toMatch(/\/api\/health: \d+ answers, 0 failures/);
  expect(run.code, run.out).toBe(0);
}, 120_000);
