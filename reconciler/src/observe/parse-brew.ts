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
 * `brew services list` as JSON (`--json`: `[{name, status, ...}]`) or as the
 * table (`Name Status User File`).
 */
export function parseBrewServices(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = stdout.trim();
  if (text.startsWith('[')) {
    try {
      const rows: unknown = JSON.parse(text);
      if (Array.isArray(rows)) {
        for (const row of rows as unknown[]) {
          if (row && typeof row === 'object') {
            const { name, status } = row as { name?: unknown; status?: unknown };
            if (typeof name === 'string') out[name] = typeof status === 'string' ? status : 'unknown';
          }
        }
      }
      return out;
    } catch {
      return out;
    }
  }
  for (const line of text.split(/\r?\n/)) {
    const [name, status] = line.trim().split(/\s+/);
    if (!name || !status || name === 'Name') continue;
    if (!/^[A-Za-z0-9@._+-]+$/.test(name)) continue;
    out[name] = status;
  }
  return out;
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
