// The plan for scripts: `fleet plan --format json`, valid against schema/plan.ts.
import type { ModelRoute, NodeStatus, Plan, Step } from '../model/steps.ts';
import { describeStep, effectOf, type StepEffect } from './describe-step.ts';
import { summarizePlan, type PlanSummary } from './summarize-plan.ts';
import { planSchema } from '../schema/plan.ts';
import type { Difference } from '../model/steps.ts';

export type StepJson = Step & { description: string; effect: StepEffect };

export interface PlanJson {
  $schema: string;
  format_version: 1;
  summary: PlanSummary;
  nodes: { node: string; status: NodeStatus; summary: string; differences: Difference[]; steps: StepJson[]; notes?: string[] }[];
  fleet: StepJson[];
  transfers?: ModelRoute[];
}

function stepJson(step: Step): StepJson {
  return { ...step, description: describeStep(step), effect: effectOf(step) };
}

export function toPlanJson(plan: Plan): PlanJson {
  return {
    $schema: planSchema.$id,
    format_version: 1,
    summary: summarizePlan(plan),
    nodes: plan.nodes.map((n) => ({ ...n, steps: n.steps.map(stepJson) })),
    fleet: plan.fleet.map(stepJson),
    ...(plan.transfers !== undefined ? { transfers: plan.transfers } : {}),
  };
}

export function renderJson(plan: Plan): string {
  return `${JSON.stringify(toPlanJson(plan), null, 2)}\n`;
}
