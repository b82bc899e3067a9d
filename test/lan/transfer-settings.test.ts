// fleet.yaml `transfer` is checked beyond its schema: the nodes it names run
// Ollama, and a rate cap has a line rate to be a share of.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import { writeMiniatureFleet } from '../../reconciler/src/sim/miniature.ts';

it('refuses internet_nodes and cache_node that cannot pull or serve, and a cap without a line rate', async () => {
  const dir = writeMiniatureFleet(join(mkdtempSync(join(tmpdir(), 'transfer-')), 'fleet'), {
    scale: 1000,
    nodes: [{ name: 'tempo', role: 'llm_worker', hardware: 'mac-mini-m4-24gb' }],
    transfer: '  internet_nodes: [tempo, nosuch]\n  cache_node: bob\n  internet:\n    cap_percent: 60\n',
  });
  const r = await loadFleet(dir, { today: '2026-11-25' });
  const problems = r.problems.filter((p) => p.rule.startsWith('transfer-')).map((p) => `${p.rule} ${p.line} ${p.message}`);
  expect(problems).toEqual([
    expect.stringMatching(/^transfer-node \d+ transfer\.internet_nodes names nosuch, which is not an active node running Ollama \(tempo\)/),
    expect.stringMatching(/^transfer-node \d+ transfer\.cache_node names bob/),
    expect.stringMatching(/^transfer-cap \d+ transfer\.internet\.cap_percent needs line_mbps/),
  ]);
});
