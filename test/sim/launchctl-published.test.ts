// `launchctl list [LABEL]` is answered by the sh stand-in from the files the
// simulated launchd rewrites on every change (state/launchd/). These tests
// hold those answers to what launchd itself says, before and after changes,
// and check that a stopped launchd leaves no stale files behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import type { SimNode } from '../../reconciler/src/sim/sim-node.ts';
import { startTestFleet } from './fleet-fixture.ts';

let sim: { fleet: SimFleet; cleanup: () => Promise<void> };
let node: SimNode;
const label = 'com.symphony.ollama';
const ctx = { cwd: '/', uid: 501 };

beforeAll(async () => {
  sim = await startTestFleet({ nodes: 1, preset: 'provisioned' });
  node = sim.fleet.nodes[0] as SimNode;
});
afterAll(async () => {
  await sim.cleanup();
});

async function expectSameAsLaunchd(args: string[]): Promise<void> {
  const direct = node.launchd.launchctl(args, ctx);
  expect(await node.exec(`launchctl ${args.join(' ')}`)).toEqual(direct);
}

describe('launchctl list from the published files', () => {
  it('list, list LABEL and an unknown label read as launchd answers them', async () => {
    expect(existsSync(join(node.paths.state, 'launchd', 'list'))).toBe(true);
    await expectSameAsLaunchd(['list']);
    await expectSameAsLaunchd(['list', label]);
    await expectSameAsLaunchd(['list', 'com.example.none']);
  });

  it('follows bootout and bootstrap', async () => {
    expect((await node.exec(`launchctl bootout gui/501/${label}`)).code).toBe(0);
    await expectSameAsLaunchd(['list']);
    const gone = await node.exec(`launchctl list ${label}`);
    expect(gone.code).toBe(113);
    expect((await node.exec(`launchctl bootstrap gui/501 ~/Library/LaunchAgents/${label}.plist`)).code).toBe(0);
    await expectSameAsLaunchd(['list']);
    await expectSameAsLaunchd(['list', label]);
  });

  it('follows a serve that died (ollama-down) and its respawn', async () => {
    await node.setFault('ollama-down');
    await expectSameAsLaunchd(['list', label]);
    expect((await node.exec(`launchctl list ${label}`)).stdout).not.toMatch(/"PID"/);
    await node.clearFault('ollama-down');
    await expectSameAsLaunchd(['list', label]);
    expect((await node.exec(`launchctl list ${label}`)).stdout).toMatch(/"PID" = \d+;/);
  });

  it('brew services list --json reads the same table', async () => {
    const brew = (await node.exec('ls "$FLEET_ROOT/opt/homebrew/bin/brew" 2>/dev/null || echo "$FLEET_ROOT/usr/local/bin/brew"')).stdout.trim();
    const viaFile = await node.exec(`${brew} services list --json`);
    // without the published table, brew asks launchctl (the control channel)
    const viaCtl = await node.exec(`mv "$SIM_STATE/launchd/list" "$SIM_STATE/launchd/list.off" && ${brew} services list --json; s=$?; mv "$SIM_STATE/launchd/list.off" "$SIM_STATE/launchd/list"; exit $s`);
    expect(viaFile.code).toBe(0);
    expect(viaFile).toEqual(viaCtl);
  });
});
