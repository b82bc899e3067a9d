// One thing wrong (or worth a look) in the fleet files, located precisely
// enough for an editor, a terminal and a GitHub annotation.
export type Severity = 'error' | 'warning';

/** A step on the way to a value in a YAML document: a key or a list index. */
export type PathSegment = string | number;

export interface Problem {
  /** Repository-relative path, e.g. fleet/nodes/virtuoso.yaml. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  severity: Severity;
  /** Kebab-case rule id, e.g. model-fit, unknown-role, duplicate-address. */
  rule: string;
  /** What is wrong and what to do about it, for a person. */
  message: string;
}

export function countErrors(problems: readonly Problem[]): number {
  let n = 0;
  for (const p of problems) if (p.severity === 'error') n++;
  return n;
}

/** File, then position, then rule: the order people read them in. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1
      : a.line - b.line || a.col - b.col || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}

/**
 * Show a value from a fleet file in a message: text in JSON quotes (control
 * characters and newlines appear as escapes), anything else as YAML read it
 * (null, 1.5, true), and very long values cut.
 */
export function quoteValue(value: unknown, max = 60): string {
  if (typeof value === 'string') return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
