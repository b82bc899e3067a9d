// The plan for a terminal. Colours only when asked (the CLI asks on a TTY).
import { describeStep, effectOf, type StepEffect } from './describe-step.ts';
import { formatBytes } from './manual-steps.ts';
import { describeRoute, transferTotals } from './distribute-models.ts';
import { STATUS_ORDER, describeSummary, printable, summarizePlan } from './summarize-plan.ts';
import { assertNever, type Difference, type ModelRoute, type NodePlan, type NodeStatus, type Plan, type Step } from '../model/steps.ts';

export interface TextOptions {
  color: boolean;
  /** The address each node answered on, shown beside it. */
  answered?: ReadonlyMap<string, string>;
}

type Paint = (code: string, text: string) => string;

const STATUS_COLOR: Record<NodeStatus, string> = {
  'in-sync': '32', 'drifted': '33', 'unreachable': '90', 'away': '90', 'refused': '31',
  'unknown-hardware': '31', 'planned': '36', 'retired': '35', 'error': '31',
};

const SIGN: Record<StepEffect, [string, string]> = { add: ['+', '32'], change: ['~', '33'], remove: ['-', '31'], manual: ['!', '35'] };

/** Extra lines under a step: what a person needs to see beyond the one sentence. */
function detailsOf(step: Step): string[] {
  switch (step.kind) {
    case 'manual': return step.instructions;
    case 'pull-model':
    case 'remove-model': return step.bytes > 0 ? [`size: ${formatBytes(step.bytes)}`] : [];
    case 'copy-model': return [`size: ${formatBytes(step.bytes)}; source: ${step.source}${step.peers.length > 0 ? `, else ${step.peers.join(', ')}` : ''}; fallback: ${step.fallback === 'internet' ? 'internet pull' : 'none (may not use the internet)'}`];
    case 'register': return [`payload: ${JSON.stringify(step.payload)}`];
    case 'set-crontab':
    case 'set-hostname':
    case 'install-homebrew':
    case 'install-package':
    case 'uninstall-package':
    case 'make-dirs':
    case 'write-file':
    case 'install-secret':
    case 'stop-brew-service':
    case 'load-agent':
    case 'restart-agent':
    case 'unload-agent':
    case 'write-generated':
    case 'reload-openclaw':
      return [];
    default: return assertNever(step);
  }
}

/** One line per model, then the bytes that will cross the internet and the LAN. */
export function renderTransfers(routes: readonly ModelRoute[]): string[] {
  const t = transferTotals(routes);
  return [...routes.map((r) => describeRoute(r, formatBytes)), `internet: ${formatBytes(t.internet_bytes)} (${(t.distinct_bytes > 0 ? t.internet_bytes / t.distinct_bytes : 0).toFixed(1)}x the ${formatBytes(t.distinct_bytes)} of distinct models); LAN: ${formatBytes(t.lan_bytes)}`];
}

function renderDifference(d: Difference): string {
  const v = (x: string | null): string => (x === null ? 'absent' : x);
  return `${d.field}: ${printable(v(d.observed))} -> ${printable(v(d.desired))}`;
}

function renderSteps(steps: readonly Step[], paint: Paint, indent: string): string[] {
  const out: string[] = [];
  steps.forEach((step, i) => {
    const [sign, color] = SIGN[effectOf(step)];
    const label = step.kind === 'manual' ? `manual (${step.reason})` : step.kind;
    out.push(`${indent}${paint(color, sign)} ${String(i + 1).padStart(2)}. ${paint('1', label)}  ${printable(describeStep(step))}`);
    out.push(`${indent}        why: ${printable(step.why)}`);
    for (const line of detailsOf(step)) out.push(`${indent}        ${step.kind === 'manual' ? '- ' : ''}${printable(line)}`);
  });
  return out;
}

function via(options: TextOptions, node: string): string {
  const address = options.answered?.get(node);
  return address === undefined ? '' : `  (via ${printable(address)})`;
}

function renderNode(np: NodePlan, paint: Paint, options: TextOptions): string[] {
  const out = [`${paint('1', np.node)}  ${paint(STATUS_COLOR[np.status], np.status)}  ${printable(np.summary)}${via(options, np.node)}`];
  for (const d of np.differences) out.push(`    ${paint('33', '~')} ${renderDifference(d)}`);
  for (const note of np.notes ?? []) out.push(`    ${paint('90', `note: ${printable(note)}`)}`);
  out.push(...renderSteps(np.steps, paint, '    '));
  return out;
}

export function renderText(plan: Plan, options: TextOptions): string {
  const paint: Paint = options.color ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
  const summary = summarizePlan(plan);
  const out = [`${paint('1', 'fleet plan')}: ${describeSummary(summary)}`, ''];
  if (plan.transfers !== undefined && plan.transfers.length > 0) out.push(paint('1', 'models'), ...renderTransfers(plan.transfers).map((l) => `    ${printable(l)}`), '');
  for (const np of plan.nodes) out.push(...renderNode(np, paint, options), '');
  if (plan.fleet.length > 0) out.push(paint('1', 'fleet (Bob)'), ...renderSteps(plan.fleet, paint, '    '), '');
  out.push(summary.exit_code === 0 ? 'No changes: the fleet matches fleet/.' : summary.exit_code === 2 ? 'Changes pending: run fleet apply to converge.' : 'Errors: some nodes need a person before anything can change (see above).');
  return `${out.join('\n')}\n`;
}

/** `fleet drift`: one line per node, worst first. */
export function renderDriftLines(plan: Plan, options: TextOptions): string {
  const paint: Paint = options.color ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
  const rank = (s: NodeStatus): number => STATUS_ORDER.indexOf(s);
  const nodes = [...plan.nodes].sort((a, b) => rank(a.status) - rank(b.status) || (a.node < b.node ? -1 : 1));
  const width = Math.max(4, ...nodes.map((n) => n.node.length));
  const statusWidth = Math.max(...STATUS_ORDER.map((s) => s.length));
  const lines = nodes.map((n) => {
    const fields = n.differences.map((d) => d.field);
    const shown = fields.length > 5 ? `${fields.slice(0, 4).join(', ')} and ${fields.length - 4} more` : fields.join(', ');
    const what = fields.length > 0 ? `${fields.length} difference${fields.length === 1 ? '' : 's'}: ${shown}` : n.summary;
    return `${n.node.padEnd(width)}  ${paint(STATUS_COLOR[n.status], n.status.padEnd(statusWidth))}  ${printable(what)}${via(options, n.node)}`;
  });
  return `${lines.join('\n')}\n`;
}
