// How gin's ShouldBindJSON (a json.Decoder reading one value) sees a request
// body: io.EOF for an empty body, io.ErrUnexpectedEOF for a cut one, and the
// scanner's "invalid character ..." texts for broken JSON. Only the first
// value is read; bytes after it are ignored, as the Decoder does.
// Byte-wise, like encoding/json/scanner.go, so the quoted character matches.

export type ScanResult =
  | { kind: 'value'; value: unknown }
  | { kind: 'eof' }
  | { kind: 'error'; message: string };

/** quoteChar: `'x'`, `'\''`, `'"'`, and strconv.Quote's escapes for the rest. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  const esc = named[c];
  if (esc !== undefined) return `'${esc}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  // A byte above 0x7f is printed as the rune of that value (Latin-1), as string(byte) does.
  if (c >= 0x80 && c < 0xa0) return `'\\u${c.toString(16).padStart(4, '0')}'`;
  if (c === 0xad) return `'\\u00ad'`;
  return `'${String.fromCharCode(c)}'`;
}

class SyntaxError extends Error {}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Thrown when the input ends inside the value. */
class Truncated extends Error {}

class Scanner {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  private peek(): number {
    if (this.pos >= this.buf.length) throw new Truncated();
    return this.buf[this.pos] as number;
  }

  private fail(c: number, context: string): never {
    throw new SyntaxError(`invalid character ${quoteChar(c)} ${context}`);
  }

  private skipSpace(): void {
    while (this.pos < this.buf.length && isSpace(this.buf[this.pos] as number)) this.pos++;
  }

  /** Returns the end offset of the first value, or 'eof' when there is none. */
  scanTop(): { start: number; end: number } | 'eof' {
    this.skipSpace();
    if (this.pos >= this.buf.length) return 'eof';
    const start = this.pos;
    const c = this.peek();
    if (isDigit(c) || c === 0x2d) {
      // A top-level number ends at the first byte that cannot continue it, or at the end of input.
      this.number(true);
    } else this.value();
    return { start, end: this.pos };
  }

  private value(): void {
    this.skipSpace();
    const c = this.peek();
    switch (c) {
      case 0x7b: return this.object();
      case 0x5b: return this.array();
      case 0x22: return this.string();
      case 0x74: return this.literal('true');
      case 0x66: return this.literal('false');
      case 0x6e: return this.literal('null');
      default:
        if (c === 0x2d || isDigit(c)) return this.number(false);
        this.fail(c, 'looking for beginning of value');
    }
  }

  private object(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      const k = this.peek();
      if (k !== 0x22) this.fail(k, 'looking for beginning of object key string');
      this.string();
      this.skipSpace();
      const colon = this.peek();
      if (colon !== 0x3a) this.fail(colon, 'after object key');
      this.pos++;
      this.value();
      this.skipSpace();
      const next = this.peek();
      this.pos++;
      if (next === 0x7d) return;
      if (next !== 0x2c) this.fail(next, 'after object key:value pair');
    }
  }

  private array(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const next = this.peek();
      this.pos++;
      if (next === 0x5d) return;
      if (next !== 0x2c) this.fail(next, 'after array element');
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const c = this.peek();
      this.pos++;
      if (c === 0x22) return;
      if (c === 0x5c) {
        const e = this.peek();
        this.pos++;
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            const h = this.peek();
            if (!isHex(h)) this.fail(h, 'in \\u hexadecimal character escape');
            this.pos++;
          }
        } else if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) this.fail(e, 'in string escape code');
      } else if (c < 0x20) this.fail(c, 'in string literal');
    }
  }

  private literal(word: string): void {
    this.pos++;
    for (let i = 1; i < word.length; i++) {
      const c = this.peek();
      const want = word[i] ?? '';
      if (c !== want.charCodeAt(0)) this.fail(c, `in literal ${word} (expecting '${want}')`);
      this.pos++;
    }
  }

  /** A number; at top level the end of input also ends it. */
  private number(top: boolean): void {
    const more = (): boolean => this.pos < this.buf.length || !top;
    if (this.peek() === 0x2d) {
      this.pos++;
      const c = this.peek();
      if (!isDigit(c)) this.fail(c, 'in numeric literal');
    }
    if (this.peek() === 0x30) this.pos++;
    else while (more() && isDigit(this.peek())) this.pos++;
    if (more() && this.peek() === 0x2e) {
      this.pos++;
      const c = this.peek();
      if (!isDigit(c)) this.fail(c, 'after decimal point in numeric literal');
      while (more() && isDigit(this.peek())) this.pos++;
    }
    if (more() && (this.peek() === 0x65 || this.peek() === 0x45)) {
      this.pos++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.pos++;
      const c = this.peek();
      if (!isDigit(c)) this.fail(c, 'in exponent of numeric literal');
      while (more() && isDigit(this.peek())) this.pos++;
    }
  }
}

/** The first JSON value of `body`, as json.Decoder.Decode finds it. */
export function scanFirstValue(body: Buffer): ScanResult {
  const scanner = new Scanner(body);
  try {
    const span = scanner.scanTop();
    if (span === 'eof') return { kind: 'eof' };
    return { kind: 'value', value: JSON.parse(body.subarray(span.start, span.end).toString('utf8')) as unknown };
  } catch (err) {
    if (err instanceof Truncated) return { kind: 'error', message: 'unexpected EOF' };
    if (err instanceof SyntaxError) return { kind: 'error', message: err.message };
    throw err;
  }
}
