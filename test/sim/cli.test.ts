// `fleet sim up|status|fault|down` as a user runs them: a background fleet in
// its own process, found again through the state directory.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Targets } from '../../reconciler/src/schema/targets.ts';
import { run } from './fleet-fixture.ts';

const MAIN = new URL('../../reconciler/src/cli/main.ts', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
const fleet = (...args: string[]): ReturnType<typeof run> => run(process.execPath, [MAIN, ...args], '', 120_000);

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

afterAll(async () => {
  const pidFile = join(stateDir, 'sim.pid');
  if (existsSync(pidFile)) await fleet('sim', 'down', '--state-dir', stateDir);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('fleet sim', () => {
  it('up starts a background fleet, prints the nodes and writes targets.json and a pid file', async () => {
    const up = await fleet('sim', 'up', '--nodes', '2', '--preset', 'provisioned', '--state-dir', stateDir);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^NODE\s+ADDRESS\s+SSH\s+OLLAMA\nnode-01\s+127\.\d+\.\d+\.\d+\s+\d+\s+http:\/\/127\.[0-9.]+:\d+\nnode-02\s/);
    const targets = JSON.parse(readFileSync(join(stateDir, 'targets.json'), 'utf8')) as Targets;
    expect(Object.keys(targets.nodes)).toEqual(['node-01', 'node-02']);
    expect(targets.control_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const pid = Number(readFileSync(join(stateDir, 'sim.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    const tags = (await (await fetch(`${targets.nodes['node-01']?.ollama_url ?? ''}/api/tags`)).json()) as { models: unknown[] };
    expect(tags.models.length).toBeGreaterThan(0);
  });

  it('a second up on the same state dir is refused while the first runs', async () => {
    const again = await fleet('sim', 'up', '--nodes', '1', '--state-dir', stateDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already running from .* \(pid \d+\); stop it with "fleet sim down/);
  });

  it('fault switches a node down and back; status shows it', async () => {
    const targets = JSON.parse(readFileSync(join(stateDir, 'targets.json'), 'utf8')) as Targets;
    const t = targets.nodes['node-02'];
    if (!t) throw new Error('no node-02');
    expect(await fleet('sim', 'fault', 'node-02', 'down', '--state-dir', stateDir)).toMatchObject({ code: 0, stdout: 'node-02: down on\n' });
    expect(await refused(t.addresses[0] ?? '', t.ssh_port)).toBe(true);
    const status = await fleet('sim', 'status', '--state-dir', stateDir);
    expect(status.stdout).toMatch(/\nnode-02\s+127\.[0-9.]+\s+\d+\s+http:\S+\s+external\s+down\n/);
    const json = JSON.parse((await fleet('sim', 'status', '--json', '--state-dir', stateDir)).stdout) as { nodes: { name: string; faults: Record<string, unknown> }[] };
    expect(json.nodes.find((n) => n.name === 'node-02')?.faults).toEqual({ down: {} });
    expect((await fleet('sim', 'fault', 'node-02', 'down', '--clear', '--state-dir', stateDir)).code).toBe(0);
    expect(await refused(t.addresses[0] ?? '', t.ssh_port)).toBe(false);
    const slow = await fleet('sim', 'fault', 'node-01', 'slow', '--param', 'ms=10', '--state-dir', stateDir);
    expect(slow.code).toBe(0);
  });

  it('fault rejects unknown nodes and kinds with a sentence', async () => {
    const node = await fleet('sim', 'fault', 'nope', 'down', '--state-dir', stateDir);
    expect(node).toMatchObject({ code: 1, stderr: 'fleet: no simulated node "nope"; nodes: node-01, node-02\n' });
    const kind = await fleet('sim', 'fault', 'node-01', 'meltdown', '--state-dir', stateDir);
    expect(kind.code).toBe(1);
    expect(kind.stderr).toMatch(/unknown fault "meltdown"; one of: down, hang, slow/);
  });

  it('down stops exactly the process it started and removes the pid file', async () => {
    const pid = Number(readFileSync(join(stateDir, 'sim.pid'), 'utf8'));
    const down = await fleet('sim', 'down', '--state-dir', stateDir);
    expect(down).toMatchObject({ code: 0, stdout: `stopped the simulated fleet (pid ${pid})\n` });
    expect(existsSync(join(stateDir, 'sim.pid'))).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    const status = await fleet('sim', 'status', '--state-dir', stateDir);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/no simulated fleet is running/);
  });

  it('refuses --nodes together with --from', async () => {
    const r = await fleet('sim', 'up', '--nodes', '2', '--from', 'fleet', '--state-dir', stateDir);
    expect(r).toMatchObject({ code: 1, stderr: 'fleet: use either --nodes or --from, not both\n' });
  });
});
