// The plan as a pull-request comment: a summary table, then one collapsible
// section per node. Observed text is escaped: a hostile hostname cannot close
// a <details> or inject a link.
import { renderTransfers } from './render-text.ts';
import { describeStep } from './describe-step.ts';
import { formatBytes } from './manual-steps.ts';
import { describeSummary, printable, summarizePlan } from './summarize-plan.ts';
import { assertNever, type NodePlan, type NodeStatus, type Plan, type Step } from '../model/steps.ts';

export interface MarkdownOptions {
  /** A first line such as a hidden marker comment the workflow finds the comment by. */
  header?: string;
  /** Where the plan came from, e.g. "offline, snapshot of 2026-11-24". */
  source?: string;
}

const STATUS_ICON: Record<NodeStatus, string> = {
  'in-sync': '✅', 'drifted': '🔧', 'unreachable': '⚫', 'away': '💤', 'refused': '⛔',
  'unknown-hardware': '❌', 'planned': '🆕', 'retired': '🗑️', 'error': '❌',
};

/** Text in a table cell or a paragraph. */
export function escapeMarkdown(text: string): string {
  return printable(text).replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')).replace(/([\\`*_[\]|#!~])/g, '\\$1');
}

/** An inline code span that survives backticks in the text; text with HTML characters is escaped plain text instead. */
export function codeSpan(text: string): string {
  const t = printable(text);
  // No raw `<` ever reaches the comment, not even inside a code span.
  if (/[<>&]/.test(t)) return escapeMarkdown(text);
  const longest = Math.max(0, ...[...t.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  // Inside a table a pipe still splits the cell; GitHub accepts \| there.
  return `${fence}${pad}${t.replace(/\|/g, '\\|')}${pad}${fence}`;
}

function stepDetails(step: Step): string[] {
  switch (step.kind) {
    case 'manual': return step.instructions.map((i) => `   - ${escapeMarkdown(i)}`);
    case 'write-file': return [`   - ${codeSpan(step.path)}, mode ${step.mode.toString(8)}, ${step.content.length} bytes`];
    case 'pull-model':
    case 'remove-model': return step.bytes > 0 ? [`   - ${formatBytes(step.bytes)}`] : [];
    case 'copy-model': return [`   - ${formatBytes(step.bytes)} from ${escapeMarkdown(step.source)} over the LAN${step.fallback === 'internet' ? ', an internet pull if no peer can serve it' : ''}`];
    case 'set-crontab': return [`   - ${step.line === null ? 'remove the heartbeat line' : codeSpan(step.line)}`];
    case 'register': return [`   - ${codeSpan(JSON.stringify(step.payload))}`];
    case 'set-hostname':
    case 'install-homebrew':
    case 'install-package':
    case 'uninstall-package':
    case 'make-dirs':
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

function renderSteps(steps: readonly Step[]): string[] {
  const out: string[] = [];
  steps.forEach((step, i) => {
    const label = step.kind === 'manual' ? `manual: ${step.reason}` : step.kind;
    out.push(`${i + 1}. **${label}**: ${escapeMarkdown(describeStep(step))} _Why: ${escapeMarkdown(step.why)}_`);
    out.push(...stepDetails(step));
  });
  return out;
}

function renderNode(np: NodePlan): string[] {
  const open = np.status === 'in-sync' ? '' : ' open';
  const out = [`<details${open}><summary><b>${escapeMarkdown(np.node)}</b>: ${STATUS_ICON[np.status]} ${np.status}, ${np.steps.length} step${np.steps.length === 1 ? '' : 's'}</summary>`, ''];
  out.push(escapeMarkdown(np.summary), '');
  if (np.differences.length > 0) {
    out.push('| fact | observed | desired |', '|---|---|---|');
    for (const d of np.differences) out.push(`| ${codeSpan(d.field)} | ${d.observed === null ? '_absent_' : codeSpan(d.observed)} | ${d.desired === null ? '_absent_' : codeSpan(d.desired)} |`);
    out.push('');
  }
  if (np.steps.length > 0) out.push(...renderSteps(np.steps), '');
  for (const note of np.notes ?? []) out.push(`> ${escapeMarkdown(note)}`, '');
  out.push('</details>', '');
  return out;
}

export function renderMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const summary = summarizePlan(plan);
  const out: string[] = [];
  if (options.header !== undefined) out.push(options.header);
  out.push('### Fleet plan', '');
  out.push(`${escapeMarkdown(describeSummary(summary))}${options.source === undefined ? '' : ` (${escapeMarkdown(options.source)})`}`, '');
  out.push('| node | status | steps | manual | summary |', '|---|---|---:|---:|---|');
  for (const np of plan.nodes) {
    const manual = np.steps.filter((s) => s.kind === 'manual').length;
    out.push(`| ${escapeMarkdown(np.node)} | ${STATUS_ICON[np.status]} ${np.status} | ${np.steps.length} | ${manual} | ${escapeMarkdown(np.summary)} |`);
  }
  out.push('');
  if (plan.transfers !== undefined && plan.transfers.length > 0) out.push('#### Models', '', ...renderTransfers(plan.transfers).map((l) => `- ${escapeMarkdown(l)}`), '');
  for (const np of plan.nodes) out.push(...renderNode(np));
  if (plan.fleet.length > 0) out.push('#### Fleet (Bob)', '', ...renderSteps(plan.fleet), '');
  out.push(summary.exit_code === 0 ? '**No changes.**' : summary.exit_code === 2 ? '**Changes pending**: `fleet apply` converges the fleet after merge.' : '**Errors**: some nodes need a person first (see above).');
  return `${out.join('\n')}\n`;
}
