// fleet add-node --detect: the hardware entry from the Mac itself. The pure
// choice on probe facts, then the command against simulated Macs (real SSH,
// observe's own probe) whose hardware is in the catalog, is not, or is a
// smaller-disk variant.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chooseHardware, detectedHardwareOf, nominalStorageGb, type DetectedHardware } from '../../reconciler/src/catalog/hardware-facts.ts';
import type { Hardware } from '../../reconciler/src/schema/fleet.ts';
import type { ObservedFacts } from '../../reconciler/src/schema/observed.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { runFleet } from '../cli/run-fleet.ts';
import { fixture } from '../plan/build-observed.ts';

const repo = join(import.meta.dirname, '..', '..');
const catalog = (parse(readFileSync(join(repo, 'fleet', 'catalog', 'hardware.yaml'), 'utf8')) as { hardware: Record<string, Hardware> }).hardware;
const DATE = '2026-11-24';

const mac = (extra: Partial<DetectedHardware>): DetectedHardware => ({ architecture: 'arm64', chip: 'Apple M4', ram_gb: 16, storage_gb: 256, ncpu: 10, hw_model: 'Mac16,10', ...extra });

describe('chooseHardware', () => {
  it('hw.model tells a Mac mini from a MacBook Pro with the same chip and memory', () => {
    expect(chooseHardware(mac({}), catalog, DATE)).toMatchObject({ ok: true, id: 'mac-mini-m4-16gb', created: false });
    expect(chooseHardware(mac({ hw_model: 'Mac16,1', storage_gb: 512 }), catalog, DATE)).toMatchObject({ ok: true, id: 'macbook-pro-14-m4-16gb', created: false });
    expect(chooseHardware(mac({ chip: 'Apple M2', hw_model: 'Mac14,7', storage_gb: 512 }), catalog, DATE)).toMatchObject({ ok: true, id: 'macbook-pro-13-m2-16gb', created: false });
  });

  it('a bigger disk than the entry says: the entry (the disk check stays safe); a smaller one: a new entry', () => {
    const bigger = chooseHardware(mac({ storage_gb: 2000 }), catalog, DATE);
    expect(bigger).toMatchObject({ id: 'mac-mini-m4-16gb', created: false });
    expect(bigger.ok && bigger.why).toContain('it has 2000 GB of disk; the entry\'s 256 GB keeps the disk check on the safe side');
    const smaller = chooseHardware(mac({ chip: 'Apple M4 Pro', ram_gb: 24, hw_model: 'Mac16,11', storage_gb: 256 }), catalog, DATE);
    expect(smaller).toMatchObject({ ok: true, id: 'mac-mini-m4-pro-24gb-256gb-disk', created: true, hardware: { model: 'Mac mini M4 Pro', storage_gb: 256, ram_gb: 24, hw_model: 'Mac16,11' } });
  });

  it('a Mac no entry describes: a new entry, named after one with its hw.model, else marked for a name', () => {
    const sibling = chooseHardware(mac({ chip: 'Apple M2 Pro', ram_gb: 24, hw_model: 'Mac14,12', storage_gb: 512 }), catalog, DATE);
    expect(sibling).toMatchObject({ created: true, id: 'mac-mini-m2-pro-24gb', hardware: { model: 'Mac mini M2 Pro', metal: true } });
    const unknown = chooseHardware(mac({ chip: 'Apple M2 Ultra', ram_gb: 64, hw_model: 'Mac14,8', storage_gb: 1000 }), catalog, DATE);
    expect(unknown).toMatchObject({ created: true, id: 'mac-hw-model-mac14-8-64gb', hardware: { model: 'Mac (hw.model Mac14,8)', chip: 'Apple M2 Ultra' } });
    expect(unknown.ok && unknown.hardware.notes).toContain('model name unknown');
  });

  it('reads the probe\'s facts: Rosetta does not make Apple Silicon Intel; disks round to what they were sold as', () => {
    const facts = structuredClone(fixture('fresh-m4-24gb').facts) as ObservedFacts;
    facts.hardware = { architecture: 'x86_64', arm64_capable: true, chip: 'Apple M4', ram_bytes: 24 * 2 ** 30, ncpu: 10, hw_model: 'Mac16,10' };
    facts.disk.total_bytes = 494_384_795_648;
    expect(detectedHardwareOf(facts)).toEqual({ detected: { architecture: 'arm64', chip: 'Apple M4', ram_gb: 24, storage_gb: 512, ncpu: 10, hw_model: 'Mac16,10' } });
    expect(nominalStorageGb(245_107_195_904)).toBe(256);
    expect(nominalStorageGb(994_662_584_320)).toBe(1000);
    facts.hardware.ram_bytes = null;
    expect(detectedHardwareOf(facts)).toEqual({ missing: ['memory (sysctl hw.memsize)'] });
  });
});

describe('fleet add-node --detect (simulated Macs over SSH)', () => {
  const work = mkdtempSync(join(tmpdir(), 'fleet-detect-'));
  let sim: SimFleet;
  const macPro: Hardware = { model: 'Mac Pro', chip: 'Apple M2 Ultra', architecture: 'arm64', ram_gb: 64, metal: true, storage_gb: 1000, hw_model: 'Mac14,8', ncpu: 24 };
  const laptop: Hardware = { ...(catalog['macbook-pro-13-m2-16gb'] as Hardware), storage_gb: 512 };

  beforeAll(async () => {
    sim = await startSimFleet({
      stateDir: join(work, 'sim'),
      specs: [
        { name: 'tempo', hardware: laptop, preset: 'fresh' },
        { name: 'soloist', hardware: macPro, preset: 'fresh' },
      ],
      controlEndpoint: false,
      cron: false,
    });
    cpSync(join(repo, 'fleet'), join(work, 'fleet'), { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await sim?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const addressOf = (name: string): string => sim.targets.nodes[name]?.addresses[0] ?? '';

  it('a 16 GB MacBook Pro M2: picks its catalog entry and writes a node that serves only llama3.2:3b', async () => {
    const r = await runFleet(['add-node', 'tempo', '--detect', addressOf('tempo'), '--targets', sim.targetsPath, '--role', 'llm_worker', '--role-models', 'replace', '--models', 'llama3.2:3b', '--presence', 'roaming', '--address', 'tempo.local', '--address', '100.101.102.103', '--today', DATE], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^detected on 127\.[0-9.]+: Apple M2, 16 GB, arm64, hw\.model Mac14,7, 512 GB disk: catalog entry macbook-pro-13-m2-16gb, MacBook Pro 13-inch M2 \(it has 512 GB of disk/m);
    const text = readFileSync(join(work, 'fleet', 'nodes', 'tempo.yaml'), 'utf8');
    expect(text).toMatch(/^hardware: macbook-pro-13-m2-16gb\s+# MacBook Pro 13-inch M2, 16 GB RAM, 256 GB disk$/m);
    expect(text).toContain('  - tempo.local\n  - 100.101.102.103\n');
  }, 60_000);

  it('a Mac the catalog lacks: writes its entry next to the node, and the fleet validates', async () => {
    const r = await runFleet(['add-node', 'soloist', '--detect', addressOf('soloist'), '--targets', sim.targetsPath, '--role', 'full_worker', '--address', 'soloist.local', '--today', DATE], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no catalog entry matches; new entry mac-hw-model-mac14-8-64gb');
    expect(r.stdout).toContain('wrote fleet/catalog/hardware.yaml (new entry mac-hw-model-mac14-8-64gb)');
    const entry = (parse(readFileSync(join(work, 'fleet', 'catalog', 'hardware.yaml'), 'utf8')) as { hardware: Record<string, Hardware> }).hardware['mac-hw-model-mac14-8-64gb'];
    expect(entry).toMatchObject({ chip: 'Apple M2 Ultra', ram_gb: 64, storage_gb: 1000, hw_model: 'Mac14,8', metal: true, architecture: 'arm64' });
    const v = await runFleet(['validate', 'fleet', '--today', DATE], { cwd: work });
    expect(v.code).toBe(0);
  }, 60_000);

  it('refuses, writing nothing, when the host key is not the expected one or --hardware disagrees with the Mac', async () => {
    const before = readdirSync(join(work, 'fleet', 'nodes')).sort();
    const catalogBefore = readFileSync(join(work, 'fleet', 'catalog', 'hardware.yaml'), 'utf8');
    const wrongKey = await runFleet(['add-node', 'cadence', '--detect', addressOf('tempo'), '--targets', sim.targetsPath, '--role', 'llm_worker', '--expect', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '--today', DATE], { cwd: work });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/presents SHA256:\S+, not SHA256:AAAA.*not logged in, nothing written/);
    const wrongHw = await runFleet(['add-node', 'cadence', '--detect', addressOf('tempo'), '--targets', sim.targetsPath, '--role', 'llm_worker', '--hardware', 'mac-mini-m4-24gb', '--today', DATE], { cwd: work });
    expect(wrongHw.code).toBe(1);
    expect(wrongHw.stderr).toContain('--hardware mac-mini-m4-24gb, but');
    expect(readdirSync(join(work, 'fleet', 'nodes')).sort()).toEqual(before);
    expect(readFileSync(join(work, 'fleet', 'catalog', 'hardware.yaml'), 'utf8')).toBe(catalogBefore);
  }, 60_000);

  it('ran only observe\'s read-only probe on the Macs', () => {
    for (const name of ['tempo', 'soloist']) {
      const commands = sim.commandLog(name).join('\n');
      expect(commands, name).not.toMatch(/scutil --set|brew' install|crontab -$|launchctl bootstrap|sudo -n scutil/);
      expect(commands, name).toContain('sysctl -n');
    }
  });
});
