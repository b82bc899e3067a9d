// Pure parsers for Homebrew's output.

/** Orders dotted versions numerically where they are numbers (`0.10.0` > `0.9.9`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[._-]/);
  const pb = b.split(/[._-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * `brew list --formula --versions` / `--cask --versions`: `name v1 [v2...]` per
 * line; with several versions installed the newest is reported.
 */
export function parseBrewListVersions(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split(/\r?\n/)) {
    const [name, ...versions] = line.trim().split(/\s+/);
    if (!name || !/^[A-Za-z0-9@._+/-]+$/.test(name) || name.startsWith('==>') || name === 'Warning:' || name === 'Error:') continue;
    const newest = versions.filter((v) => v !== '').sort(compareVersions).at(-1);
    out[name] = newest ?? '';
  }
  return out;
}

/**
 * What `brew services list` reports for a formula's service, derived the way
 * it derives it, from the launchd state of `homebrew.mxcl.<name>`: running ->
 * started; loaded, last exit non-zero -> error; loaded, exited 0 -> stopped;
 * not loaded -> none. null when launchctl's answer was unusable.
 */
export function brewServiceStatus(agent: { loaded: boolean; pid: number | null; last_exit: number | null } | null): string | null {
  if (agent === null) return null;
  if (!agent.loaded) return 'none';
  if (agent.pid !== null) return 'started';
  return agent.last_exit !== null && agent.last_exit !== 0 ? 'error' : 'stopped';
}

/**
 * `find PREFIX/Cellar PREFIX/Caskroom -mindepth 2 -maxdepth 2`: one line per
 * installed keg, `.../Cellar/<formula>/<version>` or `.../Caskroom/<cask>/<version>`,
 * which is what `brew list --versions` reports. Hidden entries (a cask's
 * `.metadata`) are not versions.
 */
export function parseBrewKegs(stdout: string): { formulae: Record<string, string>; casks: Record<string, string> } {
  const found = { formulae: new Map<string, string[]>(), casks: new Map<string, string[]>() };
  for (const line of stdout.split(/\r?\n/)) {
    const m = /\/(Cellar|Caskroom)\/([^/]+)\/([^/]+)\/?$/.exec(line.trim());
    if (!m) continue;
    const [, where, name = '', version = ''] = m;
    if (name.startsWith('.') || version.startsWith('.')) continue;
    const map = where === 'Cellar' ? found.formulae : found.casks;
    map.set(name, [...(map.get(name) ?? []), version]);
  }
  const newest = (m: Map<string, string[]>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const name of [...m.keys()].sort()) out[name] = [...(m.get(name) ?? [])].sort(compareVersions).at(-1) ?? '';
    return out;
  };
  return { formulae: newest(found.formulae), casks: newest(found.casks) };
}
