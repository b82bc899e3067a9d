// reconcile(ctx, request) against a simulated fleet: `fleet plan` and a dry
// run plan the same steps (the heartbeat keys included), agree on the exit
// code, and a dry run neither creates a key nor waits for the fleet lock.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBobConfig } from '../../reconciler/src/bob/bob-config.ts';
import { withLock } from '../../reconciler/src/bob/lock.ts';
import { openNodeSecrets } from '../../reconciler/src/bob/node-secrets.ts';
import type { PlanJson } from '../../reconciler/src/plan/render-json.ts';
import { planExitCode } from '../../reconciler/src/plan/plan.ts';
import { createContext, type ReconcileContext } from '../../reconciler/src/reconcile/context.ts';
import { judgeOutcome } from '../../reconciler/src/reconcile/outcome.ts';
import { reconcile } from '../../reconciler/src/reconcile/reconcile.ts';
import { startTestFleet, TODAY, type TestFleet } from '../apply/sim-helpers.ts';
import { runFleet } from '../cli/run-fleet.ts';

let f: TestFleet;
let ctx: ReconcileContext;
let secretsDir: string;

beforeAll(async () => {
  f = await startTestFleet('bob-and-one-worker', { prefix: 'reconcile-', rename: { maestro: 'virtuoso', stagehand: 'virtuoso' } });
  ctx = await createContext({ generatedDir: f.generatedDir, targetsFile: f.sim.targetsPath });
  secretsDir = (await loadBobConfig(f.bobHome)).secretsDir;
}, 120_000);

afterAll(async () => {
  await f.stop();
});

const stepIds = (nodes: readonly { node: string; steps: readonly { id: string }[] }[]): Record<string, string[]> =>
  Object.fromEntries(nodes.map((n) => [n.node, n.steps.map((s) => s.id)]));

describe('reconcile', () => {
  it('a dry run creates no heartbeat key and does not wait for the fleet lock that an apply holds', async () => {
    let dry: Awaited<ReturnType<typeof reconcile>> | undefined;
    await withLock(ctx.bob.lockPath, async () => {
      dry = await reconcile(ctx, { desired: f.desired, prune: false, today: TODAY, dryRun: true });
      await expect(reconcile(ctx, { desired: f.desired, prune: false, today: TODAY, dryRun: false })).rejects.toMatchObject({ code: 'lock-held' });
    }, { wait: false, command: 'test' });
    expect(dry?.outcome).toBe('planned');
    expect(dry?.applied).toBeUndefined();
    expect(existsSync(secretsDir) ? readdirSync(secretsDir).filter((n) => n.endsWith('.key')) : []).toEqual([]);
    expect(dry?.plan.nodes.flatMap((n) => n.steps).some((s) => s.kind === 'install-secret')).toBe(false);
  }, 120_000);

  it('fleet plan plans what a dry run plans, keys Bob holds included, with the same exit code', async () => {
    // Bob has made the keys (as apply does first) but no node holds one yet.
    await (await openNodeSecrets(secretsDir)).ensure(f.desired.nodes.filter((n) => n.status === 'active').map((n) => n.name));
    const dry = await reconcile(ctx, { desired: f.desired, prune: false, today: TODAY, dryRun: true });
    const secretSteps = dry.plan.nodes.flatMap((n) => n.steps).filter((s) => s.kind === 'install-secret').map((s) => s.node);
    expect(secretSteps.sort()).toEqual(f.desired.nodes.filter((n) => n.status === 'active').map((n) => n.name).sort());

    const cli = await runFleet(['plan', '--fleet', f.fleetDir, '--targets', f.sim.targetsPath, '--out', f.generatedDir, '--format', 'json']);
    expect(cli.stderr).toBe('');
    const json = JSON.parse(cli.stdout) as PlanJson;
    expect(stepIds(json.nodes)).toEqual(stepIds(dry.plan.nodes));
    expect(judgeOutcome(dry).exitCode).toBe(planExitCode(dry.plan));
    expect(cli.code).toBe(judgeOutcome(dry).exitCode);
    expect(cli.code).toBe(2);
  }, 120_000);

  it('an apply converges and reports it as data: every node converged, exit 0, the files generated', async () => {
    const r = await reconcile(ctx, { desired: f.desired, prune: false, today: TODAY, dryRun: false });
    const outcome = judgeOutcome(r);
    expect(r.outcome).toBe('applied');
    expect(outcome.notConverged).toEqual([]);
    expect(outcome.converged.sort()).toEqual(f.desired.nodes.map((n) => n.name).sort());
    expect(outcome.exitCode).toBe(0);
    expect(r.generated?.nodes_registry.nodes.map((n) => n.node_id).sort()).toEqual(f.desired.nodes.map((n) => n.name).sort());
    expect(existsSync(join(f.generatedDir, 'nodes_registry.json'))).toBe(true);
    const again = await reconcile(ctx, { desired: f.desired, prune: false, today: TODAY, dryRun: true });
    expect(again.plan.nodes.every((n) => n.steps.length === 0)).toBe(true);
    expect(judgeOutcome(again).exitCode).toBe(planExitCode(again.plan));
  }, 300_000);
});
