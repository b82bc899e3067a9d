// `fleet plan`: what apply would do, per node, in text, markdown (a pull
// request comment) or JSON. `fleet drift`: the fleet at a glance, one line per
// node, then what drifted. Exit codes like `terraform plan -detailed-exitcode`:
// 0 nothing to do, 2 changes pending, 1 error.
import { Option } from 'commander';
import type { Command } from 'commander';
import { plan, planExitCode } from '../../plan/plan.ts';
import { renderJson } from '../../plan/render-json.ts';
import { renderMarkdown } from '../../plan/render-markdown.ts';
import { renderDriftLines, renderText } from '../../plan/render-text.ts';
import { printable } from '../../plan/summarize-plan.ts';
import type { Plan } from '../../model/steps.ts';
import type { ObservedNode } from '../../schema/observed.ts';
import { gatherPlanInputs, generatedChanges, type PlanInputFlags } from '../plan-inputs.ts';
import { defaultFleetDir, defaultGeneratedDir } from '../repo-root.ts';

/** Hidden marker the pull-request workflow finds its comment by. */
export const PLAN_COMMENT_MARKER = '<!-- symphony-fleet-plan -->';

type Format = 'text' | 'markdown' | 'json';

interface PlanFlags extends PlanInputFlags {
  format: Format;
  prune?: boolean;
  out: string;
  color?: boolean;
}

function useColor(flags: { color?: boolean }): boolean {
  if (flags.color !== undefined) return flags.color;
  return process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}

async function buildPlan(flags: PlanFlags): Promise<{ plan: Plan; source: string; noAnswer: string | null; answered: Map<string, string> }> {
  const inputs = await gatherPlanInputs(flags);
  // Generated files describe the whole fleet: only a whole-fleet plan can say they change
  // (and not from an observation where no node answered: apply would not write them).
  const changed = flags.node === undefined && inputs.noAnswer === null ? await generatedChanges(inputs.desired, inputs.observed, flags.out, inputs.today) : [];
  const p = plan(inputs.desired, inputs.observed, {
    prune: flags.prune ?? inputs.desired.settings.reconcile.prune,
    registryUrl: inputs.registryUrl,
    nodes: inputs.nodes,
    today: inputs.today,
    generated: { changed },
    ...(inputs.secrets !== undefined ? { secrets: inputs.secrets } : {}),
  });
  return { plan: p, source: inputs.source, noAnswer: inputs.noAnswer, answered: flags.offline === true ? new Map() : answeredAddresses(inputs.observed) };
}

/** The address each node answered on, for people: "(via 192.168.1.20)". */
export function answeredAddresses(observed: readonly ObservedNode[]): Map<string, string> {
  return new Map(observed.flatMap((o) => (o.reach.status === 'ok' && o.reach.address ? [[o.node, o.reach.address] as [string, string]] : [])));
}

/** Exit 1 with the one line when no node answered; otherwise the plan's exit code. */
function finish(p: Plan, noAnswer: string | null): void {
  if (noAnswer !== null) {
    process.stderr.write(`fleet: ${noAnswer}\n`);
    process.exitCode = 1;
    return;
  }
  process.exitCode = planExitCode(p);
}

/** Why drift exits 2 when every node is in sync: the generated files would change. */
function renderFleetDrift(p: Plan): string {
  const write = p.fleet.find((s) => s.kind === 'write-generated');
  if (!write || write.kind !== 'write-generated') return '';
  return `\ngenerated files would change: ${write.files.join(', ')} (they no longer match fleet/ and what was observed). \`fleet apply\` writes and installs them; \`fleet generate\` writes them alone.\n`;
}

function render(p: Plan, format: Format, source: string, color: boolean, answered: ReadonlyMap<string, string>): string {
  switch (format) {
    case 'json': return renderJson(p);
    case 'markdown': return renderMarkdown(p, { header: PLAN_COMMENT_MARKER, source });
    case 'text': return `${renderText(p, { color, answered })}(${source})\n`;
  }
}

/** `fleet drift` details: each drifted fact of each node, under the one-line overview. */
function renderDriftDetails(p: Plan): string {
  const out: string[] = [];
  for (const n of p.nodes) {
    if (n.differences.length === 0) continue;
    out.push('', `${n.node}:`);
    for (const d of n.differences) out.push(`  ${d.field}: ${printable(d.observed ?? 'absent')} (want ${printable(d.desired ?? 'absent')})`);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--node <name...>', 'only these nodes')
    .option('--targets <file>', 'reach nodes as this targets.json says (the simulated fleet) instead of their fleet addresses')
    .option('--offline', 'plan against the observed snapshot instead of the fleet (a node not in it is planned as if fresh)')
    .option('--snapshot <file>', 'the observed snapshot to read (--offline) or write (default generated/observed.json)')
    .option('--prune', 'also remove models and software no longer desired (default: reconcile.prune in fleet.yaml)')
    .option('--out <dir>', 'where the generated files live, to tell whether they would change', defaultGeneratedDir())
    .option('--color', 'colour the text output (default: on a terminal)')
    .option('--no-color', 'never colour the text output');
}

export type DriftFlags = Omit<PlanFlags, 'format'>;

/** `fleet drift`; also what `fleet status` falls back to when no daemon answers. */
export async function runDrift(flags: DriftFlags): Promise<void> {
  const { plan: p, source, noAnswer, answered } = await buildPlan({ ...flags, format: 'text' });
  process.stdout.write(`${renderDriftLines(p, { color: useColor(flags), answered })}${renderDriftDetails(p)}${renderFleetDrift(p)}(${source})\n`);
  finish(p, noAnswer);
}

export function register(program: Command): void {
  addCommonOptions(program
    .command('plan')
    .description('show what fleet apply would do on every node (exit 0 no changes, 2 changes pending, 1 error)'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .action(async (flags: PlanFlags) => {
      const { plan: p, source, noAnswer, answered } = await buildPlan(flags);
      process.stdout.write(render(p, flags.format, source, useColor(flags), answered));
      finish(p, noAnswer);
    });

  addCommonOptions(program
    .command('drift')
    .description('the fleet at a glance: one line per node, then what drifted (exit codes as fleet plan)'))
    .action(runDrift);
}
