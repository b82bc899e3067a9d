// A full `fleet apply` through Debian's real OpenSSH sshd (the sim's OpenSSH
// tier): the SSH client, quoting and every provisioning command work against
// the real server, not only against our ssh2 one.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Targets } from '../../reconciler/src/schema/targets.ts';
import { opensshUnavailableReason, startOpenSshTier, type OpenSshTier } from '../../reconciler/src/sim/openssh.ts';
import { applyOnce, desiredModels, listModels, startTestFleet, type TestFleet } from './sim-helpers.ts';

const unavailable = opensshUnavailableReason();
if (unavailable) console.log(`skipping the OpenSSH apply test: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('fleet apply through real sshd', () => {
  let f: TestFleet;
  let tier: OpenSshTier;
  let targetsFile = '';

  beforeAll(async () => {
    f = await startTestFleet('three-fresh-nodes', { prefix: 'apply-openssh-' });
    tier = await startOpenSshTier(f.sim.nodes.filter((n) => n.name === 'virtuoso'), readFileSync(f.sim.paths.clientPublicKey, 'utf8').trim());
    const sshd = tier.nodes[0];
    const base = f.sim.targets.nodes.virtuoso;
    if (!sshd || !base) throw new Error('no sshd for virtuoso');
    const targets: Targets = { ...f.sim.targets, nodes: { virtuoso: { ...base, addresses: [sshd.host], ssh_port: sshd.port, user: sshd.user, host_key: sshd.hostKey } } };
    targetsFile = join(f.root, 'targets-openssh.json');
    writeFileSync(targetsFile, JSON.stringify(targets));
  }, 120_000);

  afterAll(async () => {
    await tier?.stop();
    await f?.stop();
  });

  it('converges a factory-fresh Mac and a second apply has nothing to do', async () => {
    const first = await applyOnce(f, { targetsFile, nodes: ['virtuoso'] });
    const v = first.after?.nodes.find((n) => n.node === 'virtuoso');
    expect(v?.status, first.output.slice(-3000)).toBe('in-sync');
    expect(v?.steps).toEqual([]);
    expect(await listModels(f, 'virtuoso')).toEqual([...(desiredModels(f.desired).virtuoso ?? [])].sort());
    const second = await applyOnce(f, { targetsFile, nodes: ['virtuoso'] });
    expect(second.plan.nodes.find((n) => n.node === 'virtuoso')?.steps).toEqual([]);
  }, 300_000);
});
