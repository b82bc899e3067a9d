// `fleet capacity`: what each node can hold. Per node: RAM, memory usable by
// models, the models with their estimated need, the worst case loaded at
// once, headroom, and the best larger model that would still fit.
import { Option } from 'commander';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import type { CapacityReport, CapacityRow } from '../../fit/capacity-report.ts';
import { formatGb } from '../../fit/estimate.ts';
import { countErrors } from '../../validate/problem.ts';
import { renderProblems } from '../problem-output.ts';
import { parseTodayFlag } from './validate.ts';
import { defaultFleetDir } from '../repo-root.ts';

const CAPACITY_FORMATS = ['text', 'json', 'markdown'] as const;
type CapacityFormat = (typeof CAPACITY_FORMATS)[number];

const HEADERS = ['NODE', 'ROLE', 'HARDWARE', 'RAM GB', 'USABLE GB', 'MODELS (need GB)', 'WORST CASE GB', 'HEADROOM GB', 'BEST LARGER MODEL'];

function cells(r: CapacityRow): string[] {
  const gb = (v: number | null): string => (v === null ? '-' : formatGb(v));
  const models = !r.ollama ? 'no Ollama' : r.models.length === 0 ? 'none' : r.models.map((m) => `${m.model} ${formatGb(m.need_gb)}`).join(', ');
  const worst = r.worst_case_gb === null ? '-' : `${formatGb(r.worst_case_gb)} (${r.loaded_at_once} loaded)`;
  const headroom = r.headroom_gb === null ? '-' : `${formatGb(r.headroom_gb)}${r.fits === false ? ' DOES NOT FIT' : ''}`;
  const larger = r.best_larger_model ? `${r.best_larger_model.model} (${formatGb(r.best_larger_model.need_gb)})` : '-';
  return [r.node, r.role, `${r.hardware_model} (${r.hardware_id})`, r.ram_gb === null ? '?' : String(r.ram_gb), gb(r.usable_gb), models, worst, headroom, larger];
}

function totalCells(report: CapacityReport): string[] {
  const t = report.totals;
  return [`TOTAL`, `${t.nodes} nodes`, '', String(t.ram_gb), formatGb(t.usable_gb), '', formatGb(t.worst_case_gb), formatGb(t.headroom_gb), ''];
}

/** Words of `text` in lines of at most `width` columns; later lines indented. A word longer than a line is cut. */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  const lead = /^ */.exec(text)?.[0] ?? '';
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const room = width - (out.length === 0 ? 0 : indent.length);
    const candidate = line.trim() === '' ? `${line}${word}` : `${line} ${word}`;
    if (candidate.length <= room) {
      line = candidate;
      continue;
    }
    if (line.trim() !== '') out.push(line);
    line = word.length > room ? `${word.slice(0, Math.max(1, room - 1))}…` : word;
  }
  if (line.trim() !== '') out.push(line);
  return out.map((l, i) => (i === 0 ? l : `${indent}${l}`));
}

/** One block per node, wrapped to `width`: the table's facts when the table would not fit the terminal. */
function renderBlocks(report: CapacityReport, width: number): string[] {
  const lines: string[] = [];
  const gb = (v: number | null): string => (v === null ? '-' : formatGb(v));
  for (const r of report.rows) {
    const c = cells(r);
    lines.push(...wrapText(`${r.node}  ${r.role}  ${c[2] ?? ''}`, width, '    '));
    const worst = r.worst_case_gb === null ? '-' : `${formatGb(r.worst_case_gb)} GB (${r.loaded_at_once} loaded)`;
    lines.push(...wrapText(`  RAM ${c[3] ?? '?'} GB, usable ${r.usable_gb === null ? '-' : `${gb(r.usable_gb)} GB`}, worst case ${worst}, headroom ${c[7] ?? '-'}${r.headroom_gb === null ? '' : ' GB'}`, width, '    '));
    lines.push(...wrapText(`  models (need GB): ${c[5] ?? ''}`, width, '    '));
    if (r.best_larger_model) lines.push(...wrapText(`  best larger model: ${c[8] ?? ''}`, width, '    '));
  }
  const t = totalCells(report);
  lines.push(...wrapText(`TOTAL ${t[1] ?? ''}: RAM ${t[3] ?? ''} GB, usable ${t[4] ?? ''} GB, worst case ${t[6] ?? ''} GB, headroom ${t[7] ?? ''} GB`, width, '    '));
  return lines;
}

/** The table, or, when it is wider than `width` (the terminal's), a block per node wrapped to it. */
export function renderCapacityText(report: CapacityReport, width?: number): string {
  const rows = [HEADERS, ...report.rows.map(cells), totalCells(report)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  let lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  const limit = width !== undefined && width >= 20 ? width : undefined;
  if (limit !== undefined && lines.some((l) => l.length > limit)) lines = renderBlocks(report, limit);
  const notes = ['Memory in GB of 2^30 bytes; need = weights + KV cache (pinned context x parallel) + runtime overhead (README, "RAM fit").'];
  if (report.totals.not_fitting.length > 0) notes.push(`Does not fit: ${report.totals.not_fitting.join(', ')} (see \`fleet validate\`).`);
  for (const n of notes) lines.push(...(limit === undefined ? [n] : wrapText(n, limit)));
  return `${lines.join('\n')}\n`;
}

/** The terminal's width: --width, else the terminal's columns, else $COLUMNS; undefined (no limit) when piped without them. */
function terminalWidth(flag: string | undefined): number | undefined {
  if (flag !== undefined) {
    const n = Number(flag);
    if (!Number.isInteger(n) || n < 20) throw new FleetError('invalid-input', `--width ${JSON.stringify(flag)}: give a number of columns, 20 or more`);
    return n;
  }
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env >= 20 ? env : undefined;
}

export function renderCapacityMarkdown(report: CapacityReport): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  const row = (r: string[]): string => `| ${r.map(esc).join(' | ')} |`;
  const lines = [row(HEADERS), `|${HEADERS.map(() => '---').join('|')}|`, ...report.rows.map((r) => row(cells(r))), row(totalCells(report).map((c, i) => (i < 2 ? `**${c}**` : c)))];
  return `${lines.join('\n')}\n`;
}

interface CapacityFlags {
  fleet: string;
  format: CapacityFormat;
  today?: string;
  width?: string;
}

export function register(program: Command): void {
  program
    .command('capacity')
    .description('show what each node can hold: RAM, usable memory, model needs, headroom, best larger model')
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .addOption(new Option('--format <format>', 'output format').choices(CAPACITY_FORMATS).default('text'))
    .option('--today <date>', 'date for the name-reuse rule, YYYY-MM-DD (default: today)')
    .option('--width <columns>', 'fit the text to this many columns (default: the terminal\'s width, or $COLUMNS; no limit when piped)')
    .action(async (flags: CapacityFlags) => {
      const today = parseTodayFlag(flags.today);
      const { loadFleet } = await import('../../load/load-fleet.ts');
      const { buildCapacityReport } = await import('../../fit/capacity-report.ts');
      const result = await loadFleet(flags.fleet, today !== undefined ? { today } : {});
      const errors = countErrors(result.problems);
      const desired = result.desired ?? result.partial;
      if (errors > 0) {
        // Still show the table when it can be built: a model that does not fit is what capacity is for.
        process.stderr.write(renderProblems(result.problems.filter((p) => p.severity === 'error'), 'text', { errors, warnings: 0, ok: false, strict: false, dir: flags.fleet, nodes: desired?.nodes.length ?? null }));
      }
      if (!desired) throw new FleetError('invalid-fleet', `${flags.fleet} cannot be loaded far enough to compute capacity; fix the errors above`);
      const report = buildCapacityReport(desired);
      const out = flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : flags.format === 'markdown' ? renderCapacityMarkdown(report) : renderCapacityText(report, terminalWidth(flags.width));
      process.stdout.write(out);
      process.exitCode = errors > 0 ? 1 : 0;
    });
}
