// observe against the simulated fleet (reconciler/src/sim): fresh and
// provisioned Macs reported as they are, and the faults down, hang,
// ollama-500 and host-key-rotated giving the right statuses within the
// timeouts. Also the CLI, `fleet observe` and `fleet trust`, as processes.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../reconciler/src/net/guard.ts';
import { fingerprint } from '../../reconciler/src/net/known-hosts.ts';
import { createConnectionPool } from '../../reconciler/src/observe/connections.ts';
import type { ConnectionPool } from '../../reconciler/src/observe/connections.ts';
import { observeFleet } from '../../reconciler/src/observe/observe-fleet.ts';
import { checkObserved } from '../../reconciler/src/observe/validate-observed.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { startSimFleet } from '../../reconciler/src/sim/fleet.ts';
import { opensshUnavailableReason, startOpenSshTier } from '../../reconciler/src/sim/openssh.ts';
import type { Targets } from '../../reconciler/src/schema/targets.ts';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { buildDesired, node, SETTINGS } from '../plan/build-desired.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const CONNECT_S = 2;
const guard = createGuard({ loopbackOnly: true });
let stateDir: string;
let sim: SimFleet;

const desired = buildDesired([
  node('virtuoso', 'full_worker', 'mac-mini-m4-24gb'),
  node('cadence', 'full_worker', 'mac-mini-m4-24gb', { status: 'planned' }),
  node('maestro', 'llm_worker', 'imac-27-2019-i9-64gb'),
  node('stagehand', 'browser_node', 'imac-intel-i5-8gb'),
  node('tempo', 'full_worker', 'mac-mini-m4-16gb'),
  node('soloist', 'full_worker', 'mac-mini-m4-16gb'),
], { ...SETTINGS, ssh: { ...SETTINGS.ssh, connect_timeout_s: CONNECT_S, command_timeout_s: 20 }, reconcile: { ...SETTINGS.reconcile, concurrency: 8 } });

const FULL_WORKER_MODELS = ['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text:latest'];
const worker = (casks: string[]): { ollama: true; models: string[]; formulae: string[]; casks: string[] } => ({ ollama: true, models: FULL_WORKER_MODELS, formulae: ['ollama'], casks });

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'fleet-observe-sim-'));
  sim = await startSimFleet({
    stateDir,
    user: 'symphony',
    preset: 'provisioned',
    cron: false,
    controlEndpoint: false,
    specs: [
      { name: 'virtuoso', hardware: 'mac-mini-m4-24gb', role: 'full_worker', ...worker(['docker', 'google-chrome']), docker: true, harpa: true },
      { name: 'cadence', hardware: 'mac-mini-m4-24gb', role: 'full_worker', preset: 'fresh' },
      { name: 'maestro', hardware: 'imac-27-2019-i9-64gb', role: 'llm_worker', ...worker(['google-chrome']) },
      { name: 'stagehand', hardware: 'imac-intel-i5-8gb', role: 'browser_node', ollama: false, formulae: [], casks: ['google-chrome'] },
      { name: 'tempo', hardware: 'mac-mini-m4-16gb', role: 'full_worker', ...worker(['google-chrome']) },
      { name: 'soloist', hardware: 'mac-mini-m4-16gb', role: 'full_worker', ...worker(['google-chrome']) },
    ],
  });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function observeAll(pool: ConnectionPool, nodes?: string[]): Promise<{ observed: ObservedNode[]; ms: number }> {
  const t0 = Date.now();
  const observed = await observeFleet(desired, pool, { guard, ...(nodes ? { nodes } : {}) });
  return { observed, ms: Date.now() - t0 };
}

function byName(observed: ObservedNode[], name: string): ObservedNode {
  const o = observed.find((x) => x.node === name);
  if (!o) throw new Error(`${name} not observed`);
  return o;
}

describe('observe the simulated fleet', () => {
  it('a provisioned node and a fresh one, every fact as the sim set it', async () => {
    const pool = createConnectionPool(desired, { targets: sim.targets, guard });
    try {
      const { observed } = await observeAll(pool, ['virtuoso', 'cadence', 'stagehand']);
      expect(checkObserved(observed)).toEqual([]);
      const v = byName(observed, 'virtuoso');
      expect(v.reach.status).toBe('ok');
      const f = v.facts!;
      expect(f.hostnames).toEqual({ computer_name: 'Virtuoso', host_name: 'virtuoso', local_host_name: 'virtuoso' });
      expect(f.hardware).toMatchObject({ architecture: 'arm64', arm64_capable: true, ram_bytes: 24 * 2 ** 30 });
      expect(f.brew.prefix).toBe('/opt/homebrew');
      expect(Object.keys(f.brew.formulae)).toContain('ollama');
      expect(Object.keys(f.brew.casks).sort()).toEqual(['docker', 'google-chrome']);
      expect(f.ollama.local.up).toBe(true);
      expect(f.ollama.external.up).toBe(true);
      expect(f.ollama.models_source).toBe('local-api');
      expect(f.ollama.models.map((m) => m.name)).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text:latest']);
      expect(f.ollama.models.every((m) => /^[0-9a-f]{64}$/.test(m.digest) && m.size > 0)).toBe(true);
      expect(f.launchd.ollama).toMatchObject({ loaded: true, running: true });
      expect(f.crontab.lines).toContain('* * * * * bash ~/.symphony/heartbeat.sh');
      expect(f.files.ollama_env?.content).toContain('OLLAMA_HOST=0.0.0.0');
      expect(f.files.launchd_plist).not.toBeNull();
      expect(f.sudo).toBe(true);
      expect(f.warnings).toBeUndefined();

      const c = byName(observed, 'cadence').facts!;
      expect(c.hostnames.host_name).toBeNull();
      expect(c.hostnames.computer_name).not.toBe('Cadence');
      expect(c.brew).toEqual({ prefix: null, formulae: {}, casks: {}, services: {} });
      expect(c.ollama).toMatchObject({ cli_version: null, local: { up: false }, external: { up: false }, models: [], loaded: [] });
      expect(c.files).toEqual({ ollama_env: null, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null });
      expect(c.launchd.ollama.loaded).toBe(false);
      expect(c.crontab.lines).toEqual([]);
      expect(c.warnings).toBeUndefined();

      const s = byName(observed, 'stagehand').facts!;
      expect(s.hardware).toMatchObject({ architecture: 'x86_64', arm64_capable: false });
      expect(s.brew.prefix).toBe('/usr/local');
      expect(s.ollama.local.up).toBe(false);
    } finally {
      pool.close();
    }
  });

  it('a kept-open connection gathers boot facts once; a new connection gathers them again', async () => {
    const pool = createConnectionPool(desired, { targets: sim.targets, guard });
    const scripts: string[] = [];
    const spyOn = async (): Promise<void> => {
      const conn = await pool.session('maestro');
      if (!conn.ok) throw new Error(`maestro: ${conn.reach.message ?? conn.reach.status}`);
      const exec = conn.session.exec.bind(conn.session);
      conn.session.exec = (command, options) => {
        scripts.push(command.__shell);
        return exec(command, options);
      };
    };
    try {
      await spyOn();
      const first = byName((await observeAll(pool, ['maestro'])).observed, 'maestro');
      const second = byName((await observeAll(pool, ['maestro'])).observed, 'maestro');
      expect(scripts).toHaveLength(2);
      expect(scripts[0]).toMatch(/\bsw_vers\b/);
      expect(scripts[0]).toMatch(/sysctl -n hw\.memsize/);
      expect(scripts[1]).not.toMatch(/\bsw_vers\b|hw\.memsize|\bid -u\b|uname -m/);
      expect(scripts[1]).toMatch(/scutil --get ComputerName/);
      const stable = (o: ObservedNode): unknown => ({ ...o.facts, disk: undefined });
      expect(second.facts?.os).toEqual(first.facts?.os);
      expect(second.facts?.hardware).toEqual(first.facts?.hardware);
      expect(stable(second)).toEqual(stable(first));
      expect(first.facts?.os.product_version).toMatch(/^\d+\.\d+/);
      expect(second.facts?.hardware.ram_bytes).toBe(64 * 2 ** 30);

      pool.forget('maestro');
      await spyOn();
      await observeAll(pool, ['maestro']);
      expect(scripts).toHaveLength(3);
      expect(scripts[2]).toMatch(/\bsw_vers\b/);
    } finally {
      pool.close();
    }
  });

  it('faults: down, hang, ollama-500 and a rotated host key, each reported, all within the timeout', async () => {
    await sim.control.setFault('maestro', 'down');
    await sim.control.setFault('tempo', 'hang');
    await sim.control.setFault('soloist', 'ollama-500');
    await sim.control.setFault('stagehand', 'host-key-rotated');
    const pool = createConnectionPool(desired, { targets: sim.targets, guard });
    try {
      const runsBefore = sim.commandLog('stagehand').length;
      const { observed, ms } = await observeAll(pool);
      expect(checkObserved(observed)).toEqual([]);
      expect(Object.fromEntries(observed.map((o) => [o.node, o.reach.status]))).toEqual({
        cadence: 'ok', maestro: 'unreachable', soloist: 'ok', stagehand: 'host-key-changed', tempo: 'timeout', virtuoso: 'ok',
      });
      // The hung node cost its connect timeout, not more, and nobody waited for it.
      expect(byName(observed, 'tempo').duration_ms).toBeLessThan(CONNECT_S * 1000 + 1500);
      expect(byName(observed, 'maestro').duration_ms).toBeLessThan(1000);
      expect(ms).toBeLessThan(20_000);

      const o500 = byName(observed, 'soloist').facts!.ollama;
      expect(o500.local).toMatchObject({ up: false, status: 500 });
      expect(o500.external).toMatchObject({ up: false, status: 500 });
      expect(o500.models_source).toBe('disk');
      expect(o500.models.map((m) => m.name)).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text:latest']);

      const rotated = byName(observed, 'stagehand');
      expect(rotated.facts).toBeUndefined();
      expect(rotated.reach.host_key?.expected).toBe(fingerprint(sim.targets.nodes.stagehand!.host_key!));
      expect(rotated.reach.host_key?.fingerprint).not.toBe(rotated.reach.host_key?.expected);
      expect(sim.commandLog('stagehand').length).toBe(runsBefore);
    } finally {
      pool.close();
      await sim.control.clearFault('maestro', 'down');
      await sim.control.clearFault('tempo', 'hang');
      await sim.control.clearFault('soloist', 'ollama-500');
    }
  });
});

describe('observe through real OpenSSH sshd (the sim\'s OpenSSH tier)', () => {
  it.skipIf(opensshUnavailableReason() !== undefined)('the ssh2 client, host key pinning and the probe work against sshd', async () => {
    const tier = await startOpenSshTier(sim.nodes.filter((n) => n.name === 'virtuoso'), readFileSync(`${sim.clientKeyPath}.pub`, 'utf8'));
    try {
      const sshd = tier.nodes[0]!;
      const base = sim.targets.nodes.virtuoso!;
      const targets: Targets = { nodes: { virtuoso: { ...base, addresses: [sshd.host], ssh_port: sshd.port, user: sshd.user, host_key: sshd.hostKey } } };
      const pool = createConnectionPool(desired, { targets, guard });
      try {
        const [o] = (await observeAll(pool, ['virtuoso'])).observed;
        expect(o?.reach.status).toBe('ok');
        expect(o?.facts?.hostnames.host_name).toBe('virtuoso');
        expect(o?.facts?.ollama.models.length).toBe(3);
        expect(o?.facts?.warnings).toBeUndefined();
      } finally {
        pool.close();
      }
      const wrongKey: Targets = { nodes: { virtuoso: { ...targets.nodes.virtuoso!, host_key: sim.targets.nodes.maestro!.host_key! } } };
      const refused = createConnectionPool(desired, { targets: wrongKey, guard });
      try {
        const [o] = (await observeAll(refused, ['virtuoso'])).observed;
        expect(o?.reach.status).toBe('host-key-changed');
      } finally {
        refused.close();
      }
    } finally {
      await tier.stop();
    }
  });
});

function runFleet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(join(REPO, 'node_modules', '.bin', 'node'), [join(REPO, 'reconciler', 'src', 'cli', 'main.ts'), ...args], {
      env: { ...process.env, FLEET_LOOPBACK_ONLY: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('the CLI against the simulated fleet', () => {
  let fleetDir: string;
  let simOfRepo: SimFleet;
  let simDir: string;
  beforeAll(async () => {
    // The repo's own fleet/, copied: `fleet trust` writes its known_hosts.
    fleetDir = join(mkdtempSync(join(tmpdir(), 'fleet-cli-')), 'fleet');
    cpSync(join(REPO, 'fleet'), fleetDir, { recursive: true });
    simDir = mkdtempSync(join(tmpdir(), 'fleet-cli-sim-'));
    simOfRepo = await startSimFleet({ stateDir: simDir, fromDir: fleetDir, preset: 'provisioned', cron: false, controlEndpoint: false });
  }, 120_000);
  afterAll(async () => {
    await simOfRepo?.stop();
    rmSync(simDir, { recursive: true, force: true });
    rmSync(join(fleetDir, '..'), { recursive: true, force: true });
  });

  it('fleet observe --format json prints schema-valid nodes and writes the snapshot', async () => {
    const snapshot = join(simDir, 'observed.json');
    const r = await runFleet(['observe', '--fleet', fleetDir, '--targets', simOfRepo.targetsPath, '--format', 'json', '--snapshot', snapshot]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const observed = JSON.parse(r.stdout) as ObservedNode[];
    expect(checkObserved(observed)).toEqual([]);
    expect(observed.map((o) => [o.node, o.reach.status])).toEqual(simOfRepo.nodes.map((n) => [n.name, 'ok']).sort());
    const snap = JSON.parse(readFileSync(snapshot, 'utf8')) as ObservedNode[];
    expect(snap.map((o) => o.node)).toEqual(observed.map((o) => o.node));
    expect(snap.every((o) => o.duration_ms === undefined)).toBe(true);
  });

  it('fleet observe (text) names each node and its state', async () => {
    const r = await runFleet(['observe', '--fleet', fleetDir, '--targets', simOfRepo.targetsPath, '--node', 'bob']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bob: ok at 127\./);
    expect(r.stdout).toContain('1 of 1 node observed');
  });

  it('fleet trust through --targets shows a simulated key but pins it in fleet/known_hosts only with --pin-in-fleet', async () => {
    const bob = simOfRepo.targets.nodes.bob!;
    const before = readFileSync(join(fleetDir, 'known_hosts'), 'utf8');
    const r = await runFleet(['trust', 'bob', '--fleet', fleetDir, '--targets', simOfRepo.targetsPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(fingerprint(bob.host_key!));
    expect(r.stdout).toContain('not pinned: bob was reached through --targets');
    expect(r.stdout).toContain('run again with --pin-in-fleet');
    expect(readFileSync(join(fleetDir, 'known_hosts'), 'utf8')).toBe(before);
  });

  it('fleet trust --pin-in-fleet pins the key; a wrong --expect writes nothing', async () => {
    const bob = simOfRepo.targets.nodes.bob!;
    const wrong = await runFleet(['trust', 'bob', '--fleet', fleetDir, '--targets', simOfRepo.targetsPath, '--expect', 'SHA256:nope']);
    expect(wrong.code).toBe(1);
    expect(readFileSync(join(fleetDir, 'known_hosts'), 'utf8')).not.toContain(bob.host_key!);
    const r = await runFleet(['trust', 'bob', '--fleet', fleetDir, '--targets', simOfRepo.targetsPath, '--pin-in-fleet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(fingerprint(bob.host_key!));
    const text = readFileSync(join(fleetDir, 'known_hosts'), 'utf8');
    expect(text).toContain(`bob,[${bob.addresses[0]}]:${bob.ssh_port} ${bob.host_key}`);
    expect(text.startsWith('# Pinned SSH host keys')).toBe(true);
    const again = await runFleet(['trust', 'bob', '--fleet', fleetDir, '--targets', simOfRepo.targetsPath, '--pin-in-fleet']);
    expect(again.stdout).toContain('already pinned');
  });

  it('refuses to contact anything when the fleet is invalid', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'fleet-bad-')), 'fleet');
    cpSync(fleetDir, bad, { recursive: true });
    cpSync(join(bad, 'nodes', 'bob.yaml'), join(bad, 'nodes', 'Bad Name.yaml'));
    try {
      const before = simOfRepo.commandLog('bob').length;
      const r = await runFleet(['observe', '--fleet', bad, '--targets', simOfRepo.targetsPath]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no node was contacted');
      expect(simOfRepo.commandLog('bob').length).toBe(before);
    } finally {
      rmSync(join(bad, '..'), { recursive: true, force: true });
    }
  });
});
