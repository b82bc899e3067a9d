import { describe, expect, it } from 'vitest';
import { buildCapacityReport } from '../../reconciler/src/fit/capacity-report.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';

const repo = `${import.meta.dirname}/../..`;

describe('buildCapacityReport', () => {
  it('reports every live node of the grown fleet with needs, headroom and totals', async () => {
    const { desired } = await loadFleet('test/fixtures/fleets/grown', { cwd: repo, today: '2026-11-24' });
    if (!desired) throw new Error('grown fleet should load');
    const report = buildCapacityReport(desired);
    // stagehand is retired: not in the report.
    expect(report.rows.map((r) => r.node)).toEqual(['bob', 'cadence', 'maestro', 'virtuoso']);
    const virtuoso = report.rows.find((r) => r.node === 'virtuoso');
    expect(virtuoso?.usable_gb).toBe(36);
    expect(virtuoso?.worst_case).toEqual(['codestral:22b', 'llama3.1:8b']);
    expect(virtuoso?.fits).toBe(true);
    expect(virtuoso?.best_larger_model?.model).toBe('qwen2.5-coder:32b');
    const maestro = report.rows.find((r) => r.node === 'maestro');
    expect(maestro?.models.map((m) => m.model)).toEqual(['llama3.1:70b', 'llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest']);
    expect(report.totals.nodes).toBe(4);
    expect(report.totals.ram_gb).toBe(16 + 24 + 64 + 48);
    expect(report.totals.headroom_gb).toBeCloseTo(report.totals.usable_gb - report.totals.worst_case_gb, 9);
    expect(report.totals.not_fitting).toEqual([]);
  });

  it('shows a node without Ollama with no memory figures', async () => {
    const { desired } = await loadFleet('fleet', { cwd: repo, today: '2026-11-24' });
    const stagehand = desired ? buildCapacityReport(desired).rows.find((r) => r.node === 'stagehand') : undefined;
    expect(stagehand).toMatchObject({ ollama: false, ram_gb: 8, usable_gb: null, models: [], best_larger_model: null });
  });
});
