// Text the way Ollama's Go code prints it: time.Time in JSON (RFC 3339 with
// nanoseconds and the local offset), format.HumanBytes, format.HumanNumber and
// time.ParseDuration. Kept apart so the HTTP face and the tests agree on them.

/**
 * Go's `time.Time` JSON form: RFC 3339, fractional seconds without trailing zeros, the local offset
 * (or `Z`; always `Z` with `utc`, as for `time.Now().UTC()`). `nanos` adds sub-millisecond precision.
 */
export function formatGoTime(date: Date, options: { nanos?: number; utc?: boolean } = {}): string {
  const extraNanos = options.nanos ?? 0;
  const offsetMin = options.utc ? 0 : -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offsetMin * 60_000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const nanos = local.getUTCMilliseconds() * 1_000_000 + extraNanos;
  const frac = nanos === 0 ? '' : `.${pad(nanos, 9).replace(/0+$/, '')}`;
  const zone = offsetMin === 0 ? 'Z' : `${offsetMin > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${frac}${zone}`;
}

/** format.HumanBytes: decimal units; one decimal below 10 unless whole, truncated integer from 10. */
export function formatHumanBytes(bytes: number): string {
  const units: Array<[number, string]> = [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'KB']];
  for (const [scale, unit] of units) {
    if (bytes >= scale) {
      const value = bytes / scale;
      if (value >= 10) return `${Math.trunc(value)} ${unit}`;
      return value === Math.trunc(value) ? `${value} ${unit}` : `${value.toFixed(1)} ${unit}`;
    }
  }
  return `${Math.trunc(bytes)} B`;
}

/** The `parameter_size` Ollama stores for a model: `8.0B`, `70.6B`, `137M`. */
export function formatParameterSize(parametersBillions: number): string {
  if (parametersBillions >= 1) return `${parametersBillions.toFixed(1)}B`;
  return `${Math.round(parametersBillions * 1000)}M`;
}

/** format.HumanNumber: `8.0B`, `70B`, `136.73M`, `4K`. */
export function humanNumber(n: number): string {
  if (n >= 1e9) {
    const v = n / 1e9;
    return v === Math.floor(v) ? `${v}B` : `${v.toFixed(1)}B`;
  }
  if (n >= 1e6) {
    const v = n / 1e6;
    return v === Math.floor(v) ? `${v}M` : `${v.toFixed(2)}M`;
  }
  if (n >= 1e3) return `${Math.round(n / 1e3)}K`;
  return String(n);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration in milliseconds; undefined when Go would reject the text. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^([+-]?)(.+)$/.exec(text);
  if (!m || text === '') return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2] ?? '';
  if (body === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let hit = part.exec(body); hit; hit = part.exec(body)) {
    total += Number(hit[1]) * (DURATION_UNITS[hit[2] ?? ''] ?? Number.NaN);
    consumed = part.lastIndex;
  }
  if (consumed !== body.length || Number.isNaN(total)) return undefined;
  return sign * total;
}

/** format.humanDuration for a span in seconds. */
function formatHumanDuration(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  // math.Round: halves away from zero (spans here are positive).
  const hours = Math.floor(seconds / 3600 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(seconds / 3600) / 24 / 365)} years`;
}

/** format.HumanTime: `2 days ago`, `4 minutes from now`, `Forever` (more than 20 years ahead). */
export function formatHumanTime(when: Date, now: Date): string {
  const delta = (now.getTime() - when.getTime()) / 1000;
  if (Math.trunc(Math.trunc(Math.trunc(delta / 3600) / 24) / 365) < -20) return 'Forever';
  if (delta < 0) return `${formatHumanDuration(-delta)} from now`;
  return `${formatHumanDuration(delta)} ago`;
}
