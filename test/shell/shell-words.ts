// A reader for the command lines the product sends: not a whole shell, but
// enough of POSIX sh's grammar to find every simple command in a line and
// its words with quoting removed, including those inside $(...), `...`,
// { ...; }, ( ... ), if/for/while/case bodies, function bodies and pipes.
// The contract test checks each command's name and options against
// shell/commands.ts. A word whose value is only known at run time ("$x",
// "$(...)") is kept with a marker so the checker can tell.

export interface SimpleCommand {
  /** The words after assignments and redirections, quotes removed. */
  argv: Word[];
  /** The source text the command came from (for messages). */
  source: string;
}

export interface Word {
  /** The word's value where it is literal; expansions appear as `\u0000`. */
  text: string;
  /** True when part of the word is an expansion ($x, $(...), `...`). */
  dynamic: boolean;
}

const KEYWORDS = new Set(['if', 'then', 'elif', 'else', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'in', '!', '{', '}']);
const OPERATORS = ['&&', '||', ';;', ';', '|', '&', '(', ')', '\n'];

interface Token {
  kind: 'word' | 'op' | 'redir';
  word?: Word;
  op?: string;
}

/** Splits shell text into tokens; nested command substitutions are read recursively into `nested`. */
function tokenize(text: string, nested: string[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '\\' && text[i + 1] === '\n') { i += 2; continue; }
    if (c === '#') {
      // a comment runs to the end of the line (only at a word's start)
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) { out.push({ kind: 'op', op }); i += op.length; continue; }
    // redirections: [n]>, >>, <, >&n, <&n, n>&m
    const redir = /^(\d*)(>>|>&|<&|>|<)(-|\d+)?/.exec(text.slice(i));
    if (redir && (redir[1] !== '' || text[i] === '>' || text[i] === '<')) {
      i += redir[0].length;
      if (redir[3] === undefined) {
        // the target word follows
        while (text[i] === ' ') i++;
        const [, end] = readWord(text, i, nested);
        i = end;
      }
      out.push({ kind: 'redir' });
      continue;
    }
    const [word, end] = readWord(text, i, nested);
    out.push({ kind: 'word', word });
    i = end;
  }
  return out;
}

/** Reads the matching end of `$(`, counting quotes and parentheses. */
function readSubstitution(text: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < text.length && depth > 0) {
    const c = text[i];
    if (c === "'") { i = text.indexOf("'", i + 1) + 1; if (i === 0) return text.length; continue; }
    if (c === '"') { i = readDouble(text, i + 1, []); continue; }
    if (c === '\\') { i += 2; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    i++;
  }
  return i;
}

/** Reads a double-quoted string from after its opening quote; returns the index after the closing quote. */
function readDouble(text: string, start: number, nested: string[], into?: { text: string; dynamic: boolean }): number {
  let i = start;
  while (i < text.length && text[i] !== '"') {
    const c = text[i] ?? '';
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1] ?? '';
      if (into) into.text += '$`"\\\n'.includes(next) ? next : `\\${next}`;
      i += 2;
      continue;
    }
    if (c === '$' && text[i + 1] === '(' && text[i + 2] === '(') {
      // $((...)): arithmetic, no command in it
      const end = readSubstitution(text, i + 2);
      if (into) { into.text += '\u0000'; into.dynamic = true; }
      i = end;
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      const end = readSubstitution(text, i + 2);
      // $((...)) is arithmetic, not a command.
      if (text[i + 2] !== '(') nested.push(text.slice(i + 2, end - 1));
      if (into) { into.text += '\u0000'; into.dynamic = true; }
      i = end;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      nested.push(text.slice(i + 1, end));
      if (into) { into.text += '\u0000'; into.dynamic = true; }
      i = end + 1;
      continue;
    }
    if (c === '$' && /[A-Za-z_{?#@*0-9!$-]/.test(text[i + 1] ?? '')) {
      i = skipParameter(text, i);
      if (into) { into.text += '\u0000'; into.dynamic = true; }
      continue;
    }
    if (into) into.text += c;
    i++;
  }
  return i + 1;
}

function skipParameter(text: string, at: number): number {
  let i = at + 1;
  if (text[i] === '{') return text.indexOf('}', i) + 1;
  if (/[?#@*0-9!$-]/.test(text[i] ?? '')) return i + 1;
  while (/[A-Za-z0-9_]/.test(text[i] ?? '')) i++;
  return i;
}

function readWord(text: string, start: number, nested: string[]): [Word, number] {
  const word = { text: '', dynamic: false };
  let i = start;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '&' || c === '|' || c === '<' || c === '>') break;
    if (c === ')' || (c === '(' && text[i + 1] !== ')')) break;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word.text += text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') { i = readDouble(text, i + 1, nested, word); continue; }
    if (c === '\\') { word.text += text[i + 1] ?? ''; i += 2; continue; }
    if (c === '$' && text[i + 1] === '(' && text[i + 2] === '(') {
      // $((...)): arithmetic, no command in it
      const end = readSubstitution(text, i + 2);
      word.text += '\u0000';
      word.dynamic = true;
      i = end;
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      const end = readSubstitution(text, i + 2);
      // $((...)) is arithmetic, not a command.
      if (text[i + 2] !== '(') nested.push(text.slice(i + 2, end - 1));
      word.text += '\u0000';
      word.dynamic = true;
      i = end;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      nested.push(text.slice(i + 1, end));
      word.text += '\u0000';
      word.dynamic = true;
      i = end + 1;
      continue;
    }
    if (c === '$' && /[A-Za-z_{?#@*0-9!$-]/.test(text[i + 1] ?? '')) {
      i = skipParameter(text, i);
      word.text += '\u0000';
      word.dynamic = true;
      continue;
    }
    if (c === '(' && text[i + 1] === ')') {
      // `name()` of a function definition
      word.text += '()';
      i += 2;
      continue;
    }
    word.text += c;
    i++;
  }
  return [word, i];
}

/** Every simple command in `text`, nested substitutions included. */
export function simpleCommands(text: string): SimpleCommand[] {
  const nested: string[] = [];
  const tokens = tokenize(text, nested);
  const out: SimpleCommand[] = [];
  let argv: Word[] = [];
  let inCase = 0;
  let caseWant: 'word' | 'in' | 'pattern' | 'body' = 'body';
  let forWant: 'name' | 'words' | null = null;
  const flush = (): void => {
    if (argv.length > 0) out.push({ argv, source: text });
    argv = [];
  };
  for (const t of tokens) {
    if (t.kind === 'redir') continue;
    if (t.kind === 'op') {
      if (forWant === 'words' && (t.op === ';' || t.op === '\n')) { forWant = null; continue; }
      if (inCase > 0 && t.op === ';;') { flush(); caseWant = 'pattern'; continue; }
      if (inCase > 0 && t.op === ')' && caseWant === 'pattern') { caseWant = 'body'; continue; }
      if (inCase > 0 && t.op === '(' && caseWant === 'pattern') continue;
      if (inCase > 0 && t.op === '|' && caseWant === 'pattern') continue;
      flush();
      continue;
    }
    const w = t.word as Word;
    if (forWant === 'name') { forWant = 'words'; continue; }
    if (forWant === 'words') continue;
    if (inCase > 0 && caseWant === 'word') { caseWant = 'in'; continue; }
    if (inCase > 0 && caseWant === 'in' && w.text === 'in') { caseWant = 'pattern'; continue; }
    if (inCase > 0 && caseWant === 'pattern') {
      if (w.text === 'esac') { inCase--; caseWant = 'body'; continue; }
      // a pattern, possibly ending in `)`
      if (w.text.endsWith(')')) caseWant = 'body';
      continue;
    }
    if (argv.length === 0) {
      if (w.text === 'case') { inCase++; caseWant = 'word'; continue; }
      if (w.text === 'esac') { inCase--; continue; }
      if (w.text === 'for') { forWant = 'name'; continue; }
      if (KEYWORDS.has(w.text)) continue;
      // assignments before the command name
      if (!w.dynamic && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text)) continue;
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text.split('\u0000')[0] ?? '') && w.text.indexOf('=') < w.text.indexOf('\u0000')) continue;
      // a function definition: `name()`
      if (/^[A-Za-z_][A-Za-z0-9_]*\(\)$/.test(w.text)) continue;
    }
    argv.push(w);
  }
  flush();
  for (const inner of nested) out.push(...simpleCommands(inner));
  return out;
}

/** Names of functions the text defines (`_fb() { ... }`). */
export function definedFunctions(text: string): Set<string> {
  return new Set([...text.matchAll(/(?:^|[\s;{])([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{/g)].map((m) => m[1] ?? ''));
}
