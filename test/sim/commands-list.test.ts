// The simulated Mac's userland is exactly the contract of shell/commands.ts:
// every system utility at its macOS path, a stand-in only for a listed
// utility, and BSD getopt's refusal for options macOS does not have.
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAC_UTILITIES, macPath, type MacUtility } from '../../reconciler/src/shell/commands.ts';
import { HOMEBREW_DIR, STANDINS_DIR } from '../../reconciler/src/sim/layout.ts';
import { ensureMacUserland, MAC_EXTRA_UTILITIES, MAC_PATH_DIRS } from '../../reconciler/src/sim/mac-userland.ts';
import { OLLAMA_CLI_PATH } from '../../reconciler/src/sim/ollama/index.ts';
import { run } from './fleet-fixture.ts';

const utilities = MAC_UTILITIES as readonly MacUtility[];
const stateDir = mkdtempSync(join(tmpdir(), 'userland-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function listed(dir: string): string[] {
  const out: string[] = [];
  for (const d of MAC_PATH_DIRS) for (const f of readdirSync(join(dir, d))) out.push(`${d}/${f}`);
  return out.sort();
}

describe('the simulated userland and the contract', () => {
  it('holds every system utility of the contract at its macOS path, and otherwise only what a Mac has', () => {
    const dir = ensureMacUserland(stateDir);
    const system = utilities.filter((u) => u.provider === 'system').map((u) => u.path);
    const have = listed(dir);
    for (const path of system) expect(have).toContain(path);
    const extras = new Set(MAC_EXTRA_UTILITIES.map((x) => x.path));
    for (const path of have) expect({ path, known: system.includes(path) || extras.has(path) }).toEqual({ path, known: true });
  });

  it('leaves out what could open a connection of its own', () => {
    const have = listed(ensureMacUserland(stateDir)).map((p) => p.slice(p.lastIndexOf('/') + 1));
    for (const name of ['scp', 'git', 'nc', 'python3', 'perl', 'wget']) expect(have).not.toContain(name);
    // ssh is there for LAN model copies, as the simulator's stand-in: loopback destinations only, from the node's own address.
    expect(readlinkSync(join(ensureMacUserland(stateDir), 'usr/bin/ssh'))).toBe(join(STANDINS_DIR, 'ssh'));
  });

  it('has a stand-in only for a utility a Mac has, linked where macOS keeps it', () => {
    const dir = ensureMacUserland(stateDir);
    const paths = new Map([...utilities.map((u) => [u.name, u.path] as const), ...MAC_EXTRA_UTILITIES.map((x) => [x.name, x.path] as const)]);
    for (const f of readdirSync(STANDINS_DIR)) {
      const path = paths.get(f);
      expect({ standIn: f, known: path !== undefined }).toEqual({ standIn: f, known: true });
      expect(readlinkSync(join(dir, path ?? ''))).toBe(join(STANDINS_DIR, f));
    }
  });

  it('provides the Homebrew utilities through the simulated Homebrew', () => {
    const homebrew = utilities.filter((u) => u.provider === 'homebrew').map((u) => u.name).sort();
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

  it('every entry names its options with what the man page says, and where that was read', () => {
    for (const u of utilities) {
      expect(u.source, u.name).not.toBe('');
      expect(u.synopsis, u.name).not.toBe('');
      for (const [name, opt] of Object.entries(u.options)) {
        expect(name, u.name).toMatch(/^-{1,2}[A-Za-z0-9][A-Za-z0-9-]*$/);
        expect(opt.man.length, `${u.name} ${name}`).toBeGreaterThan(3);
      }
      if (u.getopt !== undefined) {
        for (const name of Object.keys(u.options).filter((n) => /^-[A-Za-z0-9]$/.test(n))) {
          expect(u.getopt, `${u.name}: ${name} is used, so macOS's getopt string must have it`).toContain(name.slice(1));
        }
      }
    }
  });

  it('writes Mac paths so FLEET_ROOT can move them and nothing else can get in', () => {
    expect(macPath('/opt/homebrew/bin/brew').__shell).toBe(`"\${FLEET_ROOT-}"'/opt/homebrew/bin/brew'`);
    expect(() => macPath("/tmp/x'; rm -rf /")).toThrow(/not a plain absolute path/);
  });
});

describe('the seam between a Mac and the simulator', () => {
  it('is spelled in one place: FLEET_ROOT appears in no product file but shell/commands.ts (and the simulator)', async () => {
    const { readdirSync: list, readFileSync: read, statSync } = await import('node:fs');
    const src = new URL('../../reconciler/src/', import.meta.url).pathname;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const f of list(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) { if (f !== 'sim') walk(p); continue; }
        if (p.endsWith('.ts') && !p.endsWith('shell/commands.ts') && read(p, 'utf8').includes('FLEET_ROOT')) offenders.push(p.slice(src.length));
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
