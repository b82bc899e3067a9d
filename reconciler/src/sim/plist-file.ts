// Reading plists as launchd and plutil do, with the `plist` package, plus the
// one check it skips: a <key> with no value ("Value missing for key inside <dict>").
import { parse, parseBinary, type PlistValue } from 'plist';

export type { PlistValue };

export interface PlistParseResult {
  ok: boolean;
  value?: PlistValue;
  /** plutil-style reason, without the file name. */
  error?: string;
}

export function parsePlistBytes(bytes: Buffer): PlistParseResult {
  if (bytes.subarray(0, 6).toString('latin1') === 'bplist') {
    try {
      return { ok: true, value: parseBinary(bytes) };
    } catch (err) {
      return { ok: false, error: `Unexpected character b at line 1 (${(err as Error).message})` };
    }
  }
  return parsePlistText(bytes.toString('utf8'));
}

export function parsePlistText(text: string): PlistParseResult {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const rest = lines.slice(i).join('\n');
    if (/^\s*<key>[^<]*<\/key>\s*<\/dict>/.test(rest) && /<key>/.test(lines[i] ?? '')) {
      return { ok: false, error: `Value missing for key inside <dict> at line ${i + 1}` };
    }
  }
  // the parser reports malformed XML through console.error as well as by throwing
  const consoleError = console.error;
  console.error = () => undefined;
  try {
    const value = parse(text);
    return { ok: true, value };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? 'parse error';
    return { ok: false, error: `Encountered unexpected element at line ${lineOf(message, lines.length)} (plist can only include one object): ${message}` };
  } finally {
    console.error = consoleError;
  }
}

function lineOf(message: string, fallback: number): number {
  const m = /line:(\d+)/.exec(message);
  return m?.[1] ? Number(m[1]) : fallback;
}

export function isDict(value: PlistValue | undefined): value is Record<string, PlistValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** plutil -convert json output: compact JSON; dates as ISO strings, data as base64. */
export function plistToJson(value: PlistValue): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

/** plutil -p style rendering. */
export function renderPlistPretty(value: PlistValue, indent = ''): string {
  const next = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[\n' + `${indent}]`;
    return `[\n${value.map((v, i) => `${next}${i} => ${renderPlistPretty(v, next)}`).join('\n')}\n${indent}]`;
  }
  if (isDict(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return `{\n${indent}}`;
    return `{\n${keys.map((k) => `${next}"${k}" => ${renderPlistPretty(value[k] as PlistValue, next)}`).join('\n')}\n${indent}}`;
  }
  if (typeof value === 'string') return `"${value}"`;
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000');
  if (value instanceof Uint8Array) return `{length = ${value.length}, bytes = 0x${Buffer.from(value).toString('hex').slice(0, 40)}}`;
  return String(value);
}
