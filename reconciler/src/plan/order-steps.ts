// The one place that decides the order of a node's steps: a stable
// topological order where, among the steps whose dependencies are done, the
// kind earliest in KIND_ORDER goes first, then the one planned first. Same
// steps in, same order out. The executor runs this order as given.
import type { Step, StepKind } from '../model/steps.ts';

/** Steps of a lower number run first when both could. */
export const KIND_ORDER: Readonly<Record<StepKind, number>> = {
  'manual': 0,
  'set-hostname': 1,
  'install-homebrew': 2,
  'install-package': 3,
  'make-dirs': 4,
  'write-file': 5,
  'install-secret': 5,
  'stop-brew-service': 6,
  'remove-model': 7,
  'unload-agent': 8,
  'uninstall-package': 9,
  'load-agent': 10,
  'restart-agent': 11,
  'pull-model': 12,
  'copy-model': 12,
  'set-crontab': 13,
  'register': 14,
  'write-generated': 15,
  'reload-openclaw': 16,
};

/** Manual steps that unblock others come first; the HARPA setup, which nothing waits for, comes last. */
function rankOf(step: Step): number {
  if (step.kind !== 'manual') return KIND_ORDER[step.kind];
  if (step.reason === 'harpa-setup') return 99;
  if (step.reason === 'disk-space') return KIND_ORDER['pull-model'];
  return KIND_ORDER.manual;
}

export function orderSteps(steps: readonly Step[]): Step[] {
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) throw new Error(`orderSteps: duplicate step id ${s.id}`);
    ids.add(s.id);
  }
  for (const s of steps) {
    for (const a of s.after) if (!ids.has(a)) throw new Error(`orderSteps: ${s.id} waits for unknown step ${a}`);
  }
  const done = new Set<string>();
  const pending = steps.map((s, index) => ({ s, index }));
  const out: Step[] = [];
  while (pending.length > 0) {
    let best = -1;
    for (let i = 0; i < pending.length; i++) {
      const c = pending[i];
      if (c === undefined || !c.s.after.every((a) => done.has(a))) continue;
      const b = best === -1 ? undefined : pending[best];
      if (b === undefined || rankOf(c.s) < rankOf(b.s) || (rankOf(c.s) === rankOf(b.s) && c.index < b.index)) best = i;
    }
    if (best === -1) throw new Error(`orderSteps: dependency cycle among ${pending.map((p) => p.s.id).join(', ')}`);
    const [picked] = pending.splice(best, 1);
    if (picked === undefined) break;
    done.add(picked.s.id);
    out.push(picked.s);
  }
  // `after` lists follow the plan order, without duplicates.
  const position = new Map(out.map((s, i) => [s.id, i]));
  return out.map((s) => ({ ...s, after: [...new Set(s.after)].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0)) }));
}
