// JSON as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029
// escaped inside strings, float32 numbers in their shortest float32 form.

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
    // Go's exponent form has at least two exponent digits: 1e-07.
    const [mantissa, exp = '0'] = Number(text).toExponential().split('e');
    const sign = exp.startsWith('-') ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return text;
}
