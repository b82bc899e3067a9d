// Pure parsers for the macOS system commands of the probe (names, OS,
// hardware, disk, network, root). Each takes what the command printed and its
// exit status, and returns null for "not known" rather than guessing: exit 0
// alone is never taken as an answer.

/** `scutil --get <Name>`: the value, or null when unset (exit 1, `<Name>: not set` on stderr). */
export function parseScutilName(stdout: string, code: number | null): string | null {
  if (code !== 0) return null;
  const value = stdout.replace(/\r?\n$/, '').trim();
  return value === '' ? null : value;
}

export interface SwVers {
  product_name: string | null;
  product_version: string | null;
  /** Rapid Security Response suffix, e.g. `(a)`. */
  product_version_extra: string | null;
  build_version: string | null;
}

/** `sw_vers`: `Key:<one or two tabs>value` lines; split on the first colon and trim. */
export function parseSwVers(stdout: string): SwVers {
  const values = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    values.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const get = (k: string): string | null => {
    const v = values.get(k);
    return v === undefined || v === '' ? null : v;
  };
  return {
    product_name: get('ProductName'),
    product_version: get('ProductVersion'),
    product_version_extra: get('ProductVersionExtra'),
    build_version: get('BuildVersion'),
  };
}

/** `uname -m`: `arm64` or `x86_64` (x86_64 also under Rosetta). */
export function parseUname(stdout: string, code: number | null): string | null {
  if (code !== 0) return null;
  const v = stdout.trim();
  return /^[A-Za-z0-9_]+$/.test(v) ? v : null;
}

/**
 * `sysctl -n hw.optional.arm64`: `1` on Apple Silicon (also under Rosetta).
 * Intel prints `unknown oid` on stderr and exits 1, or prints `0`.
 */
export function parseArm64Capable(stdout: string, code: number | null): boolean | null {
  if (code === null) return null;
  if (code !== 0) return false;
  const v = stdout.trim();
  if (v === '1') return true;
  if (v === '0') return false;
  return null;
}

/**
 * `sysctl -n a b c`: one value per line, in order. When the line count does
 * not match (an unknown name broke the call) no value is trusted.
 */
export function parseSysctlValues<const K extends string>(stdout: string, code: number | null, names: readonly K[]): Record<K, string | null> {
  const lines = stdout.replace(/\r?\n$/, '').split(/\r?\n/);
  const aligned = code === 0 && lines.length === names.length;
  const out = {} as Record<K, string | null>;
  names.forEach((name, i) => {
    const v = aligned ? (lines[i] ?? '').trim() : '';
    out[name] = v === '' ? null : v;
  });
  return out;
}

export function parseInteger(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

export interface DiskUsage {
  filesystem: string;
  total_bytes: number;
  used_bytes: number;
  available_bytes: number;
  mounted_on: string;
}

/**
 * `df -Pk DIR`: POSIX format in 1024-byte blocks. Columns are aligned with
 * spaces and both the filesystem and the mount point may contain spaces, so
 * the line is anchored on its four numeric columns.
 */
export function parseDfPk(stdout: string): DiskUsage | null {
  for (const line of stdout.split(/\r?\n/)) {
    if (/^Filesystem\s/.test(line)) continue;
    const m = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(.+)$/.exec(line.trimEnd());
    if (!m) continue;
    return {
      filesystem: m[1] ?? '',
      total_bytes: Number(m[2]) * 1024,
      used_bytes: Number(m[3]) * 1024,
      available_bytes: Number(m[4]) * 1024,
      mounted_on: m[6] ?? '',
    };
  }
  return null;
}

/** `du -sk DIR`: kilobytes, tab, path. A missing directory is 0 bytes, not unknown. */
export function parseDuSk(stdout: string, code: number | null, stderr = ''): number | null {
  const m = /^\s*(\d+)\s/.exec(stdout);
  if (m && code === 0) return Number(m[1]) * 1024;
  if (/no such file/i.test(stderr)) return 0;
  return null;
}

/** `wc -c FILE...`: sums the per-file lines (the `total` line is skipped). */
export function parseWcBytes(stdout: string): number {
  let sum = 0;
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^\s*(\d+)\s+(.+)$/.exec(line);
    if (!m || m[2] === 'total') continue;
    sum += Number(m[1]);
  }
  return sum;
}

/** `ipconfig getifaddr en0`: the IPv4 address; no address prints nothing and exits 1. */
export function parseIfAddr(stdout: string, code: number | null): string | null {
  if (code !== 0) return null;
  const v = stdout.trim();
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(v) ? v : null;
}

/** `sudo -n true`: exit 0 only when passwordless sudo works; a prompt is never allowed. */
export function parseSudo(code: number | null): boolean {
  return code === 0;
}

