// The simulator implements exactly the macOS commands the reconciler may run
// (reconciler/src/shell/commands.ts), each as a fast POSIX sh script.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MACOS_COMMANDS, macPath } from '../../reconciler/src/shell/commands.ts';
import { HOMEBREW_DIR, STANDINS_DIR } from '../../reconciler/src/sim/layout.ts';
import { OLLAMA_CLI_PATH } from '../../reconciler/src/sim/ollama/index.ts';
import { run } from './fleet-fixture.ts';

describe('the stand-in directory and the command list', () => {
  it('has a stand-in for every system command and nothing else', () => {
    const system = MACOS_COMMANDS.filter((c) => c.provider === 'system').map((c) => c.name).sort();
    const standIns = readdirSync(STANDINS_DIR).sort();
    expect(standIns).toEqual(system);
  });

  it('provides the Homebrew commands through the simulated Homebrew', () => {
    const homebrew = MACOS_COMMANDS.filter((c) => c.provider === 'homebrew').map((c) => c.name).sort();
    expect(homebrew).toEqual(['brew', 'ollama']);
    expect(existsSync(join(HOMEBREW_DIR, 'brew'))).toBe(true);
    expect(existsSync(OLLAMA_CLI_PATH)).toBe(true);
  });

  it('ships every stand-in executable, as valid POSIX sh', async () => {
    const files = [...readdirSync(STANDINS_DIR).map((f) => join(STANDINS_DIR, f)), join(HOMEBREW_DIR, 'brew')];
    for (const file of files) {
      accessSync(file, constants.X_OK);
      const syntax = await run('/bin/sh', ['-n', file]);
      expect({ file, ...syntax }).toEqual({ file, code: 0, stdout: '', stderr: '' });
    }
  });

  it('writes Mac paths so FLEET_ROOT can move them and nothing else can get in', () => {
    expect(macPath('/opt/homebrew/bin/brew').__shell).toBe(`"\${FLEET_ROOT-}"'/opt/homebrew/bin/brew'`);
    expect(() => macPath("/tmp/x'; rm -rf /")).toThrow(/not a plain absolute path/);
  });
});
