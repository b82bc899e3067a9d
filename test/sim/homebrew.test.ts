// The 'provisioned' preset writes Homebrew's files directly (fast); the same
// result must come from running the simulated installer and `brew install`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import type { SimNode } from '../../reconciler/src/sim/sim-node.ts';
import { startTestFleet } from './fleet-fixture.ts';

let sim: { fleet: SimFleet; cleanup: () => Promise<void> };
let preset: SimNode;
let installed: SimNode;
const brew = '"${FLEET_ROOT-}"/usr/local/bin/brew';

beforeAll(async () => {
  const hw = { model: 'Intel iMac 27-inch 2019', chip: 'Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz', architecture: 'x86_64', ram_gb: 64, metal: false, storage_gb: 2000 } as const;
  sim = await startTestFleet({
    specs: [
      { name: 'preset', hardware: hw, preset: 'provisioned', ollama: true, formulae: ['ollama'], casks: ['docker', 'google-chrome'], models: [] },
      { name: 'installed', hardware: hw, preset: 'fresh' },
    ],
  });
  preset = sim.fleet.node('preset');
  installed = sim.fleet.node('installed');
  const steps = [
    'NONINTERACTIVE=1 /bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"',
    `${brew} install ollama`,
    `${brew} install --cask docker`,
    `${brew} install --cask google-chrome`,
  ];
  for (const step of steps) {
    const r = await installed.exec(step);
    if (r.code !== 0) throw new Error(`${step}: ${r.stderr}`);
  }
});
afterAll(async () => {
  await sim.cleanup();
});

describe('Homebrew on an Intel Mac', () => {
  const views = [
    `${brew} --prefix`,
    `${brew} list --versions`,
    `${brew} list --formula --versions`,
    `${brew} list --cask --versions`,
    `${brew} services list`,
    'cd "${FLEET_ROOT-}" && find usr/local Applications | sort',
    'cd "${FLEET_ROOT-}"/usr/local && for l in bin/brew bin/ollama opt/ollama Cellar/ollama/*/bin/ollama; do printf "%s -> %s\\n" "$l" "$(readlink "$l")"; done',
    // (the preset's Ollama is serving and the other's is not, so only the client version is compared)
    '"${FLEET_ROOT-}"/usr/local/bin/ollama --version 2>&1 | grep -o "[0-9][0-9.]*[0-9]" | tail -1',
  ];

  for (const view of views) {
    it(`the preset and the installer agree on: ${view}`, async () => {
      const a = await preset.exec(view);
      const b = await installed.exec(view);
      expect(a.code).toBe(0);
      expect(a).toEqual(b);
    });
  }

  it('docker needs sudo: without it the cask install fails like brew does', async () => {
    await installed.exec(`${brew} uninstall --cask docker`);
    await installed.setFault('sudo-password');
    try {
      const r = await installed.exec(`${brew} install --cask docker`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/sudo: a password is required\nError: Failure while executing; `\/usr\/bin\/sudo -u root -E --/);
    } finally {
      await installed.clearFault('sudo-password');
    }
    expect((await installed.exec(`${brew} install --cask docker`)).code).toBe(0);
  });

  it('brew refuses to run as root', async () => {
    const r = await installed.exec(`sudo -n ${brew} list`);
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr).toMatch(/^Error: Running Homebrew as root is extremely dangerous and no longer supported\./);
  });
});
