// Where the fleet repository is when `fleet` runs from a directory inside it:
// like git, look in the working directory and then up through its parents
// for the checkout's root (here: the directory holding fleet/fleet.yaml),
// stopping at the repository's top (.git) or the filesystem's root. The
// defaults of --fleet, --out and the snapshot follow it; paths a person
// gives are taken as given.
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** The directory holding fleet/fleet.yaml at or above `cwd`, or null. */
export function findFleetRoot(cwd: string): string | null {
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'fleet', 'fleet.yaml'))) return dir;
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) return null;
  }
}

/** `name` under the checkout's root, relative to `cwd` ("fleet", "../fleet", ...); `name` itself when there is no root above. */
export function defaultRepoPath(name: 'fleet' | 'generated', cwd: string = process.cwd()): string {
  if (existsSync(join(cwd, name))) return name;
  const root = findFleetRoot(cwd);
  return root === null ? name : relative(cwd, join(root, name)) || name;
}

export function defaultFleetDir(): string {
  return defaultRepoPath('fleet');
}

export function defaultGeneratedDir(): string {
  return defaultRepoPath('generated');
}

/** generated/observed.json under the checkout's root. */
export function defaultSnapshotPath(): string {
  return join(defaultGeneratedDir(), 'observed.json');
}
