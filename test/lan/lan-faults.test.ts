// LAN copies under faults, on a miniature simulated fleet with real SSH
// between the Macs: a copy cut mid-blob resumes, a corrupted byte is caught
// by the digest, a source that goes away does not fail the reconcile, and
// the internet cap holds on the simulated line.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyLan, minis, modelSteps, startLanFleet, type LanFleet } from './lan-fleet.ts';

const ROLE_MODELS = ['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest'];
let f: LanFleet | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

function partialDir(fleet: LanFleet, node: string): string {
  return join(fleet.sim.node(node).paths.home, '.ollama/models/.symphony-partial');
}

/** Resolves once a blob of at least `min` bytes is half-way into the target's partial folder. */
async function midBlob(fleet: LanFleet, node: string, min: number): Promise<void> {
  for (;;) {
    try {
      for (const name of readdirSync(partialDir(fleet, node))) {
        if (!name.startsWith('sha256-')) continue;
        if (statSync(join(partialDir(fleet, node), name)).size >= min) return;
      }
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The offsets the source's serve-blob was asked for, per blob. */
function servedOffsets(fleet: LanFleet, source: string): { hex: string; offset: number }[] {
  return fleet.sim.commandLog(source).flatMap((c) => {
    const m = /^\[forced\] .* <- blob ([0-9a-f]{64}) (\d+)$/.exec(c);
    return m ? [{ hex: m[1] ?? '', offset: Number(m[2]) }] : [];
  });
}

describe('LAN copies under faults', () => {
  it('a copy cut mid-blob resumes from where it stopped, and the blob still verifies', async () => {
    // tempo may not use the internet: its only way is seed, whose LAN link is slow (1 MB/s).
    f = await startLanFleet([...minis(['seed', 'tempo'])], {
      transfer: '  mode: lan\n  internet_nodes: [seed]\n',
      network: { internetBytesPerSecond: 50e6, lanScale: 0.008 },
      provisioned: { seed: ROLE_MODELS },
    });
    const fleet = f;
    const first = applyLan(fleet);
    await midBlob(fleet, 'tempo', 1_000_000);
    await fleet.sim.control.setFault('seed', 'down');
    const r1 = await first;
    const failed = modelSteps(r1).filter((s) => s.node === 'tempo' && s.status === 'failed');
    expect(failed.length, r1.output).toBeGreaterThan(0);
    expect(failed[0]?.detail).toMatch(/may not pull from the internet/);
    const kept = readdirSync(partialDir(fleet, 'tempo')).filter((n) => /^sha256-[0-9a-f]{64}$/.test(n));
    expect(kept.length).toBeGreaterThan(0);

    await fleet.sim.control.clearFault('seed', 'down');
    const r2 = await applyLan(fleet);
    expect(modelSteps(r2).filter((s) => s.node === 'tempo' && s.status !== 'ok'), r2.output).toEqual([]);
    const resumed = servedOffsets(fleet, 'seed').filter((o) => o.offset > 0);
    expect(resumed.length).toBeGreaterThan(0);
    expect(kept.map((n) => n.slice(7))).toContain(resumed[0]?.hex);
    const names = fleet.sim.node('tempo').ollama.listModels();
    const seedNames = fleet.sim.node('seed').ollama.listModels();
    for (const m of ROLE_MODELS) expect(names.find((x) => x.name === m)?.digest).toBe(seedNames.find((x) => x.name === m)?.digest);
    expect(fleet.sim.network?.stats().internetByNode.tempo ?? 0).toBe(0);
  }, 180_000);

  it('a corrupted byte is caught by the digest, and the copy falls back to an internet pull', async () => {
    f = await startLanFleet([...minis(['seed', 'tempo'])], { provisioned: { seed: ROLE_MODELS } });
    // Flip one byte in the middle of the seed's llama3.1:8b weights (its largest blob).
    const blobs = join(f.sim.node('seed').paths.home, '.ollama/models/blobs');
    const weights = readdirSync(blobs).map((n) => join(blobs, n)).sort((a, b) => statSync(b).size - statSync(a).size)[0] ?? '';
    const bytes = readFileSync(weights);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(weights, bytes);
    const r = await applyLan(f);
    const steps = modelSteps(r).filter((s) => s.node === 'tempo');
    expect(steps.filter((s) => s.status !== 'ok'), r.output).toEqual([]);
    const llama = steps.find((s) => s.id.endsWith('/llama3.1:8b'));
    expect(llama?.detail).toMatch(/^internet pull instead of a LAN copy \(the copy from seed did not match its digest/);
    const others = steps.filter((s) => !s.id.endsWith('/llama3.1:8b'));
    for (const s of others) expect(s.detail).toMatch(/^LAN copy from seed/);
    // What tempo has is the registry's model, not the corrupted copy.
    const digest = f.sim.node('tempo').ollama.listModels().find((m) => m.name === 'llama3.1:8b')?.digest;
    expect(digest).toBe(f.sim.node('seed').ollama.listModels().find((m) => m.name === 'llama3.1:8b')?.digest);
    expect(readdirSync(partialDir(f, 'tempo')).filter((n) => n.startsWith('sha256-'))).toEqual([]);
  }, 120_000);

  it('a source that goes away mid-copy does not fail the reconcile: another peer serves it', async () => {
    f = await startLanFleet([...minis(['alto', 'bass', 'tempo'])], {
      network: { internetBytesPerSecond: 50e6, lanScale: 0.008 },
      provisioned: { alto: ROLE_MODELS, bass: ROLE_MODELS },
    });
    const fleet = f;
    const run = applyLan(fleet);
    await midBlob(fleet, 'tempo', 1_000_000);
    // Whichever source is serving tempo goes away.
    const serving = ['alto', 'bass'].find((n) => servedOffsets(fleet, n).length > 0) ?? 'alto';
    const other = serving === 'alto' ? 'bass' : 'alto';
    await fleet.sim.control.setFault(serving, 'down');
    const r = await run;
    const tempo = r.applied?.nodes.find((n) => n.node === 'tempo');
    expect(tempo?.status === 'converged' || tempo?.status === 'partial', r.output).toBe(true);
    const steps = modelSteps(r).filter((s) => s.node === 'tempo');
    expect(steps.filter((s) => s.status !== 'ok'), r.output).toEqual([]);
    expect(steps.some((s) => s.detail.startsWith(`LAN copy from ${other} (${serving}:`)), JSON.stringify(steps)).toBe(true);
    expect(fleet.sim.node('tempo').ollama.listModels().map((m) => m.name).sort()).toEqual(ROLE_MODELS);
  }, 180_000);

  it('the internet cap holds: the fleet pulls at the capped rate, and the line never carries more than its rate', async () => {
    // Line 8 MB/s (64 Mbit/s); the fleet may use 25% of it. Every node pulls its own (mode internet).
    f = await startLanFleet([...minis(['alto', 'bass'])], {
      transfer: '  mode: internet\n  internet:\n    line_mbps: 64\n    cap_percent: 25\n    max_pulls: 4\n',
      network: { internetBytesPerSecond: 8e6 },
    });
    const r = await applyLan(f);
    expect(modelSteps(r).filter((s) => s.status !== 'ok'), r.output).toEqual([]);
    const samples = f.sim.network?.stats().lineSamples ?? [];
    const cap = 2e6;
    const first = samples[0];
    const last = samples.at(-1);
    if (first === undefined || last === undefined) throw new Error('no traffic on the line');
    // The whole transfer at the cap: what crossed is at most the cap over the time, plus the 2 s the bucket holds.
    // Without the cap the line's 8 MB/s would carry it four times as fast.
    const seconds = (last.atMs - first.atMs) / 1000;
    expect(last.bytes - first.bytes).toBeLessThan(cap * (seconds + 2) * 1.05);
    expect(last.bytes).toBeGreaterThan(15e6);
    // Physics: no 250 ms window carries more than the line's rate.
    for (let i = 0, j = 0; i < samples.length; i++) {
      const a = samples[i];
      if (a === undefined) continue;
      while ((samples[j + 1]?.atMs ?? Number.POSITIVE_INFINITY) <= a.atMs + 250) j++;
      const b = samples[j];
      if (b !== undefined && b.atMs - a.atMs >= 200) expect((b.bytes - a.bytes) / ((b.atMs - a.atMs) / 1000)).toBeLessThan(8e6 * 1.1);
    }
    expect(r.output).toMatch(/paused [\d.]+ s to stay under the internet cap/);
  }, 120_000);
});
