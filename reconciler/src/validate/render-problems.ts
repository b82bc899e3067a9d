// How validation problems are printed: for people (text), for scripts (json)
// and for GitHub Actions (workflow commands that become annotations on the
// pull request's lines).
import type { Problem } from '../model/problem.ts';

export const PROBLEM_FORMATS = ['text', 'json', 'github'] as const;
export type ProblemFormat = (typeof PROBLEM_FORMATS)[number];

export interface ProblemSummary {
  errors: number;
  warnings: number;
  /** Whether the command succeeds (no errors; no warnings under --strict). */
  ok: boolean;
  strict: boolean;
  dir: string;
  nodes: number | null;
}

/** Text that cannot break a terminal line or fake another one. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what we remove
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// GitHub workflow commands: data escapes %, CR, LF; properties also : and ,.
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatSummary(s: ProblemSummary): string {
  const counts = `${s.errors} ${s.errors === 1 ? 'error' : 'errors'}, ${s.warnings} ${s.warnings === 1 ? 'warning' : 'warnings'}`;
  const scope = s.nodes === null ? s.dir : `${s.dir} (${s.nodes} ${s.nodes === 1 ? 'node' : 'nodes'})`;
  if (s.ok) return `${scope}: valid, ${counts}`;
  return `${scope}: invalid, ${counts}${s.strict && s.errors === 0 ? ' (--strict: warnings fail)' : ''}`;
}

export function renderProblems(problems: readonly Problem[], format: ProblemFormat, summary: ProblemSummary): string {
  switch (format) {
    case 'text': {
      const lines = problems.map((p) => `${oneLine(p.file)}:${p.line}:${p.col} ${p.severity} ${p.rule}: ${oneLine(p.message)}`);
      lines.push(formatSummary(summary));
      return `${lines.join('\n')}\n`;
    }
    case 'json':
      return `${JSON.stringify({ valid: summary.ok, errors: summary.errors, warnings: summary.warnings, problems }, null, 2)}\n`;
    case 'github': {
      const lines = problems.map((p) =>
        `::${p.severity} file=${escapeProperty(p.file)},line=${p.line},col=${p.col},title=${escapeProperty(p.rule)}::${escapeData(p.message)}`);
      lines.push(formatSummary(summary));
      return `${lines.join('\n')}\n`;
    }
  }
}
