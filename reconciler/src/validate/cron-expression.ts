// A cron expression parsed with limits before node-cron ever sees it. node-cron
// expands ranges eagerly: "1-50000000 * * * *" would block the event loop for
// a minute and take 2.7 GB, and "99 99 99 99 99" throws when the daemon starts.
// Pure: text in, fields or a sentence saying what is wrong out.
//
// Accepted: 5 fields (minute hour day-of-month month day-of-week) or 6 with a
// leading seconds field that must be one number (a drift run at most once a
// minute). Each field is a comma list of `*`, `*/step`, `n`, `n-m` or
// `n-m/step` with numbers of at most two digits inside the field's bounds.
// Names (jan, mon), `?`, `L`, `W` and `#` are refused.

export interface CronField {
  name: string;
  min: number;
  max: number;
}

export const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7 },
];
const SECONDS: CronField = { name: 'second', min: 0, max: 59 };

export const CRON_MAX_LENGTH = 100;
const MAX_ITEMS = 60;

export interface ParsedCron {
  /** The values each field selects, in CRON_FIELDS order (seconds dropped). */
  fields: number[][];
  second: number | null;
  /** Fields written as a bare `*`. */
  wildcard: boolean[];
}

export type CronResult = { ok: true; cron: ParsedCron } | { ok: false; message: string };

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function parseNumber(text: string, field: CronField): number | string {
  if (!/^[0-9]{1,2}$/.test(text)) return `${JSON.stringify(text)} in the ${field.name} field is not a number from ${field.min} to ${field.max}`;
  const n = Number(text);
  if (n < field.min || n > field.max) return `${n} is outside the ${field.name} field's range ${field.min}-${field.max}`;
  return n;
}

function parseField(text: string, field: CronField): number[] | string {
  const items = text.split(',');
  if (items.length > MAX_ITEMS) return `the ${field.name} field lists ${items.length} items; at most ${MAX_ITEMS} are allowed`;
  const values = new Set<number>();
  for (const item of items) {
    const m = /^(\*|([0-9]+)(?:-([0-9]+))?)(?:\/([0-9]+))?$/.exec(item);
    if (!m) return `${JSON.stringify(item)} in the ${field.name} field is not *, a number, a range a-b, or one of those with /step`;
    let from = field.min;
    let to = field.max;
    if (m[1] !== '*') {
      const a = parseNumber(m[2] ?? '', field);
      if (typeof a === 'string') return a;
      from = a;
      to = a;
      if (m[3] !== undefined) {
        const b = parseNumber(m[3], field);
        if (typeof b === 'string') return b;
        if (b < a) return `the range ${a}-${b} in the ${field.name} field runs backwards; write ${b}-${a}`;
        to = b;
      } else if (m[4] !== undefined) {
        return `${JSON.stringify(item)} in the ${field.name} field: a step needs * or a range before it (e.g. */15 or 0-30/5)`;
      }
    }
    let step = 1;
    if (m[4] !== undefined) {
      if (!/^[0-9]{1,2}$/.test(m[4]) || Number(m[4]) < 1 || Number(m[4]) > field.max - field.min + 1) {
        return `the step /${m[4]} in the ${field.name} field must be a number from 1 to ${field.max - field.min + 1}`;
      }
      step = Number(m[4]);
    }
    for (let v = from; v <= to; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return [...values].sort((x, y) => x - y);
}

export interface CronOptions {
  /**
   * Lets the seconds field be a whole field (e.g. every second). Only Bob's
   * own --drift-cron and tests use it; a pull request cannot.
   */
  subMinute?: boolean;
}

/** Parses `expression` within the limits above; never expands more than 60 values per field. */
export function parseCron(expression: string, options: CronOptions = {}): CronResult {
  if (expression.length > CRON_MAX_LENGTH) return { ok: false, message: `it is ${expression.length} characters long; at most ${CRON_MAX_LENGTH} are allowed` };
  const parts = expression.trim().split(/ +/);
  if (parts.length !== 5 && parts.length !== 6) return { ok: false, message: `it has ${parts.length} fields; write 5 (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"` };
  let second: number | null = null;
  if (parts.length === 6) {
    const text = parts.shift() ?? '';
    if (options.subMinute === true) {
      const all = parseField(text, SECONDS);
      if (typeof all === 'string') return { ok: false, message: all };
      second = all[0] ?? 0;
    } else {
      const s = parseNumber(text, SECONDS);
      if (typeof s === 'string') return { ok: false, message: `${s}; the seconds field, when given, must be one number (a drift run at most once a minute)` };
      second = s;
    }
  }
  const fields: number[][] = [];
  for (const [i, field] of CRON_FIELDS.entries()) {
    const parsed = parseField(parts[i] ?? '', field);
    if (typeof parsed === 'string') return { ok: false, message: parsed };
    fields.push(parsed);
  }
  const wildcard = parts.map((p) => p === '*');
  const [, , days = [], months = []] = fields;
  // Only when the day of week does not also select days (either may match then).
  if (!wildcard[2] && wildcard[4] && !months.some((mo) => days.some((d) => d <= (DAYS_IN_MONTH[mo - 1] ?? 31)))) {
    return { ok: false, message: `day ${days.join(',')} never falls in month ${months.join(',')}, so it would never run` };
  }
  return { ok: true, cron: { fields, second, wildcard } };
}
