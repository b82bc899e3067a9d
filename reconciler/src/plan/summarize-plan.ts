// Totals every renderer shows, computed once.
import { planExitCode } from './plan.ts';
import type { NodeStatus, Plan } from '../model/steps.ts';

export interface PlanSummary {
  nodes: number;
  by_status: Partial<Record<NodeStatus, number>>;
  steps: number;
  manual_steps: number;
  fleet_steps: number;
  exit_code: 0 | 1 | 2;
}

export const STATUS_ORDER: readonly NodeStatus[] = ['error', 'unknown-hardware', 'refused', 'drifted', 'unreachable', 'away', 'planned', 'retired', 'in-sync'];

export function summarizePlan(plan: Plan): PlanSummary {
  const by: Partial<Record<NodeStatus, number>> = {};
  for (const n of plan.nodes) by[n.status] = (by[n.status] ?? 0) + 1;
  const by_status: Partial<Record<NodeStatus, number>> = {};
  for (const s of STATUS_ORDER) if (by[s] !== undefined) by_status[s] = by[s];
  const all = plan.nodes.flatMap((n) => n.steps);
  return {
    nodes: plan.nodes.length,
    by_status,
    steps: all.length + plan.fleet.length,
    manual_steps: all.filter((s) => s.kind === 'manual').length,
    fleet_steps: plan.fleet.length,
    exit_code: planExitCode(plan),
  };
}

export function describeSummary(s: PlanSummary): string {
  const statuses = Object.entries(s.by_status).map(([k, v]) => `${v} ${k}`).join(', ');
  const steps = s.steps === 0 ? 'no changes' : `${s.steps} step${s.steps === 1 ? '' : 's'}${s.manual_steps > 0 ? ` (${s.manual_steps} manual)` : ''}`;
  return `${s.nodes} node${s.nodes === 1 ? '' : 's'}${statuses === '' ? '' : `: ${statuses}`}; ${steps}`;
}

/** Control characters from observed text (a hostile ComputerName) never reach a terminal or a comment raw. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
