// Hostile values in every command line apply builds: run the lines with a real
// zsh (what a Mac's sshd runs) and a real POSIX sh against recording
// stand-ins, and check that each value arrives as one intact argument and that
// nothing in it ever executes (no marker file). A value that a command would
// read as an option is refused by the builder instead.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ShellLine } from '../../reconciler/src/shell/quote.ts';
import {
  bootoutCommand, bootstrapCommand, hostnameCommands, hostnameManualInstructions, kickstartCommand, makeDirsCommand, nodePath,
  packageInstallCommand, packageUninstallCommand, writeCrontabCommand, writeFileCommand,
} from '../../reconciler/src/apply/step-commands.ts';
import type { StepOf } from '../../reconciler/src/model/steps.ts';
import { findZsh } from '../../reconciler/src/sim/mac-userland.ts';
import { hostileValues } from '../shell/command-lines.ts';
import { parseCrontab } from '../../reconciler/src/observe/parse-crontab.ts';

let dir: string;
let marker: string;

const STUBS = ['sudo', 'scutil', 'launchctl', 'plutil', 'crontab'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apply-quote-'));
  marker = join(dir, 'PWNED');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await mkdir(join(dir, 'root/opt/homebrew/bin'), { recursive: true });
  // Each stand-in appends its argv (NUL-separated, RS-terminated) to the log; sudo runs the rest like the real one.
  const record = `printf '%s\\0' "$(basename "$0")" "$@" >> "$STUB_LOG"; printf '\\036' >> "$STUB_LOG"\n`;
  for (const name of STUBS) {
    let body = `#!/bin/sh\n${record}`;
    if (name === 'sudo') body += 'shift; exec "$@"\n';
    if (name === 'crontab') body += '[ "$1" = - ] && cat > "$STUB_DIR/crontab.stdin"\nexit 0\n';
    await writeFile(join(bin, name), body);
    await chmod(join(bin, name), 0o755);
  }
  await writeFile(join(dir, 'root/opt/homebrew/bin/brew'), `#!/bin/sh\n${record}`);
  await chmod(join(dir, 'root/opt/homebrew/bin/brew'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SHELLS = ['/bin/sh', findZsh() ?? 'zsh'];
let shell = '/bin/sh';

function run(line: ShellLine, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(shell, ['-c', line.__shell], {
      cwd: dir,
      env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, HOME: join(dir, 'home'), FLEET_ROOT: join(dir, 'root'), STUB_LOG: join(dir, 'argv.log'), STUB_DIR: dir },
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin ?? '');
  });
}

async function takeCalls(): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(join(dir, 'argv.log'), 'utf8');
  } catch {
    return [];
  }
  await rm(join(dir, 'argv.log'), { force: true });
  return text.split('\x1e').filter((r) => r !== '').map((r) => r.split('\0').slice(0, -1));
}

async function markerExists(): Promise<boolean> {
  try {
    await stat(marker);
    return true;
  } catch {
    return false;
  }
}

const hostile = (): string[] => hostileValues(marker);
/** Values a command would read as an option, or as no name: builders refuse them. */
const optionLike = (v: string): boolean => v.startsWith('-') || v === '';

describe.each(SHELLS)('under %s', (sh) => {
  beforeAll(() => {
    shell = sh;
  });

  describe('the detector', () => {
    it('sees an unquoted value execute (so the checks below can fail)', async () => {
      await run({ __shell: `launchctl bootout gui/501/$(touch ${marker})` });
      expect(await markerExists()).toBe(true);
      await rm(marker);
      await takeCalls();
    });
  });

  describe('set-hostname', () => {
    it('passes each hostile name to scutil as one argument and runs nothing else', async () => {
      for (const value of hostile()) {
        const step: StepOf<'set-hostname'> = { kind: 'set-hostname', id: 'n/set-hostname', node: 'n', why: '', after: [], computer_name: value, host_name: value, local_host_name: value };
        if (optionLike(value)) {
          expect(() => hostnameCommands(step)).toThrow(/would read it as an option|would read it as no name/);
          continue;
        }
        for (const cmd of hostnameCommands(step)) {
          const r = await run(cmd.line);
          expect(r.code).toBe(0);
        }
        const calls = await takeCalls();
        expect(calls.filter((c) => c[0] === 'scutil').map((c) => c.slice(1))).toEqual([
          ['--set', 'ComputerName', value], ['--set', 'HostName', value], ['--set', 'LocalHostName', value],
        ]);
        expect(calls.filter((c) => c[0] === 'sudo').every((c) => c[1] === '-n')).toBe(true);
        expect(await markerExists()).toBe(false);
      }
    });

    it('manual instructions quote the names for a person to paste', () => {
      const step: StepOf<'set-hostname'> = { kind: 'set-hostname', id: 'n/set-hostname', node: 'n', why: '', after: [], computer_name: "Bob's Mac", host_name: 'bob', local_host_name: 'bob' };
      expect(hostnameManualInstructions(step, 'bob')).toContain(`sudo scutil --set ComputerName 'Bob'\\''s Mac'`);
    });
  });

  describe('brew', () => {
    it('calls brew by its absolute path under FLEET_ROOT with the package name as one argument', async () => {
      for (const value of hostile()) {
        const install: StepOf<'install-package'> = { kind: 'install-package', id: 'x', node: 'n', why: '', after: [], package: 'cask', name: value };
        const uninstall: StepOf<'uninstall-package'> = { kind: 'uninstall-package', id: 'y', node: 'n', why: '', after: [], package: 'formula', name: value };
        if (optionLike(value)) {
          expect(() => packageInstallCommand('/opt/homebrew', install)).toThrow(/would read it as an option|would read it as no name/);
          expect(() => packageUninstallCommand('/opt/homebrew', uninstall)).toThrow(/would read it as an option|would read it as no name/);
          continue;
        }
        expect((await run(packageInstallCommand('/opt/homebrew', install))).code).toBe(0);
        expect((await run(packageUninstallCommand('/opt/homebrew', uninstall))).code).toBe(0);
        expect(await takeCalls()).toEqual([['brew', 'install', '--cask', value], ['brew', 'uninstall', value]]);
        expect(await markerExists()).toBe(false);
      }
    });
  });

  describe('launchctl', () => {
    it('keeps labels and plist paths intact', async () => {
      for (const value of hostile()) {
        await run(bootstrapCommand(501, `/tmp/${value}.plist`));
        await run(bootoutCommand(501, value));
        await run(kickstartCommand(501, value, true));
        expect(await takeCalls()).toEqual([
          ['launchctl', 'bootstrap', 'gui/501', `/tmp/${value}.plist`],
          ['launchctl', 'bootout', `gui/501/${value}`],
          ['launchctl', 'kickstart', '-k', `gui/501/${value}`],
        ]);
        expect(await markerExists()).toBe(false);
      }
    });
  });

  describe('files', () => {
    it('writes hostile content to hostile paths byte for byte, atomically, with the mode', async () => {
      let i = 0;
      for (const value of hostile()) {
        const path = join(dir, 'files', `${i++}-${value.replace(/\//g, '_')}`, `f ${value.replace(/\//g, '_')}.txt`);
        const content = `${value}\n$(touch ${marker})\n\`touch ${marker}\`\n`;
        const cmd = writeFileCommand({ path, mode: 0o640 }, content, 'r4nd');
        const r = await run(cmd.line, cmd.stdin);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(await readFile(path, 'utf8')).toBe(content);
        expect((await stat(path)).mode & 0o777).toBe(0o640);
        expect((await readdir(join(path, '..'))).filter((f) => f.includes('.tmp.'))).toEqual([]);
        expect(await markerExists()).toBe(false);
      }
    });

    it('keeps the old file when stdin was cut short (a killed apply)', async () => {
      const path = join(dir, 'files', 'cut.txt');
      await mkdir(join(dir, 'files'), { recursive: true });
      await writeFile(path, 'old\n');
      const cmd = writeFileCommand({ path, mode: 0o644 }, 'new content that never fully arrives\n', 'cut1');
      const r = await run(cmd.line, 'new content');
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(/incomplete write/);
      expect(await readFile(path, 'utf8')).toBe('old\n');
      expect((await readdir(join(dir, 'files'))).filter((f) => f.startsWith('cut.txt.tmp'))).toEqual([]);
    });

    it('removes stale temporaries of an earlier killed run', async () => {
      const path = join(dir, 'files', 'stale.txt');
      await writeFile(`${path}.tmp.dead`, 'half');
      const cmd = writeFileCommand({ path, mode: 0o644 }, 'whole\n', 'live');
      expect((await run(cmd.line, cmd.stdin)).code).toBe(0);
      expect((await readdir(join(dir, 'files'))).filter((f) => f.startsWith('stale.txt.tmp'))).toEqual([]);
    });

    it('does not install a plist plutil rejects', async () => {
      const path = join(dir, 'files', 'bad.plist');
      await writeFile(join(dir, 'bin', 'plutil'), '#!/bin/sh\necho "$2: Value missing for key inside <dict> at line 24"\nexit 1\n');
      try {
        const cmd = writeFileCommand({ path, mode: 0o644 }, '<plist><dict><key>x</key></dict></plist>\n', 'pl', { plist: true });
        const r = await run(cmd.line, cmd.stdin);
        expect(r.code).toBe(65);
        await expect(stat(path)).rejects.toThrow();
      } finally {
        await writeFile(join(dir, 'bin', 'plutil'), '#!/bin/sh\nexit 0\n');
      }
    });

    it('makes hostile directories under $HOME and absolute ones', async () => {
      const paths = hostile().filter((v) => v !== '').map((v) => `~/${v.replace(/\//g, '_')}`);
      const r = await run(makeDirsCommand([...paths, join(dir, 'abs dir $(x)')]));
      expect(r.code).toBe(0);
      const made = await readdir(join(dir, 'home'));
      expect(made.sort()).toEqual(paths.map((p) => p.slice(2)).sort());
      expect(await markerExists()).toBe(false);
    });

    it('nodePath expands ~ but nothing inside the name', async () => {
      const r = await run({ __shell: `printf '%s' ${nodePath(`~/$(touch ${marker})`).__shell}` });
      expect(r.stdout).toBe(`${join(dir, 'home')}/$(touch ${marker})`);
      expect(await markerExists()).toBe(false);
    });

    it('property: any text survives as one argument', async () => {
      await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')), async (value) => {
        const r = await run(bootoutCommand(501, value));
        expect(r.code).toBe(0);
        expect(await takeCalls()).toEqual([['launchctl', 'bootout', `gui/501/${value}`]]);
        expect(await markerExists()).toBe(false);
      }), { numRuns: 25 });
    });
  });

  describe('crontab', () => {
    it('installs the whole table, hostile lines verbatim, from the command line', async () => {
      const lines = [...hostile().filter((v) => !v.includes('\n')), '* * * * * bash ~/.symphony/heartbeat.sh'];
      const r = await run(writeCrontabCommand(lines));
      expect(r.code).toBe(0);
      expect(await readFile(join(dir, 'crontab.stdin'), 'utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
      expect(parseCrontab(await readFile(join(dir, 'crontab.stdin'), 'utf8'), 0)).toEqual(lines);
      await takeCalls();
      expect(await markerExists()).toBe(false);
    });

    it('an empty table is an empty stdin', async () => {
      expect((await run(writeCrontabCommand([]))).code).toBe(0);
      expect(await readFile(join(dir, 'crontab.stdin'), 'utf8')).toBe('');
      await takeCalls();
    });
  });
});
