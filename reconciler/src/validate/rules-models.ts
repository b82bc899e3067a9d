// Every model a fleet file names must be in the model catalog, or its memory
// need is unknown. One error per unknown name, where it is first named, with
// the other places listed: a typo copied to five files is one mistake, and a
// catalog entry with a typo in its key is one mistake too.
import { normalizeModelRef } from '../load/desired.ts';
import { closestWord } from './closest-word.ts';
import { nodeRef } from './context.ts';
import type { DocRef, RuleContext } from './context.ts';
import { quoteValue } from './problem.ts';

interface ModelMention {
  doc: DocRef;
  path: (string | number)[];
  written: string;
  /** Whose model it is, for the message: "Base model", "Model", "Routing rule x prefers model". */
  what: string;
}

export function checkModelReferences(ctx: RuleContext): void {
  const catalog = ctx.fleet.models;
  if (!catalog) return;
  const mentions: ModelMention[] = [];
  for (const name of Object.keys(ctx.fleet.roles).sort()) {
    ctx.fleet.roles[name]?.models.forEach((m, i) => mentions.push({ doc: { kind: 'role', name }, path: ['models', i], written: m, what: 'Base model' }));
  }
  for (const node of ctx.fleet.nodes) {
    (node.models ?? []).forEach((m, i) => mentions.push({ doc: nodeRef(node), path: ['models', i], written: m, what: 'Model' }));
  }
  ctx.fleet.settings?.openclaw.routing_rules.forEach((rule, r) => {
    if (typeof rule.model_preference === 'string') {
      mentions.push({ doc: { kind: 'settings' }, path: ['openclaw', 'routing_rules', r, 'model_preference'], written: rule.model_preference, what: `Routing rule ${rule.rule_id} prefers model` });
    }
  });
  const byModel = new Map<string, ModelMention[]>();
  for (const m of mentions) {
    const key = normalizeModelRef(m.written);
    if (catalog[key]) continue;
    const list = byModel.get(key) ?? [];
    list.push(m);
    byModel.set(key, list);
  }
  const known = Object.keys(catalog);
  for (const [key, list] of byModel) {
    const [first, ...rest] = list as [ModelMention, ...ModelMention[]];
    const guess = closestWord(key, known);
    const also = rest.length > 0 ? ` It is also named at ${rest.map((m) => ctx.where(m.doc, m.path)).join(', ')}.` : '';
    ctx.error(first.doc, first.path, 'unknown-model', `${first.what} ${quoteValue(first.written)} is not in fleet/catalog/models.yaml, so its memory need is unknown.${also} ${guess ? `Did you mean "${guess}"? ` : ''}Add its facts with \`fleet catalog add-model ${key} --from NODE\` (or by hand: size, layers, KV heads, head dim, context), or pick a listed model.`);
  }
}
