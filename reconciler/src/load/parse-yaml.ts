// Turns one fleet file's bytes into a JS value plus a way to find any value's
// line and column, or into problems a person can act on. Hostile input (alias
// bombs, binary, deep nesting, control characters) ends as a problem, never as
// a crash or a hang.
import { isUtf8 } from 'node:buffer';
import { isAlias, isMap, isPair, isScalar, isCollection, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { Document, Node as YamlNode, YAMLMap } from 'yaml';
import type { Problem } from '../validate/problem.ts';

export type PathSegment = string | number;

export interface Position {
  line: number;
  col: number;
}

export interface YamlSource {
  file: string;
  data: unknown;
  /**
   * Where the value at `path` starts. `at: 'key'` points at the key of the
   * last segment instead (for unknown or misspelt keys). Falls back to the
   * nearest ancestor that exists.
   */
  locate(path: readonly PathSegment[], at?: 'key' | 'value'): Position;
}

export interface ParseLimits {
  /** Files larger than this are refused unread. */
  maxBytes: number;
  /** Aliases expanded per file (alias bombs). */
  maxAliasCount: number;
  /** Nesting of maps and lists. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 128 * 1024, maxAliasCount: 100, maxDepth: 32 };

export interface ParseResult {
  source: YamlSource | null;
  problems: Problem[];
}

/** Bytes or text to text; null when the bytes are not UTF-8 (a binary file). */
export function decodeText(content: string | Uint8Array): string | null {
  if (typeof content === 'string') return content;
  // isUtf8 is a native check, much cheaper than a fatal TextDecoder per file.
  if (!isUtf8(content)) return null;
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
}

export function byteLength(content: string | Uint8Array): number {
  return typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;
}

function positionOf(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/**
 * Checks that apply to every text file in fleet/ (YAML or known_hosts):
 * size, encoding, BOM, line endings, control characters. Returns the text to
 * go on with (BOM stripped, LF endings) or null when it cannot be read.
 */
export function checkTextFile(file: string, content: string | Uint8Array, limits: ParseLimits): { text: string | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (pos: Position, rule: string, message: string): void => {
    problems.push({ file, line: pos.line, col: pos.col, severity: 'error', rule, message });
  };
  const size = byteLength(content);
  if (size > limits.maxBytes) {
    at({ line: 1, col: 1 }, 'file-too-large', `The file is ${size} bytes; fleet files may be at most ${limits.maxBytes} bytes. Split it or remove what does not belong in it.`);
    return { text: null, problems };
  }
  let text = decodeText(content);
  if (text === null || text.includes('\u0000')) {
    at({ line: 1, col: 1 }, 'binary-file', 'This is not a UTF-8 text file (invalid UTF-8 or NUL bytes). Fleet files are plain YAML text: replace it or remove it.');
    return { text: null, problems };
  }
  if (text.charCodeAt(0) === 0xfeff) {
    at({ line: 1, col: 1 }, 'bom', 'The file starts with a byte order mark (BOM). Save it as UTF-8 without BOM.');
    text = text.slice(1);
  }
  const cr = text.indexOf('\r');
  if (cr !== -1) {
    at(positionOf(text, cr), 'crlf', 'The file has CRLF (Windows) or CR line endings. Convert it to LF line endings (e.g. `dos2unix`, or your editor\'s line-ending setting).');
    text = text.replace(/\r\n?/g, '\n');
  }
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    at(positionOf(text, control.index), 'control-character', `The file contains the control character U+00${code.toUpperCase()}. Remove it; fleet files are plain text.`);
    return { text: null, problems };
  }
  return { text, problems };
}

function depthOf(value: unknown, max: number): number {
  // Iterative, so a hostile nesting cannot overflow the stack here.
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > deepest) deepest = d;
    if (deepest > max) return deepest;
    if (typeof v === 'object' && v !== null) {
      for (const child of Object.values(v)) stack.push([child, d + 1]);
    }
  }
  return deepest;
}

function findPair(map: YAMLMap, key: PathSegment): { key: unknown; value: unknown } | undefined {
  for (const item of map.items) {
    const k = item.key;
    const kv = isScalar(k) ? k.value : k;
    if (kv === key || String(kv) === String(key)) return item;
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range?.[0];
  }
  return undefined;
}

function makeLocator(doc: Document, lineCounter: LineCounter): YamlSource['locate'] {
  const posAt = (offset: number): Position => lineCounter.linePos(offset);
  const rootStart = rangeStart(doc.contents) ?? 0;
  return (path, at = 'value') => {
    // Walk down as far as the document goes. A path that stops early points
    // at the key (or list item) of the deepest part that exists.
    let node: unknown = doc.contents;
    let valueStart = rootStart;
    let anchor = rootStart;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as PathSegment;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = findPair(node, seg);
        if (!pair) return posAt(anchor);
        const keyStart = rangeStart(pair.key) ?? anchor;
        if (last && at === 'key') return posAt(keyStart);
        anchor = keyStart;
        valueStart = rangeStart(pair.value) ?? keyStart;
        node = pair.value;
      } else if (isCollection(node)) {
        const index = typeof seg === 'number' ? seg : Number(seg);
        const item: unknown = Number.isInteger(index) ? node.items[index] : undefined;
        if (item === undefined) return posAt(anchor);
        const start = (isPair(item) ? rangeStart(item.key) : rangeStart(item)) ?? anchor;
        anchor = start;
        valueStart = start;
        node = isPair(item) ? item.value : item;
      } else {
        return posAt(anchor);
      }
    }
    return posAt(valueStart);
  };
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

function firstComplexKey(doc: Document): YamlNode | null {
  let found: YamlNode | null = null;
  visit(doc, {
    Pair(_key, pair) {
      if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
        found = pair.key as YamlNode;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

const YAML_RULES: Record<string, string> = {
  DUPLICATE_KEY: 'duplicate-key',
  TAB_AS_INDENT: 'yaml-tab',
  RESOURCE_EXHAUSTION: 'too-deep',
};

function yamlHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': return 'A key appears twice in the same map; keep one (YAML would silently use the last).';
    case 'TAB_AS_INDENT': return 'Tabs are not allowed as indentation in YAML; indent with spaces.';
    case 'RESOURCE_EXHAUSTION': return 'The file nests too deeply to read; fleet files are a few levels deep.';
    default: return 'Fix the YAML syntax here.';
  }
}

/** Parses one YAML fleet file; `source` is null when it cannot be used. */
export function parseYamlFile(file: string, content: string | Uint8Array, limits: ParseLimits = DEFAULT_LIMITS): ParseResult {
  const checked = checkTextFile(file, content, limits);
  const problems = checked.problems;
  const text = checked.text;
  if (text === null) return { source: null, problems };
  const at = (pos: Position, rule: string, message: string, severity: 'error' | 'warning' = 'error'): void => {
    problems.push({ file, line: pos.line, col: pos.col, severity, rule, message });
  };

  // Tabs in indentation: YAML forbids them and they make the structure lie.
  const tab = /^[ ]*\t/m.exec(text);
  if (tab) at(positionOf(text, tab.index + tab[0].length - 1), 'yaml-tab', 'A tab is used for indentation. YAML needs spaces: replace the tab with spaces.');

  const lineCounter = new LineCounter();
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, logLevel: 'silent', version: '1.2' });
  } catch (err) {
    at({ line: 1, col: 1 }, err instanceof RangeError ? 'too-deep' : 'yaml-syntax', `The YAML cannot be read (${err instanceof Error ? err.message : String(err)}). Simplify the file.`);
    return { source: null, problems };
  }
  const list = Array.isArray(docs) ? docs : [];
  const first = list[0];
  if (!first || first.contents === null) {
    at({ line: 1, col: 1 }, 'empty-file', 'The file is empty (or only comments). Add its content, or delete the file.');
    return { source: null, problems };
  }
  const second = list[1];
  if (second) {
    at(lineCounter.linePos(second.range[0]), 'multiple-documents', 'The file holds more than one YAML document (a `---` line). Keep one document per file; a second node goes in its own file.');
  }
  let broken = second !== undefined;
  // An error found only at the end of the input (an unclosed quote) points
  // at the last line that has content, not past the end of the file.
  const lastContent = text.trimEnd().length;
  const errorPosition = (offset: number, code: string): Position => {
    if (offset >= lastContent) return lineCounter.linePos(text.lastIndexOf('\n', Math.max(0, lastContent - 1)) + 1);
    const pos = lineCounter.linePos(offset);
    // Where a stack overflow happened depends on the stack size: report the line.
    return code === 'RESOURCE_EXHAUSTION' ? { line: pos.line, col: 1 } : pos;
  };
  for (const err of first.errors) {
    if (err.code === 'TAB_AS_INDENT' && tab) { broken = true; continue; }
    const rule = YAML_RULES[err.code] ?? 'yaml-syntax';
    const detail = rule === 'yaml-syntax' ? `${err.message.split('\n')[0] ?? 'syntax error'}. ` : '';
    const pos = errorPosition(err.pos[0], err.code);
    broken = true;
    // One syntax error usually drags more along on the same line: report the first.
    if (problems.some((p) => p.line === pos.line)) continue;
    at(pos, rule, `${detail}${yamlHint(err.code)}`);
  }
  for (const warn of first.warnings) {
    at(lineCounter.linePos(warn.pos[0]), 'yaml-warning', `${warn.message.split('\n')[0] ?? 'warning'}. Fleet files use plain YAML: remove custom tags.`, 'warning');
  }
  const complexKey = broken ? null : firstComplexKey(first);
  if (complexKey) {
    at(lineCounter.linePos(rangeStart(complexKey) ?? 0), 'yaml-syntax', 'A map key is itself a map or a list. Keys in fleet files are plain words.');
    broken = true;
  }
  if (broken) return { source: null, problems };

  let data: unknown;
  try {
    data = first.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    if (err instanceof ReferenceError) {
      at(lineCounter.linePos(firstAliasOffset(first)), 'alias-limit', `Aliases (*name) expand to too many values (more than ${limits.maxAliasCount} per file, the shape of an alias bomb). Write the values out instead of aliasing them.`);
    } else {
      at({ line: 1, col: 1 }, err instanceof RangeError ? 'too-deep' : 'yaml-syntax', 'The YAML cannot be turned into data (it nests too deeply or is malformed). Simplify the file.');
    }
    return { source: null, problems };
  }
  if (depthOf(data, limits.maxDepth) > limits.maxDepth) {
    at(lineCounter.linePos(rangeStart(first.contents) ?? 0), 'too-deep', `Values nest more than ${limits.maxDepth} levels deep. Fleet files are a few levels deep; flatten it.`);
    return { source: null, problems };
  }
  return { source: { file, data, locate: makeLocator(first, lineCounter) }, problems };
}
