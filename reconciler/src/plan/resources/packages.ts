// The role's formulae and casks. Packages seen under another Homebrew prefix
// do not count. Removal touches only packages some role installs (never other
// software on the Mac), and only with prune.
import { BREW_SERVICE } from '../../model/mac-layout.ts';
import { emptyResourcePlan, planned, type NodeContext, type ResourcePlan } from './node-context.ts';

type PackageKind = 'formula' | 'cask';

export interface PackagesPlan extends ResourcePlan {
  /** `formula/ollama` -> the id of the step that installs it. */
  installIds: ReadonlyMap<string, string>;
  /** The step that installs the ollama formula, when it is missing. */
  ollamaId: string | undefined;
}

/** The role's packages under the node's prefix (others' count for nothing). */
function installedOf(ctx: NodeContext): Record<PackageKind, Record<string, unknown>> {
  const { facts } = ctx;
  const here = facts.brew.prefix === ctx.files.brewPrefix;
  return { formula: here ? facts.brew.formulae : {}, cask: here ? facts.brew.casks : {} };
}

function field(kind: PackageKind, name: string): string {
  return `brew.${kind === 'formula' ? 'formulae' : 'casks'}.${name}`;
}

export function planPackages(ctx: NodeContext, deps: { homebrew: string | undefined }): PackagesPlan {
  const { node } = ctx;
  const out = emptyResourcePlan();
  const installed = installedOf(ctx);
  const installIds = new Map<string, string>();
  for (const [kind, names] of [['formula', node.role.software.formulae], ['cask', node.role.software.casks]] as const) {
    for (const name of [...names].sort()) {
      if (installed[kind][name] !== undefined) continue;
      const id = `${node.name}/install-package/${kind}/${name}`;
      out.differences.push({ field: field(kind, name), desired: 'installed', observed: null });
      out.steps.push({ kind: 'install-package', id, node: node.name, package: kind, name, why: `${kind} ${name} is not installed`, after: planned(deps.homebrew) });
      installIds.set(`${kind}/${name}`, id);
    }
  }
  return { ...out, installIds, ollamaId: installIds.get(`formula/${BREW_SERVICE}`) };
}

/** Packages some role installs that this node's role does not use; after the agent and models that may need them are gone. */
export function planPackageRemovals(ctx: NodeContext, deps: { after: readonly string[] }): ResourcePlan {
  const { desired, node, options } = ctx;
  const role = node.role;
  const out = emptyResourcePlan();
  const installed = installedOf(ctx);
  const managed: Record<PackageKind, Set<string>> = {
    formula: new Set(Object.values(desired.roles).flatMap((r) => r.software.formulae)),
    cask: new Set(Object.values(desired.roles).flatMap((r) => r.software.casks)),
  };
  for (const [kind, wanted] of [['formula', role.software.formulae], ['cask', role.software.casks]] as const) {
    for (const name of Object.keys(installed[kind]).filter((p) => managed[kind].has(p) && !wanted.includes(p)).sort()) {
      if (!options.prune) {
        out.notes.push(`${kind} ${name} is installed but the role ${role.name} does not need it; kept (prune is off)`);
        continue;
      }
      out.differences.push({ field: field(kind, name), desired: null, observed: 'installed' });
      out.steps.push({ kind: 'uninstall-package', id: `${node.name}/uninstall-package/${kind}/${name}`, node: node.name, package: kind, name, why: `${kind} ${name} is not used by the role ${role.name} (prune is on)`, after: [...deps.after] });
    }
  }
  return out;
}
