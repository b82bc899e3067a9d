// JSON as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029
// escaped inside strings, float32 numbers in their shortest float32 form;
// and `%q` quoting, which many of Ollama's error messages use.

export function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** strconv.AppendFloat(f, 'f' or 'e', -1, 32): the shortest text that reads back as the same float32. */
export function formatFloat32(value: number): string {
  const f = Math.fround(value);
  if (f === 0) return '0';
  let text = String(f);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) {
      text = String(candidate);
      break;
    }
  }
  const abs = Math.abs(f);
  if (abs < 1e-6 || abs >= 1e21) {
    // encoding/json writes the exponent unpadded (`1e-7`, not strconv's `1e-07`).
    const [mantissa, exp = '0'] = Number(text).toExponential().split('e');
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exp.replace(/^[+-]/, '')}`;
  }
  return text;
}

/** strconv.Quote, what `%q` prints: Go escapes, printable Unicode kept as is. */
export function goQuote(text: string): string {
  const short: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const esc = short[ch];
    if (esc !== undefined) out += esc;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if ((code >= 0x80 && code < 0xa0) || code === 0xad) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
