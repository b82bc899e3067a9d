// Every command in the README's ```sh blocks is run here (or, for the two
// set-up commands, by .ci/run and test/readme/demo.test.ts). A command added to
// the README without a runner below fails the first test.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetDir, repo, runFleet, type RunResult } from '../cli/run-fleet.ts';

/** Lines of the README's sh code blocks, without comments and blank lines. */
function readmeCommands(): string[] {
  const text = readFileSync(join(repo, 'README.md'), 'utf8');
  const out: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd !== '') out.push(cmd);
    }
  }
  return out;
}

/** Commands run elsewhere, and where. */
const RUN_ELSEWHERE: Record<string, string> = {
  'npm ci && npm start': 'test/readme/demo.test.ts runs `npm start`; .ci/run runs `npm ci`',
  'npm ci && npm test': '.ci/run runs exactly this',
  'export FLEET_LOOPBACK_ONLY=1': 'set for every command below by runFleet',
};

function words(cmd: string): string[] {
  return cmd.split(/\s+/).slice(1);
}

describe('README commands', () => {
  const commands = readmeCommands();
  const fleetCommands = commands.filter((c) => c.startsWith('fleet '));
  let dir = '';
  let cleanup: () => void = () => undefined;
  const results = new Map<string, RunResult>();

  beforeAll(async () => {
    const made = makeFleetDir('fleet');
    dir = made.dir;
    cleanup = made.cleanup;
    // `fleet import` reads the two files kept by hand on Bob: the reference's example fleet.
    for (const f of ['nodes_registry.json', 'openclaw_workers.json']) cpSync(join(repo, 'test', 'fixtures', 'import', 'reference-fleet', f), join(dir, f));
    // In README order: the walk-through depends on the sim started before it.
    for (const cmd of fleetCommands) results.set(cmd, await runFleet(words(cmd), { cwd: dir }));
  }, 600_000);

  afterAll(async () => {
    // Whatever happened above, leave no simulated fleet running.
    if (existsSync(join(dir, '.sim', 'sim.pid'))) await runFleet(['sim', 'down', '--state-dir', '.sim'], { cwd: dir });
    cleanup();
  });

  it('has a runner for every command', () => {
    expect(commands.length).toBeGreaterThan(8);
    for (const c of commands) {
      expect(c.startsWith('fleet ') || c in RUN_ELSEWHERE, `README command without a test: ${c}`).toBe(true);
    }
  });

  const expectations: [RegExp, (r: RunResult) => void][] = [
    [/^fleet --version$/, (r) => { expect(r.code).toBe(0); expect(r.stdout).toMatch(/^fleet \d+\.\d+\.\d+ /); }],
    [/^fleet capacity --width 80$/, (r) => { expect(r.code).toBe(0); expect(Math.max(...r.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80); }],
    [/^fleet validate fleet$/, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('valid'); }],
    [/^fleet capacity$/, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('maestro'); }],
    [/^fleet add-node virtuoso /, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('wrote fleet/nodes/virtuoso.yaml'); }],
    [/^fleet sim up /, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('targets'); }],
    [/^fleet plan --targets/, (r) => { expect(r.code).toBe(2); expect(r.stdout).toMatch(/install-homebrew|Homebrew/); }],
    [/^fleet apply --targets/, (r) => { expect([0, 2]).toContain(r.code); expect(r.stdout).toMatch(/converged/i); expect(r.stdout).not.toMatch(/NOT converged \((?!.*HARPA)/); }],
    [/^fleet verify --targets/, (r) => { expect(r.code).toBe(0); expect(r.stdout).toMatch(/^verify: \d+ passed, 0 failed/m); expect(r.stdout).toMatch(/pass {2}ollama-list hostname maestro/); }],
    [/^fleet drift --targets/, (r) => { expect([0, 2]).toContain(r.code); expect(r.stdout).toContain('maestro'); }],
    [/^fleet sim fault maestro ollama-down/, (r) => { expect(r.code).toBe(0); }],
    [/^fleet catalog add-model llama3\.1:8b --from maestro /, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('llama3.1:8b is already in fleet/catalog/models.yaml with these facts; nothing to change'); }],
    [/^fleet import /, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('imported 3 nodes into imported/'); expect(r.stdout).toContain('Regenerating the files from fleet/ will change'); }],
    [/^fleet sim down/, (r) => { expect(r.code).toBe(0); expect(r.stdout).toContain('stopped'); }],
  ];

  it('runs each fleet command with the expected outcome', () => {
    expect(fleetCommands.length).toBeGreaterThan(5);
    for (const cmd of fleetCommands) {
      const r = results.get(cmd);
      expect(r, cmd).toBeDefined();
      if (!r) continue;
      const matching = expectations.filter(([re]) => re.test(cmd));
      expect(matching.length, `no expectation for README command: ${cmd}`).toBeGreaterThan(0);
      for (const [, check] of matching) {
        try {
          check(r);
        } catch (err) {
          throw new Error(`${cmd}\nexit ${String(r.code)}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-2000)}\n${String(err)}`, { cause: err });
        }
      }
    }
  });

  it('shows the ollama-down fault in drift after it is switched on', () => {
    const drifts = fleetCommands.filter((c) => c.startsWith('fleet drift'));
    const last = results.get(drifts[drifts.length - 1] ?? '');
    expect(last?.code).toBe(2);
    expect(last?.stdout).toMatch(/maestro.*(drifted|ollama|Ollama)/);
  });
});

describe('README configuration examples', () => {
  it('the alerts example is a valid fleetd.yaml, read as the daemon reads it', async () => {
    const { parseBobConfig } = await import('../../reconciler/src/daemon/bob-config.ts');
    const text = readFileSync(join(repo, 'README.md'), 'utf8');
    const block = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((b) => b.startsWith('alerts:'));
    expect(block).toBeDefined();
    const config = parseBobConfig('/home/bob/.symphony/fleetd.yaml', block ?? '', '/home/bob');
    expect(config.alerts.targets.map((t) => t.format)).toEqual(['ntfy', 'slack', 'webhook']);
    expect(config.alerts.rules).toEqual({ unreachable_minutes: 10, ollama_down_minutes: 0, low_disk_gb: 20, drift_reconciles: 3, cooldown_minutes: 30, max_per_hour: 20 });
  });
});
