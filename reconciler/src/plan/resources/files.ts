// The managed directories and files (ollama.env, the launchd plist, the
// heartbeat script, the self-registration payload...). A file is written when
// its sha256 differs from the desired content; a directory is made when it is
// missing.
import type { ManagedFileId, ObservedFacts } from '../../schema/observed.ts';
import { MANAGED_FILES } from '../../schema/observed.ts';
import { MANAGED_PATHS, managedDirs } from '../../model/mac-layout.ts';
import { renderDesiredFiles, wantedFiles, type DesiredFile } from '../desired-files.ts';
import { emptyResourcePlan, planned, quoteOrNotSet, type NodeContext, type ResourcePlan } from './node-context.ts';

export interface FilesPlan extends ResourcePlan {
  /** The step that makes the missing directories, when any is missing. */
  dirsId: string | undefined;
  /** The write-file step of each file that changes. */
  writeIds: Partial<Record<ManagedFileId, string>>;
}

export function planFiles(ctx: NodeContext): FilesPlan {
  const { node, facts } = ctx;
  const n = node.name;
  const home = ctx.files.home;
  const out = emptyResourcePlan();
  const missingDirs = managedDirs(node.role.services.ollama).filter((rel) => !dirExists(facts, home, rel));
  let dirsId: string | undefined;
  if (missingDirs.length > 0) {
    for (const rel of missingDirs) out.differences.push({ field: `dirs.~/${rel}`, desired: 'present', observed: null });
    dirsId = `${n}/make-dirs`;
    out.steps.push({ kind: 'make-dirs', id: dirsId, node: n, paths: missingDirs.map((rel) => `${home}/${rel}`), why: `missing: ${missingDirs.map((rel) => `~/${rel}`).join(', ')}`, after: [] });
  }
  const writeIds: Partial<Record<ManagedFileId, string>> = {};
  for (const f of renderDesiredFiles(ctx.files)) {
    const seen = facts.files[f.file];
    if (seen !== null && seen.sha256 === f.sha256) continue;
    out.differences.push({ field: `files.${f.file}`, desired: `sha256:${f.sha256.slice(0, 12)}`, observed: seen === null ? null : `sha256:${seen.sha256.slice(0, 12)}` });
    const id = `${n}/write-file/${f.file}`;
    writeIds[f.file] = id;
    out.steps.push({ kind: 'write-file', id, node: n, file: f.file, path: f.path, content: f.content, mode: f.mode, why: fileWhy(f, seen?.content, seen === null), after: planned(dirsId) });
  }
  const wanted = new Set(wantedFiles(node));
  for (const f of MANAGED_FILES) {
    if (!wanted.has(f) && facts.files[f] !== null) out.notes.push(`~/${MANAGED_PATHS[f]} is present but the role ${node.role.name} does not use it (left as is)`);
  }
  return { ...out, dirsId, writeIds };
}

function dirExists(facts: ObservedFacts, home: string, rel: string): boolean {
  const dirs = facts.dirs ?? {};
  const seen = dirs[`${home}/${rel}`] ?? dirs[`~/${rel}`] ?? dirs[rel];
  if (seen !== undefined) return seen;
  // Not probed: a managed file inside it proves it exists.
  return MANAGED_FILES.some((f) => facts.files[f] !== null && MANAGED_PATHS[f].startsWith(`${rel}/`));
}

function fileWhy(f: DesiredFile, content: string | undefined, missing: boolean): string {
  const where = `~/${MANAGED_PATHS[f.file]}`;
  if (missing) return `${where} is missing`;
  const diff = firstDifference(content, f.content);
  return diff === undefined ? `${where} differs from the desired content` : `${where} differs, ${diff}`;
}

/** "line 3: OLLAMA_HOST=127.0.0.1 (want OLLAMA_HOST=0.0.0.0)" when the node sent the content. */
function firstDifference(have: string | undefined, want: string): string | undefined {
  if (have === undefined) return undefined;
  const a = have.split('\n');
  const b = want.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: ${quoteOrNotSet(a[i] ?? null)} (want ${quoteOrNotSet(b[i] ?? null)})`;
  }
  return undefined;
}
