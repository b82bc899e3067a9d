// Rules inside the role files and the catalogs.
import { normalizeModelRef } from '../load/desired.ts';
import { closestWord } from './closest-word.ts';
import type { RuleContext } from './context.ts';
import { quoteValue } from './problem.ts';

export function checkRoles(ctx: RuleContext): void {
  const models = ctx.fleet.models;
  for (const [name, role] of Object.entries(ctx.fleet.roles)) {
    const ref = { kind: 'role', name } as const;
    if (!role.services.ollama && role.models.length > 0) {
      ctx.error(ref, ['models'], 'models-without-ollama', `Role ${name} does not run Ollama (services.ollama false) but lists base models. Empty the list, or turn Ollama on.`, 'key');
    }
    if (!models) continue;
    role.models.forEach((m, i) => {
      if (models[normalizeModelRef(m)]) return;
      const guess = closestWord(normalizeModelRef(m), Object.keys(models));
      ctx.error(ref, ['models', i], 'unknown-model', `Base model ${quoteValue(m)} is not in fleet/catalog/models.yaml. ${guess ? `Did you mean "${guess}"? ` : ''}Add its facts to the catalog or pick a listed model.`);
    });
  }
}

export function checkHardwareCatalog(ctx: RuleContext): void {
  for (const [id, hw] of Object.entries(ctx.fleet.hardware ?? {})) {
    if (hw.metal && hw.architecture !== 'arm64') {
      ctx.error({ kind: 'hardware' }, ['hardware', id, 'metal'], 'hardware-metal', `${id} is ${hw.architecture} but says metal: true; Ollama uses Metal only on Apple Silicon (arm64). Set metal: false for Intel Macs.`);
    }
  }
}
