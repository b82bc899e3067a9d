// The files Homebrew leaves on a Mac, written directly for the 'provisioned'
// preset (fast: no process per node). They mirror what macos/homebrew/install.sh
// and `brew install` create; test/sim/homebrew.test.ts checks that both ways
// give the same `brew list` and `brew services list`.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HOMEBREW_DIR } from './layout.ts';

export interface FormulaInfo {
  name: string;
  version: string;
  service: boolean;
}

export interface CaskInfo {
  name: string;
  version: string;
  app: string;
  needsSudo: boolean;
}

export function readFormulae(ollamaVersion: string): FormulaInfo[] {
  return readFileSync(join(HOMEBREW_DIR, 'formulae.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [name = '', version = '', service = ''] = l.trim().split(/\s+/);
      return { name, version: name === 'ollama' ? ollamaVersion : version, service: service === 'yes' };
    });
}

export function readCasks(): CaskInfo[] {
  return readFileSync(join(HOMEBREW_DIR, 'casks.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [name = '', version = '', app = '', sudo = ''] = l.split('|');
      return { name, version, app, needsSudo: sudo.trim() === 'yes' };
    });
}

function link(target: string, path: string): void {
  rmSync(path, { force: true });
  symlinkSync(target, path);
}

/** What the installer creates under FLEET_ROOT. */
export function writeHomebrew(root: string, prefix: string): void {
  const base = join(root, prefix);
  for (const d of ['bin', 'etc', 'include', 'lib', 'sbin', 'share', 'var/log', 'opt', 'Cellar', 'Caskroom', 'Frameworks']) {
    mkdirSync(join(base, d), { recursive: true });
  }
  mkdirSync(join(root, 'Applications'), { recursive: true });
  link(join(HOMEBREW_DIR, 'brew'), join(base, 'bin', 'brew'));
}

/** What `brew install NAME` creates for a formula. */
export function writeFormula(root: string, prefix: string, formula: FormulaInfo, ollamaCliPath: string): void {
  const base = join(root, prefix);
  const keg = join(base, 'Cellar', formula.name, formula.version);
  mkdirSync(join(keg, 'bin'), { recursive: true });
  mkdirSync(join(base, 'opt'), { recursive: true });
  mkdirSync(join(base, 'bin'), { recursive: true });
  const bin = join(keg, 'bin', formula.name);
  if (formula.name === 'ollama') link(ollamaCliPath, bin);
  else {
    writeFileSync(bin, `#!/bin/sh\necho "${formula.name} ${formula.version}"\n`);
    chmodSync(bin, 0o755);
  }
  link(`../Cellar/${formula.name}/${formula.version}`, join(base, 'opt', formula.name));
  link(`../Cellar/${formula.name}/${formula.version}/bin/${formula.name}`, join(base, 'bin', formula.name));
}

/** What `brew install --cask NAME` creates. */
export function writeCask(root: string, prefix: string, cask: CaskInfo): void {
  const app = join(root, 'Applications', cask.app);
  mkdirSync(join(app, 'Contents', 'MacOS'), { recursive: true });
  mkdirSync(join(root, prefix, 'Caskroom', cask.name, cask.version), { recursive: true });
  const short = cask.version.split(',')[0] ?? cask.version;
  writeFileSync(join(app, 'Contents', 'Info.plist'), `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n\t<key>CFBundleShortVersionString</key>\n\t<string>${short}</string>\n</dict>\n</plist>\n`);
}
