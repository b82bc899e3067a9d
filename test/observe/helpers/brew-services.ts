// `brew services list` as Homebrew prints it. The probe no longer runs it
// (it reads launchd, see brewServiceStatus); tests use this to check that the
// simulator's brew and the probe's launchd reading agree.
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
