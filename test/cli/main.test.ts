// `fleet` loads only the module of the command it runs; help still lists all.
import { describe, expect, it } from 'vitest';
import { runFleet } from './run-fleet.ts';

const COMMANDS = ['validate', 'capacity', 'add-node', 'sim', 'observe', 'trust', 'plan', 'drift', 'apply', 'generate', 'daemon', 'status', 'demo'];

describe('fleet', () => {
  it('lists every subcommand in --help', async () => {
    const r = await runFleet(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it.each(['trust', 'drift', 'status'])('finds %s, registered by another command\'s module', async (c) => {
    const r = await runFleet([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: fleet ${c}`);
  });

  it('exits 1 with help on an unknown command', async () => {
    const r = await runFleet(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
