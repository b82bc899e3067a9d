// End to end on the simulated fleet: factory-fresh Macs become Symphony nodes
// with one `fleet apply`, a second apply changes nothing, the official ollama
// client sees exactly the desired models, and the files on Bob tell the truth.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateGenerated } from '../../reconciler/src/generate/validate-generated.ts';
import type { GeneratedFiles } from '../../reconciler/src/generate/generate.ts';
import { applyOnce, desiredModels, isProbe, isStateChanging, listModels, logSizes, newCommands, registrations, startTestFleet, type TestFleet } from './sim-helpers.ts';
import { HEARTBEAT_CRON_LINE } from '../../reconciler/src/model/mac-layout.ts';

const MARKER = '/tmp/fleet-apply-PWNED';
let f: TestFleet;

beforeAll(async () => {
  await rm(MARKER, { force: true });
  f = await startTestFleet('three-fresh-nodes');
  // Somebody's crontab entries with shell syntax in them must survive verbatim and never run.
  await f.sim.node('crescendo').exec(`printf '%s\\n' ${"'MAILTO=\"\"'"} ${"'0 3 * * * echo \"$(touch " + MARKER + ")\" `touch " + MARKER + "` '\\''q'\\'''"} | crontab -`);
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await rm(f?.root ?? '/nonexistent', { recursive: true, force: true });
});

describe('fleet apply on factory-fresh Macs', () => {
  let first: Awaited<ReturnType<typeof applyOnce>>;

  beforeAll(async () => {
    first = await applyOnce(f);
  }, 300_000);

  it('converges every node from nothing (exit 0)', () => {
    expect(first.output).toMatch(/Converged: 4 nodes match fleet\//);
    expect(first.exitCode).toBe(0);
    expect(first.after?.nodes.map((n) => [n.node, n.status, n.steps.length])).toEqual([
      ['bob', 'in-sync', 0], ['crescendo', 'in-sync', 0], ['stagehand', 'in-sync', 0], ['virtuoso', 'in-sync', 0],
    ]);
  });

  it('got each missing model once per node, by a pull (largest first, LAN copies in the plan) or a copy from a peer', () => {
    const steps = (node: string) => (first.applied?.nodes.find((n) => n.node === node)?.steps ?? []).filter((s) => s.kind === 'pull-model' || s.kind === 'copy-model');
    const models = (node: string): string[] => steps(node).map((s) => s.id.split('/').at(-1) ?? '').sort();
    expect(models('virtuoso')).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text:latest']);
    expect(models('crescendo')).toEqual(['llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest']);
    expect(models('stagehand')).toEqual([]);
    const sizes: Record<string, number> = { 'nomic-embed-text:latest': 274302450, 'llama3.2:3b': 2019393189, 'mistral:7b': 4113301824, 'llama3.1:8b': 4920753328 };
    for (const node of ['virtuoso', 'crescendo']) {
      const pulls = steps(node).filter((s) => s.kind === 'pull-model').map((s) => sizes[s.id.split('/').at(-1) ?? ''] ?? 0);
      expect(pulls).toEqual([...pulls].sort((a, b) => b - a));
    }
  });

  it('the official ollama client lists exactly the desired models on each Ollama node', async () => {
    const want = desiredModels(f.desired);
    for (const node of ['bob', 'virtuoso', 'crescendo']) {
      expect(await listModels(f, node)).toEqual([...(want[node] ?? [])].sort());
    }
  });

  it('did what the seed does on each Mac', async () => {
    const v = f.sim.node('virtuoso');
    expect((await v.exec('scutil --get ComputerName')).stdout.trim()).toBe("Virtuoso's Mini");
    expect((await v.exec('scutil --get LocalHostName')).stdout.trim()).toBe('virtuoso');
    expect((await v.exec('cat ~/.ollama/ollama.env')).stdout).toContain('OLLAMA_HOST=0.0.0.0');
    expect((await v.exec('plutil -lint ~/Library/LaunchAgents/com.symphony.ollama.plist')).code).toBe(0);
    expect((await v.exec('crontab -l')).stdout.split('\n').filter((l) => l === HEARTBEAT_CRON_LINE)).toHaveLength(1);
    const intel = f.sim.commandLog('stagehand').filter((c) => !isProbe(c) && c.includes('/bin/brew'));
    expect(intel.length).toBeGreaterThan(0);
    expect(intel.every((c) => c.includes(`"\${FLEET_ROOT-}"'/usr/local/bin/brew'`))).toBe(true);
    expect(f.sim.commandLog('stagehand').some((c) => !isProbe(c) && c.includes('launchctl'))).toBe(false);
  });

  it('kept other crontab lines verbatim and never ran the hostile text', async () => {
    const table = (await f.sim.node('crescendo').exec('crontab -l')).stdout.split('\n');
    expect(table).toContain('MAILTO=""');
    expect(table).toContain(`0 3 * * * echo "$(touch ${MARKER})" \`touch ${MARKER}\` 'q'`);
    expect(existsSync(MARKER)).toBe(false);
  });

  it('registered every node with Bob\'s registry API', () => {
    expect(registrations(f).map((r) => r.node_id).sort()).toEqual(['bob', 'crescendo', 'stagehand', 'virtuoso']);
  });

  it('wrote valid generated files that advertise what is there, and installed them on Bob', async () => {
    const files: GeneratedFiles = {
      nodes_registry: JSON.parse(await readFile(join(f.generatedDir, 'nodes_registry.json'), 'utf8')),
      openclaw_workers: JSON.parse(await readFile(join(f.generatedDir, 'openclaw_workers.json'), 'utf8')),
    };
    expect(validateGenerated(files)).toEqual([]);
    const worker = files.openclaw_workers.workers.find((w) => w.worker_id === 'virtuoso_ollama');
    expect(worker?.models_available).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text']);
    expect(worker?.enabled).toBe(true);
    expect(files.openclaw_workers.workers.at(-1)?.node_id).toBeNull();
    expect(await readFile(join(f.bobHome, '.symphony/openclaw_workers.json'), 'utf8')).toBe(await readFile(join(f.generatedDir, 'openclaw_workers.json'), 'utf8'));
    expect(await readFile(join(f.bobHome, '.symphony/registry/nodes_registry.json'), 'utf8')).toBe(await readFile(join(f.generatedDir, 'nodes_registry.json'), 'utf8'));
  });

  describe('a second apply', () => {
    let second: Awaited<ReturnType<typeof applyOnce>>;
    let before: Record<string, number>;
    let generatedBefore: string;

    beforeAll(async () => {
      before = logSizes(f);
      generatedBefore = await readFile(join(f.generatedDir, 'openclaw_workers.json'), 'utf8');
      second = await applyOnce(f);
    }, 120_000);

    it('exits 0 with nothing to do', () => {
      expect(second.exitCode).toBe(0);
      expect(second.applied).toBeUndefined();
      expect(second.output).toContain('No changes: the fleet matches fleet/.');
    });

    it('sends no command that changes a node: only the observe probe', () => {
      for (const node of Object.keys(before)) {
        const cmds = newCommands(f, node, before[node] ?? 0);
        expect(cmds.filter(isStateChanging)).toEqual([]);
        expect(cmds.every(isProbe)).toBe(true);
      }
    });

    it('leaves the generated files byte for byte', async () => {
      expect(await readFile(join(f.generatedDir, 'openclaw_workers.json'), 'utf8')).toBe(generatedBefore);
    });
  });
});
