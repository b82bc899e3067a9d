// A fast reader for the plain subset of YAML that fleet files are mostly
// written in: block maps, lists of plain scalars, [a, b] lists, quoted
// strings without escapes, comments. It returns exactly the data and
// positions the yaml library would, or declines (null) and the library reads
// the file. A thousand node files are read several times faster this way;
// test/load/fast-yaml.test.ts holds the two readers to the same answers.
import type { PathSegment, Position, YamlSource } from './parse-yaml.ts';

export interface SimpleYaml {
  data: Record<string, unknown>;
  locate: YamlSource['locate'];
}

interface Entry {
  /** Where the key starts (map entries only). */
  key: Position | undefined;
  value: Position;
}

type Frame =
  | { kind: 'map'; indent: number; obj: Record<string, unknown>; path: PathSegment[] }
  | { kind: 'seq'; indent: number; arr: unknown[]; path: PathSegment[] };

const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?= |$)/;
/** Keys the core schema would read as something other than text. */
const NON_TEXT_KEY = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;
/** Characters that cannot start a plain scalar (or start something this reader leaves to the library). */
const INDICATOR = /^[?:,[\]{}#&*!|>'"%@`]|^-(?![0-9.])/;
// A comment after a value needs whitespace before its #.
const FLOW_SEQ = /^\[([^[\]{}#"']*)\](?:\s+#.*|\s*)$/;
const DOUBLE_QUOTED = /^"([^"\\]*)"(?:\s+#.*|\s*)$/;
const SINGLE_QUOTED = /^'((?:[^']|'')*)'(?:\s+#.*|\s*)$/;

/** A plain scalar read with the YAML 1.2 core schema, as the yaml library does. */
function resolvePlain(s: string): unknown {
  if (/^(?:~|null|Null|NULL)?$/.test(s)) return null;
  if (/^(?:true|True|TRUE)$/.test(s)) return true;
  if (/^(?:false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?[0-9]+$/.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return parseFloat(s);
  return s;
}

const DECLINE = Symbol('decline');

/** A plain scalar that reads the same in this subset as in full YAML; DECLINE otherwise. */
function plain(s: string): unknown {
  if (s === '' || INDICATOR.test(s) || /: |:$|\t| #/.test(s) || /^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(s)) return DECLINE;
  return resolvePlain(s);
}

interface ValueResult {
  value: unknown;
  /** Start columns (0-based in `text`) of each flow item, for [a, b] lists. */
  items?: { value: unknown; offset: number }[];
}

/** The value after `key: ` or `- `; `text` starts at the value. */
function readValue(text: string): ValueResult | typeof DECLINE {
  const first = text[0];
  if (first === '[') {
    const m = FLOW_SEQ.exec(text);
    if (!m) return DECLINE;
    const inner = m[1] as string;
    if (inner.trim() === '') return { value: [], items: [] };
    const items: { value: unknown; offset: number }[] = [];
    let offset = 1;
    for (const raw of inner.split(',')) {
      const lead = raw.length - raw.trimStart().length;
      const s = raw.trim();
      const v = plain(s);
      if (v === DECLINE) return DECLINE;
      items.push({ value: v, offset: offset + lead });
      offset += raw.length + 1;
    }
    return { value: items.map((i) => i.value), items };
  }
  if (first === '"') {
    const m = DOUBLE_QUOTED.exec(text);
    return m ? { value: m[1] } : DECLINE;
  }
  if (first === "'") {
    const m = SINGLE_QUOTED.exec(text);
    return m ? { value: (m[1] as string).replace(/''/g, "'") } : DECLINE;
  }
  const comment = text.search(/\s#/);
  const s = (comment === -1 ? text : text.slice(0, comment)).trimEnd();
  const v = plain(s);
  return v === DECLINE ? DECLINE : { value: v };
}

function keyOf(path: readonly PathSegment[]): string {
  return path.map(String).join('\u0000');
}

/** Reads `text` (LF line endings, no BOM, no tab indentation) if it is in the subset; null otherwise. */
export function parseSimpleYaml(text: string): SimpleYaml | null {
  const index = new Map<string, Entry>();
  const lines = text.split('\n');
  const root: Record<string, unknown> = {};
  const stack: Frame[] = [];
  let rootPos: Position | undefined;
  // A `key:` with nothing after it: its value is what the following lines make it.
  let pending: { frame: Extract<Frame, { kind: 'map' }>; key: string; indent: number; empty: Position } | null = null;

  const settlePending = (): void => {
    if (!pending) return;
    pending.frame.obj[pending.key] = null;
    const entry = index.get(keyOf([...pending.frame.path, pending.key]));
    if (entry) entry.value = pending.empty;
    pending = null;
  };

  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln] as string;
    const content = line.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    const indent = line.length - content.length;
    const lineNo = ln + 1;
    if (/^(?:---|\.\.\.)(?:\s|$)|^%/.test(content)) return null;
    const isItem = content === '-' || content.startsWith('- ');

    if (rootPos === undefined) {
      if (indent !== 0 || isItem) return null;
      rootPos = { line: lineNo, col: 1 };
      stack.push({ kind: 'map', indent: 0, obj: root, path: [] });
      index.set(keyOf([]), { key: undefined, value: rootPos });
    }

    if (pending) {
      const p: { frame: Extract<Frame, { kind: 'map' }>; key: string; indent: number; empty: Position } = pending;
      const path = [...p.frame.path, p.key];
      if (isItem && indent >= p.indent) {
        const arr: unknown[] = [];
        p.frame.obj[p.key] = arr;
        (index.get(keyOf(path)) as Entry).value = { line: lineNo, col: indent + 1 };
        stack.push({ kind: 'seq', indent, arr, path });
        pending = null;
      } else if (indent > p.indent && KEY.test(content)) {
        const obj: Record<string, unknown> = {};
        p.frame.obj[p.key] = obj;
        (index.get(keyOf(path)) as Entry).value = { line: lineNo, col: indent + 1 };
        stack.push({ kind: 'map', indent, obj, path });
        pending = null;
      } else if (indent <= p.indent) {
        settlePending();
      } else {
        return null; // a continuation line: a multi-line scalar or something richer
      }
    }

    // Close what this line's indentation ends; a list at a key's own indentation ends at the next key.
    let top = stack[stack.length - 1] as Frame;
    while (top.indent > indent || (top.kind === 'seq' && top.indent === indent && !isItem)) {
      stack.pop();
      const next = stack[stack.length - 1];
      if (!next) return null;
      top = next;
    }
    if (top.indent !== indent) return null;

    if (top.kind === 'seq') {
      if (!isItem) return null;
      const rest = content.slice(1).trimStart();
      if (rest === '' || KEY.test(rest) || rest.startsWith('[')) return null;
      const col = indent + 1 + (content.length - rest.length);
      const v = readValue(rest);
      if (v === DECLINE) return null;
      index.set(keyOf([...top.path, top.arr.length]), { key: undefined, value: { line: lineNo, col } });
      top.arr.push(v.value);
      continue;
    }

    if (isItem) return null;
    const m = KEY.exec(content);
    if (!m) return null;
    const key = m[1] as string;
    if (NON_TEXT_KEY.test(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(top.obj, key)) return null;
    const path = [...top.path, key];
    const keyPos = { line: lineNo, col: indent + 1 };
    const after = content.slice(key.length + 1);
    if (after.includes('\t')) return null;
    const rest = after.trimStart();
    if (rest === '' || rest.startsWith('#')) {
      // The value is on the following lines, or empty: null, placed after the spaces that follow the colon.
      top.obj[key] = null;
      index.set(keyOf(path), { key: keyPos, value: keyPos });
      pending = { frame: top, key, indent, empty: { line: lineNo, col: indent + key.length + 2 + (after.length - rest.length) } };
      continue;
    }
    const valueCol = indent + key.length + 2 + (after.length - rest.length);
    const v = readValue(rest);
    if (v === DECLINE) return null;
    top.obj[key] = v.value;
    index.set(keyOf(path), { key: keyPos, value: { line: lineNo, col: valueCol } });
    v.items?.forEach((item, i) => index.set(keyOf([...path, i]), { key: undefined, value: { line: lineNo, col: valueCol + item.offset } }));
  }
  if (rootPos === undefined) return null;
  settlePending();

  const start = rootPos;
  const locate: YamlSource['locate'] = (path, at = 'value') => {
    const exact = index.get(keyOf(path));
    if (exact) return at === 'key' && exact.key ? exact.key : exact.value;
    // Like the library's locator: the key (or item) of the deepest part that exists.
    for (let i = path.length - 1; i >= 0; i--) {
      const e = index.get(keyOf(path.slice(0, i)));
      if (e) return e.key ?? e.value;
    }
    return start;
  };
  return { data: root, locate };
}
