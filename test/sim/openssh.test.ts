// The real-OpenSSH tier: Debian's sshd on loopback with the same node dirs,
// stand-ins and keys. The reconciler's SSH client and the stock ssh client
// must get the same answers from it as from the ssh2 tier.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../reconciler/src/net/guard.ts';
import { connectNode } from '../../reconciler/src/net/ssh.ts';
import { buildProbe } from '../../reconciler/src/observe/probe.ts';
import { splitProbeOutput } from '../../reconciler/src/observe/parse-sections.ts';
import { raw } from '../../reconciler/src/shell/quote.ts';
import { factsFromProbe } from '../../reconciler/src/observe/parse-probe.ts';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { opensshUnavailableReason, startOpenSshTier, type OpenSshTier } from '../../reconciler/src/sim/openssh.ts';
import { REPO_FLEET_DIR, run, startTestFleet, stockSshArgs } from './fleet-fixture.ts';

const unavailable = opensshUnavailableReason();
if (unavailable) console.log(`skipping the OpenSSH tier: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('real sshd tier', () => {
  let sim: { fleet: SimFleet; dir: string; cleanup: () => Promise<void> };
  let tier: OpenSshTier;
  let knownHosts: string;
  const guard = createGuard({ loopbackOnly: true });

  beforeAll(async () => {
    sim = await startTestFleet({ fromDir: REPO_FLEET_DIR, preset: 'provisioned' });
    tier = await startOpenSshTier(sim.fleet.nodes, readFileSync(sim.fleet.paths.clientPublicKey, 'utf8').trim());
    knownHosts = join(sim.dir, 'known_hosts_openssh');
    writeFileSync(knownHosts, tier.knownHosts());
  });
  afterAll(async () => {
    await tier?.stop();
    await sim?.cleanup();
  });

  function sshdOf(name: string): { host: string; port: number; user: string } {
    const n = tier.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no sshd for ${name}`);
    return n;
  }

  it('answers the stock client with the node\'s own host key, HOME and stand-ins', async () => {
    const s = sshdOf('bob');
    const r = await run('ssh', [...stockSshArgs({ knownHostsFile: knownHosts, keyPath: sim.fleet.clientKeyPath, port: s.port, user: s.user, host: s.host }), 'hostname && "${FLEET_ROOT-}"/opt/homebrew/bin/ollama list; echo "$HOME"; exit 4']);
    expect(r.code).toBe(4);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('bob');
    expect(lines[1]).toMatch(/^NAME\s+ID\s+SIZE\s+MODIFIED/);
    expect(lines.at(-1)).toBe(sim.fleet.node('bob').paths.home);
  });

  it('pipes stdin and passes stderr and exit codes', async () => {
    const s = sshdOf('maestro');
    const r = await run('ssh', [...stockSshArgs({ knownHostsFile: knownHosts, keyPath: sim.fleet.clientKeyPath, port: s.port, user: s.user, host: s.host }), 'cat > ~/x.txt; wc -c < ~/x.txt; sudo -n true; echo oops >&2; exit 7'], 'twelve bytes');
    expect(r).toMatchObject({ code: 7, stdout: '      12\n', stderr: 'oops\n' });
  });

  it('gives the reconciler\'s probe the same facts as the ssh2 tier', async () => {
    const privateKey = readFileSync(sim.fleet.clientKeyPath);
    for (const node of sim.fleet.nodes) {
      const probe = buildProbe({ ollamaPort: 11434, nonce: 'contract' });
      const facts = [];
      for (const [port, user, hostKey] of [
        [node.sshPort(), node.user, node.hostKey()],
        [sshdOf(node.name).port, sshdOf(node.name).user, node.hostKey()],
      ] as const) {
        const host = port === node.sshPort() ? node.ip : '127.0.0.1';
        const connected = await connectNode(
          { node: node.name, addresses: [host], port, user, privateKey, knownHostKeys: [hostKey], trustOnFirstUse: false, connectTimeoutMs: 10_000, commandTimeoutMs: 30_000 },
          guard,
        );
        if (!connected.ok) throw new Error(`${node.name} ${host}:${port}: ${connected.reach.message ?? connected.reach.status}`);
        const result = await connected.session.exec(probe.script);
        connected.session.close();
        expect(result.code).toBe(0);
        const parsed = factsFromProbe(splitProbeOutput(result.stdout, result.stderr, probe.nonce), null, probe.nonce);
        expect(parsed.complete).toBe(true);
        facts.push(parsed.facts);
      }
      expect(facts[1]).toEqual(facts[0]);
    }
  });

  it('stop() also ends a command still running in a session (sshd runs it in a session of its own)', async () => {
    const node = sim.fleet.node('stagehand');
    const own = await startOpenSshTier([node], readFileSync(sim.fleet.paths.clientPublicKey, 'utf8').trim());
    const s = own.nodes[0]!;
    const connected = await connectNode(
      { node: node.name, addresses: [s.host], port: s.port, user: s.user, privateKey: readFileSync(sim.fleet.clientKeyPath), knownHostKeys: [node.hostKey()], trustOnFirstUse: false, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 },
      guard,
    );
    if (!connected.ok) throw new Error(connected.reach.message ?? connected.reach.status);
    const pidFile = join(node.paths.home, 'hung.pid');
    const hung = connected.session.exec(raw('echo $$ > ~/hung.pid; exec sleep 300'));
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      pid = Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : 0);
    }
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(true);
    await own.stop();
    for (let i = 0; i < 40 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(pid)).toBe(false);
    const result = await hung;
    expect(result.code).not.toBe(0);
    connected.session.close();
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
