// `fleet apply` for a person: load the fleet (refused when invalid), show the
// plan, ask, run reconcile with progress bars, then say per node what
// converged. The sequence itself is reconcile/'s; this file only renders and
// confirms.
import type { OllamaLike, NodeApplyResult } from '../apply/context.ts';
import { createProgress } from '../apply/progress.ts';
import type { BobConfig } from '../bob/bob-config.ts';
import type { NodeSecretStore } from '../bob/node-secrets.ts';
import { FleetError } from '../errors.ts';
import type { Plan } from '../model/steps.ts';
import type { ConnectionGuard } from '../net/guard.ts';
import { renderText } from '../plan/render-text.ts';
import { printable, summarizePlan } from '../plan/summarize-plan.ts';
import { createContext } from '../reconcile/context.ts';
import { isConverged, judgeOutcome, type ReconcileOutcome } from '../reconcile/outcome.ts';
import { reconcile, type ReconcilePhase, type ReconcileResult } from '../reconcile/reconcile.ts';
import type { ObservedNode } from '../schema/observed.ts';
import { answeredAddresses } from './commands/plan.ts';
import { loadValidFleet } from './commands/observe.ts';

export interface ApplyFleetOptions {
  fleetDir: string;
  nodes?: string[];
  targetsFile?: string;
  yes: boolean;
  prune: boolean;
  dryRun: boolean;
  /** Where generated/*.json go. */
  generatedDir: string;
  today: string;
  /** stdout is a terminal: colours, progress bars, and a confirmation prompt. */
  tty: boolean;
  /** Colour the plan (default: tty); --no-color. */
  color?: boolean;
  /** Terminal width for the progress bars. */
  columns?: number;
  write: (text: string) => void;
  /** Asks a person; only called on a TTY without --yes. */
  confirm: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
  /** The last observation (generated/observed.json): nodes not observed now keep theirs in the generated files. */
  previousObserved?: readonly ObservedNode[];
  /** Bob's home, settings and keys (tests); default: read from this machine. */
  bobHome?: string;
  bobConfig?: BobConfig;
  secrets?: NodeSecretStore;
  createOllama?: (host: string, guard: ConnectionGuard) => OllamaLike;
  backoffBaseMs?: number;
  onPhase?: (phase: ReconcilePhase, atMs: number) => void | Promise<void>;
}

export type ApplyFleetResult = ReconcileResult & ReconcileOutcome & { exitCode: 0 | 1 | 2 };

/** The confirmation question counts what the plan's header line counts. */
function question(plan: Plan): string {
  const { steps, manual_steps: manual } = summarizePlan(plan);
  const nodes = plan.nodes.filter((np) => np.steps.length > 0).length;
  const where = `${nodes} node${nodes === 1 ? '' : 's'}${plan.fleet.length > 0 ? ' and Bob' : ''}`;
  return `Apply the ${steps} step${steps === 1 ? '' : 's'} above on ${where}${manual > 0 ? ` (${manual} of them for a person: shown, not run)` : ''}? [y/N] `;
}

function describeNode(r: NodeApplyResult, after: Plan): string[] {
  const np = after.nodes.find((n) => n.node === r.node);
  if (np?.status === 'away') return [`  ${r.node}: away (roaming; nothing to do until it is back)`];
  const converged = isConverged(after, r.node);
  const lines = [converged ? `  ${r.node}: converged` : `  ${r.node}: NOT converged (${printable(r.message ?? np?.summary ?? r.status)})`];
  for (const s of r.steps) {
    if (s.status === 'failed') lines.push(`      failed ${s.id}: ${printable(s.message)}`);
    if (s.status === 'manual') {
      lines.push(`      needs a person (${s.reason}) ${s.id}:`);
      for (const i of s.instructions) lines.push(`        ${printable(i)}`);
    }
  }
  if (!converged && np) {
    for (const s of np.steps) if (s.kind === 'manual' && !r.steps.some((x) => x.id === s.id)) lines.push(`      needs a person (${s.reason}): ${printable(s.instructions[0] ?? s.why)}`);
  }
  return lines;
}

/** What a person reads after an apply: one block per node, then one line for the fleet. */
export function renderApplyResult(result: ReconcileResult, outcome: ReconcileOutcome, generatedDir: string): string {
  const after = result.after ?? result.plan;
  const lines = ['', result.interrupted ? 'fleet apply: interrupted; run it again to finish (every step is safe to repeat)' : 'fleet apply: result'];
  for (const np of after.nodes) {
    lines.push(...describeNode(result.applied?.nodes.find((x) => x.node === np.node) ?? { node: np.node, status: 'converged', steps: [] }, after));
  }
  for (const f of outcome.bobFailed) lines.push(`  bob: failed ${f.id}: ${printable(f.message)}`);
  lines.push(`generated files: ${generatedDir}/nodes_registry.json, ${generatedDir}/openclaw_workers.json`);
  const { converged, away } = outcome;
  const awayNote = away.length > 0 ? `; ${away.join(', ')} away (roaming), converged when back` : '';
  const present = after.nodes.length - away.length;
  lines.push(outcome.complete
    ? `Converged: ${converged.length} node${converged.length === 1 ? '' : 's'} match fleet/${awayNote}.`
    : `Partly converged: ${converged.length} of ${present} node${present === 1 ? '' : 's'} match fleet/${awayNote}.`);
  return `${lines.join('\n')}\n`;
}

export async function applyFleet(options: ApplyFleetOptions): Promise<ApplyFleetResult> {
  const desired = await loadValidFleet(options.fleetDir, options.today);
  const shown = createProgress({ write: options.write, tty: options.tty, columns: options.columns ?? 100 });
  const ctx = await createContext({
    generatedDir: options.generatedDir,
    progress: shown,
    ...(options.targetsFile !== undefined ? { targetsFile: options.targetsFile } : {}),
    ...(options.bobHome !== undefined ? { bobHome: options.bobHome } : {}),
    ...(options.bobConfig !== undefined ? { bobConfig: options.bobConfig } : {}),
    ...(options.secrets !== undefined ? { secrets: options.secrets } : {}),
    ...(options.createOllama !== undefined ? { createOllama: options.createOllama } : {}),
    ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
  });
  let result: ReconcileResult;
  try {
    result = await reconcile(ctx, {
      desired,
      ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
      prune: options.prune,
      today: options.today,
      dryRun: options.dryRun,
      refuseWhenNoneAnswer: true,
      ...(options.previousObserved !== undefined ? { previousObserved: options.previousObserved } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.onPhase !== undefined ? { onPhase: options.onPhase } : {}),
      onPlan: (plan, observed) => options.write(renderText(plan, { color: options.color ?? options.tty, answered: answeredAddresses(observed) })),
      approve: async (plan) => {
        if (options.yes) return true;
        if (!options.tty) {
          throw new FleetError('invalid-input', 'refusing to change nodes without confirmation: stdin is not a terminal. Review the plan above and run again with --yes (or --dry-run to only plan).');
        }
        if (await options.confirm(question(plan))) return true;
        options.write('Nothing was changed.\n');
        return false;
      },
    });
  } finally {
    shown.close();
  }
  const outcome = judgeOutcome(result);
  if (result.outcome === 'applied') options.write(renderApplyResult(result, outcome, options.generatedDir));
  return { ...result, ...outcome };
}
