// The CLI's rough edges, each as a new user met it, each fixed and held here:
// --version, a closed pipe, a subdirectory, the terminal's width, a fleet
// where nothing answers, drift's reason, --no-color, the prompt's count, the
// address that answered, an away laptop, apply then generate --check, and a
// daemon pointed at a repository it could never push to.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFleet } from '../../reconciler/src/cli/apply-fleet.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { createOrigin } from '../../reconciler/src/sim/origin.ts';
import { Ollama } from 'ollama';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { repo, runFleet } from './run-fleet.ts';

const root = mkdtempSync(join(tmpdir(), 'fleet-rough-'));
const work = join(root, 'checkout');
let sim: SimFleet;

/** Runs a shell line with the launcher as $FLEET, the way a person's pipe does. */
function shell(line: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', line], { cwd, env: { ...process.env, FLEET: `${join(repo, 'node_modules', '.bin', 'node')} ${join(repo, 'reconciler', 'bin', 'fleet.mjs')}`, FLEET_LOOPBACK_ONLY: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A roaming MacBook Air in the checkout's fleet (and so in the simulated one). */
const ENCORE = 'name: encore\nrole: full_worker\nhardware: macbook-air-13-m2-16gb\naddresses: [encore.local]\npresence: roaming\nstatus: active\n';

beforeAll(async () => {
  cpSync(join(repo, 'fleet'), join(work, 'fleet'), { recursive: true });
  writeFileSync(join(work, 'fleet', 'nodes', 'encore.yaml'), ENCORE);
  sim = await startSimFleet({ stateDir: join(root, 'sim'), fromDir: join(work, 'fleet'), preset: 'provisioned', ollama: { pullBytesPerSecond: 50e9, progressIntervalMs: 20 }, controlEndpoint: false, cron: false });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('fleet CLI rough edges', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    const r = await runFleet(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`fleet ${pkg.version} (symphony-fleet, Node ${process.version.startsWith('v24') ? process.version : r.stdout.match(/Node (v[0-9.]+)/)?.[1] ?? ''})\n`);
  });

  it('stops quietly when its output pipe closes (fleet sim up | true)', async () => {
    const state = join(root, 'pipe-sim');
    const r = await shell(`$FLEET sim up --nodes 1 --state-dir ${state} | true; echo "exit \${PIPESTATUS[0]}"`, root);
    try {
      expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
      expect(r.stdout).toBe('exit 0\n');
    } finally {
      await runFleet(['sim', 'down', '--state-dir', state]);
    }
  }, 120_000);

  it('finds the checkout\'s root from a subdirectory, as git does', async () => {
    const r = await runFleet(['validate'], { cwd: join(work, 'fleet', 'nodes') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\.\. \(4 nodes\): valid/);
    const cap = await runFleet(['capacity'], { cwd: join(work, 'fleet', 'catalog') });
    expect(cap.stdout).toMatch(/^maestro /m);
    const elsewhere = mkdtempSync(join(tmpdir(), 'fleet-nowhere-'));
    try {
      const none = await runFleet(['validate'], { cwd: elsewhere });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('Run fleet inside the repository\'s checkout');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('fits capacity to the terminal\'s width (--width or $COLUMNS), and keeps the table when piped without one', async () => {
    for (const [args, env, width] of [[['capacity', '--width', '80'], {}, 80], [['capacity'], { COLUMNS: '100' }, 100]] as const) {
      const r = await shell(`${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}$FLEET ${args.join(' ')}`, work);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(width);
      expect(r.stdout).toMatch(/^maestro {2}llm_worker/m);
      expect(r.stdout).toContain('llama3.1:70b 41.4');
    }
    const wide = await shell('COLUMNS= $FLEET capacity', work);
    expect(wide.stdout.split('\n')[0]).toMatch(/^NODE +ROLE +HARDWARE/);
  });

  it('plan and apply stop with one line and exit 1 when no node answers; apply writes nothing to generated/', async () => {
    const dir = join(root, 'unreachable');
    cpSync(join(repo, 'fleet'), join(dir, 'fleet'), { recursive: true });
    const plan = await runFleet(['plan'], { cwd: dir });
    expect(plan.code).toBe(1);
    const line = 'fleet: no node answered (3 tried), so nothing was planned or changed. To work on a simulated fleet, start one (fleet sim up --from fleet) and pass --targets .sim/targets.json (FLEET_LOOPBACK_ONLY=1 is set, so only loopback is dialled)';
    expect(plan.stderr).toContain(line);
    expect(plan.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    // Each node's reason is short, and the guard's advice is not repeated per address.
    expect(plan.stdout).not.toContain('Point the command at');
    expect(plan.stdout).toMatch(/^maestro {2}unreachable {2}unreachable: maestro\.local: not dialled \(FLEET_LOOPBACK_ONLY=1 allows only loopback\); 192\.168\.1\.20: not dialled/m);
    expect(plan.stdout).not.toContain('write-generated');
    expect(existsSync(join(dir, 'generated', 'observed.json'))).toBe(false);
    const apply = await runFleet(['apply', '--yes'], { cwd: dir });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(line.slice('fleet: '.length));
    expect(existsSync(join(dir, 'generated'))).toBe(false);
    const drift = await runFleet(['drift'], { cwd: dir });
    expect(drift.code).toBe(1);
  });

  it('apply --no-color has no colour; plan and apply say which address answered; apply leaves what generate --check expects', async () => {
    const maestro = sim.targets.nodes.maestro?.addresses[0] ?? '';
    const apply = await runFleet(['apply', '--targets', sim.targetsPath, '--yes', '--no-color'], { cwd: work });
    expect(apply.stdout).not.toContain('\u001b[');
    expect(apply.stdout).toMatch(new RegExp(`^maestro {2}drifted {2}drifted: .* {2}\\(via ${maestro.replace(/\./g, '\\.')}\\)$`, 'm'));
    expect(apply.code).toBe(0);
    const plan = await runFleet(['plan', '--targets', sim.targetsPath], { cwd: work });
    expect(plan.stdout).toMatch(new RegExp(`^maestro {2}in-sync {2}in sync {2}\\(via ${maestro.replace(/\./g, '\\.')}\\)$`, 'm'));
    const check = await runFleet(['generate', '--check'], { cwd: work });
    expect(check.stdout).toBe('generated: up to date\n');
    expect(check.code).toBe(0);
    expect((await runFleet(['apply', '--targets', sim.targetsPath, '--yes', '--color'], { cwd: work })).stdout).toContain('\u001b[');
  }, 120_000);

  it('drift says why it exits 2 when every node is in sync: the generated files would change', async () => {
    writeFileSync(join(work, 'generated', 'openclaw_workers.json'), '{}\n');
    const r = await runFleet(['drift', '--targets', sim.targetsPath], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^maestro +in-sync/m);
    expect(r.stdout).toContain('generated files would change: openclaw_workers.json (they no longer match fleet/ and what was observed). `fleet apply` writes and installs them; `fleet generate` writes them alone.');
  }, 120_000);

  it('asks to apply as many steps as the plan\'s header counts', async () => {
    const maestroUrl = sim.targets.nodes.maestro?.ollama_url ?? '';
    await new Ollama({ host: maestroUrl, fetch: guardedFetch(createGuard({ loopbackOnly: true })) }).delete({ model: 'mistral:7b' });
    let out = '';
    let question = '';
    const result = await applyFleet({
      fleetDir: join(work, 'fleet'), targetsFile: sim.targetsPath, yes: false, prune: false, dryRun: false, generatedDir: join(root, 'prompt-generated'),
      today: '2026-11-24', tty: true, color: false, write: (t) => void (out += t),
      confirm: (q) => {
        question = q;
        return Promise.resolve(false);
      },
    });
    const header = /^fleet plan: .*; (\d+) steps?/m.exec(out);
    expect(header?.[1]).toBeDefined();
    expect(Number(header?.[1])).toBeGreaterThan(0);
    expect(question).toMatch(new RegExp(`^Apply the ${header?.[1] ?? ''} steps? above on `));
    expect(result.exitCode).toBe(2);
  }, 120_000);

  it('an away roaming laptop does not make apply fail: exit 0, "away", converged', async () => {
    await sim.control.setFault('encore', 'down');
    try {
      const r = await runFleet(['apply', '--targets', sim.targetsPath, '--yes'], { cwd: work });
      expect(r.stdout).toContain('encore: away (roaming; nothing to do until it is back)');
      expect(r.stdout).not.toContain('NOT converged');
      expect(r.stdout).toMatch(/^Converged: 3 nodes match fleet\/; encore away \(roaming\), converged when back\.$/m);
      expect(r.code).toBe(0);
    } finally {
      await sim.control.clearFault('encore', 'down');
    }
  }, 120_000);

  it('fleet daemon refuses at start a local repository with the branch checked out, with the reason and the fix', async () => {
    const { person } = await createOrigin(join(root, 'daemon-origin'), join(repo, 'fleet'));
    const r = await runFleet(['daemon', '--repo', person, '--workdir', join(root, 'daemon-work'), '--host', '127.0.0.1', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`fleet: --repo ${person} is a repository with a working tree that has main checked out, and git refuses pushes to a checked-out branch (receive.denyCurrentBranch)`);
    expect(r.stderr).toContain(`git clone --bare ${person} ${person}.git`);
    expect(existsSync(join(root, 'daemon-work', 'repo'))).toBe(false);
  }, 60_000);
});
