// LAN model copies end to end on a simulated fleet: real SSH between the
// simulated Macs (the target's OpenSSH client, the source's sshd with the
// per-copy key's forced command), real bytes, real sha256, the official
// ollama client listing what arrived.
import { afterEach, describe, expect, it } from 'vitest';
import { applyLan, minis, modelSteps, startLanFleet, type LanFleet } from './lan-fleet.ts';

let f: LanFleet | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

describe('LAN model copies', () => {
  it('pulls each model from the internet once and copies it to the other nodes over SSH', async () => {
    f = await startLanFleet(minis(['cadence', 'tempo', 'virtuoso']));
    const r = await applyLan(f);
    const steps = modelSteps(r);
    expect(steps.filter((s) => s.status !== 'ok'), r.output).toEqual([]);
    const pulls = steps.filter((s) => s.kind === 'pull-model');
    const copies = steps.filter((s) => s.kind === 'copy-model');
    expect(pulls.map((s) => s.id.split('/pull-model/')[1]).sort()).toEqual(['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest']);
    expect(copies).toHaveLength(6);
    for (const c of copies) expect(c.detail).toMatch(/^LAN copy from \w+ .*verified/);
    const distinct = r.plan.transfers?.reduce((n, t) => n + t.bytes, 0) ?? 0;
    const stats = f.sim.network?.stats();
    expect(stats?.internetBytes).toBeGreaterThan(0.99 * distinct);
    expect(stats?.internetBytes).toBeLessThan(1.01 * distinct);
    expect(stats?.lanBytes).toBeGreaterThan(1.99 * distinct);
    expect(r.output).toMatch(/llama3\.1:8b \(\d+(\.\d)? MB\): internet -> \w+, then LAN \w+ -> \w+, \w+/);
    for (const n of ['cadence', 'tempo', 'virtuoso']) {
      const names = f.sim.node(n).ollama.listModels().map((m) => m.name).sort();
      expect(names).toEqual(['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest']);
    }
  }, 120_000);
});
