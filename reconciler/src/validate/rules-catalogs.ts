// Rules inside the role files and the catalogs.
import type { RuleContext } from './context.ts';

export function checkRoles(ctx: RuleContext): void {
  for (const [name, role] of Object.entries(ctx.fleet.roles)) {
    const ref = { kind: 'role', name } as const;
    if (!role.services.ollama && role.models.length > 0) {
      ctx.error(ref, ['models'], 'models-without-ollama', `Role ${name} does not run Ollama (services.ollama false) but lists base models. Empty the list, or turn Ollama on.`, 'key');
    }
  }
}

export function checkHardwareCatalog(ctx: RuleContext): void {
  for (const [id, hw] of Object.entries(ctx.fleet.hardware ?? {})) {
    if (hw.metal && hw.architecture !== 'arm64') {
      ctx.error({ kind: 'hardware' }, ['hardware', id, 'metal'], 'hardware-metal', `${id} is ${hw.architecture} but says metal: true; Ollama uses Metal only on Apple Silicon (arm64). Set metal: false for Intel Macs.`);
    }
  }
}
