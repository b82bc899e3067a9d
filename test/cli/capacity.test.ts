import { describe, expect, it } from 'vitest';
import { makeFleetDir, runFleet } from './run-fleet.ts';

describe('fleet capacity', () => {
  it('prints a table with usable memory, needs, headroom and the best larger model', async () => {
    const r = await runFleet(['capacity']);
    expect(r.code).toBe(0);
    const bob = r.stdout.split('\n').find((l) => l.startsWith('bob '));
    expect(bob).toMatch(/16\s+10\.7\s+llama3\.2:3b 2\.8, nomic-embed-text:latest 0\.8\s+3\.6 \(2 loaded\)\s+7\.0\s+mistral-nemo:12b \(7\.7\)/);
    expect(r.stdout).toMatch(/^maestro .*64\s+56\.0 .*46\.9 \(2 loaded\)\s+9\.1/m);
    expect(r.stdout).toMatch(/^stagehand .*no Ollama/m);
    expect(r.stdout).toMatch(/^TOTAL\s+3 nodes\s+88\s+66\.7/m);
  });

  it('prints markdown and JSON', async () => {
    const md = await runFleet(['capacity', '--format', 'markdown', '--fleet', 'test/fixtures/fleets/grown']);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^\| NODE \| ROLE \|/);
    expect(md.stdout).toContain('| cadence | full_worker |');
    const json = await runFleet(['capacity', '--format', 'json']);
    const report = JSON.parse(json.stdout) as { rows: { node: string; headroom_gb: number | null }[]; totals: { nodes: number } };
    expect(report.totals.nodes).toBe(3);
    expect(report.rows.find((r) => r.node === 'maestro')?.headroom_gb).toBeCloseTo(9.07, 1);
  });

  it('still shows the table for a fleet whose models do not fit, and exits 1', async () => {
    const fleet = makeFleetDir('fleet', 'model-fit-16gb-codestral');
    try {
      const r = await runFleet(['capacity', '--fleet', 'fleet'], { cwd: fleet.dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error model-fit');
      expect(r.stdout).toMatch(/^virtuoso .*DOES NOT FIT/m);
    } finally {
      fleet.cleanup();
    }
  });
});
