// CI runs the provisioning benchmark's short mode: scenario A with three
// minis, today's behaviour against LAN copies, one run. No timing is
// asserted here (figures belong to the benchmark); what must hold is that
// both modes converge, the table prints, and LAN mode moves each distinct
// model over the internet exactly once.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

it('bench:provision --quick prints both modes and crosses the internet once per model in LAN mode', () => {
  const r = spawnSync(join(REPO, 'node_modules/.bin/node'), [join(REPO, 'reconciler/bench/provision.ts'), '--quick'], { encoding: 'utf8', env: { ...process.env, FLEET_LOOPBACK_ONLY: '1' }, timeout: 300_000 });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(/\| today \(every node pulls\) \| 27\.9 GB \(3\.00x\) \| 0\.0 GB \|/);
  expect(r.stdout).toMatch(/\| LAN copies \| 9\.3 GB \(1\.00x\) \| 18\.6 GB \|/);
  expect(r.stdout).not.toContain('NOT converged');
}, 320_000);
