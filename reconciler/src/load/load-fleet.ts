// fleet/ -> Desired. loadFleetFromFiles does all the work on plain data (the
// daemon feeds it the files of a git revision); loadFleet is the thin
// filesystem shell around it.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FleetError } from '../errors.ts';
import type { FleetSettingsDoc, Hardware, ModelCatalogDoc, ModelFacts, NodeDoc, RetiredDoc, RoleDoc, HardwareCatalogDoc } from '../schema/fleet.ts';
import type { DocRef, FleetModel, Location } from '../validate/context.ts';
import { formatDate } from '../validate/dates.ts';
import { countErrors, sortProblems } from '../validate/problem.ts';
import type { Problem } from '../validate/problem.ts';
import { validateFleet } from '../validate/validate-fleet.ts';
import { checkSchema } from './check-schema.ts';
import type { YamlKind } from './check-schema.ts';
import type { Desired } from './desired.ts';
import { normalizeModelRef } from './desired.ts';
import { checkTextFile, DEFAULT_LIMITS, parseYamlFile } from './parse-yaml.ts';
import type { ParseLimits, PathSegment, YamlSource } from './parse-yaml.ts';

export interface FleetFile {
  /** Path as problems should show it, e.g. fleet/nodes/bob.yaml. */
  path: string;
  /** Raw bytes (preferred: binary files are recognised) or text. */
  text: string | Uint8Array;
  /** Real size in bytes when `text` was cut short at the size limit. */
  size?: number;
}

export interface LoadOptions {
  /** The fleet directory's prefix inside the paths: 'fleet' (default) for repository paths, '' for none. */
  root?: string;
  /** YYYY-MM-DD for the name-reuse rule. Default: today (UTC). */
  today?: string;
  /** Stored in Desired.dir (messages only). Default: root. */
  dir?: string;
  limits?: Partial<ParseLimits>;
}

export interface LoadResult {
  /** null when there is any error. */
  desired: Desired | null;
  /** Errors and warnings, sorted by file and position. */
  problems: Problem[];
  /**
   * The fleet as far as it loaded, even with errors, when fleet.yaml and both
   * catalogs did (capacity shows a fleet whose models do not fit); else null.
   */
  partial: Desired | null;
}

const YAML_FILES: Record<string, YamlKind> = {
  'fleet.yaml': 'settings',
  'retired.yaml': 'retired',
  'catalog/hardware.yaml': 'hardware',
  'catalog/models.yaml': 'models',
};
const REQUIRED = ['fleet.yaml', 'catalog/hardware.yaml', 'catalog/models.yaml'];
/** Finder litter on a Mac; never committed, never meaningful. */
const IGNORED = new Set(['.DS_Store']);

type Classified =
  | { kind: YamlKind; stem: string }
  | { kind: 'known_hosts' }
  | { kind: 'ignored' }
  | { kind: 'unknown'; why: string };

function classify(rel: string, knownHostsPath: string): Classified {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (IGNORED.has(base)) return { kind: 'ignored' };
  if (rel === knownHostsPath) return { kind: 'known_hosts' };
  const fixed = YAML_FILES[rel];
  if (fixed) return { kind: fixed, stem: rel };
  const m = /^(nodes|roles)\/([^/]+)$/.exec(rel);
  if (m) {
    const [, dir, file] = m as unknown as [string, string, string];
    if (file.endsWith('.yaml')) return { kind: dir === 'nodes' ? 'node' : 'role', stem: file.slice(0, -'.yaml'.length) };
    if (file.endsWith('.yml')) return { kind: 'unknown', why: `Rename it to ${file.slice(0, -4)}.yaml: fleet files end in .yaml.` };
    return { kind: 'unknown', why: `Only <name>.yaml files belong in ${dir}/.` };
  }
  if (rel.endsWith('.yml')) return { kind: 'unknown', why: 'Fleet files end in .yaml, and this is not one of them.' };
  return {
    kind: 'unknown',
    why: 'fleet/ holds fleet.yaml, retired.yaml, known_hosts, catalog/hardware.yaml, catalog/models.yaml, nodes/<name>.yaml and roles/<name>.yaml only. Move or delete it.',
  };
}

function stripRoot(path: string, root: string): string | null {
  const p = path.replaceAll('\\', '/');
  if (root === '' || root === '.') return p.startsWith('./') ? p.slice(2) : p;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return p.startsWith(prefix) ? p.slice(prefix.length) : null;
}

const KNOWN_HOSTS_LINE = /^(@(cert-authority|revoked) )?[^\s]+ (ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/;

function checkKnownHosts(file: string, text: string): Problem[] {
  const problems: Problem[] = [];
  text.split('\n').forEach((line, i) => {
    if (problems.length >= 20) return;
    const t = line.trim();
    if (t === '' || t.startsWith('#') || KNOWN_HOSTS_LINE.test(line)) return;
    problems.push({ file, line: i + 1, col: 1, severity: 'error', rule: 'known-hosts', message: 'This is not a known_hosts line (`host[,host] key-type base64-key`). Fix it, or copy the line `fleet observe` printed for the node.' });
  });
  return problems;
}

interface Loaded<T> {
  doc: T;
  source: YamlSource;
}

/** Loads the fleet from file contents; pure apart from defaulting `today` to the clock. */
export function loadFleetFromFiles(files: readonly FleetFile[], options: LoadOptions = {}): LoadResult {
  const root = options.root ?? 'fleet';
  const limits: ParseLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const today = options.today ?? formatDate(new Date());
  const problems: Problem[] = [];
  const rootLabel = root === '' || root === '.' ? '' : `${root.replace(/\/$/, '')}/`;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const parseChecked = <T>(file: FleetFile, kind: YamlKind): Loaded<T> | null => {
    const effective = file.size !== undefined && file.size > limits.maxBytes ? new Uint8Array(limits.maxBytes + 1) : file.text;
    const parsed = parseYamlFile(file.path, effective, limits);
    problems.push(...parsed.problems);
    if (!parsed.source) return null;
    const schemaProblems = checkSchema(kind, parsed.source);
    problems.push(...schemaProblems);
    return schemaProblems.length === 0 ? { doc: parsed.source.data as T, source: parsed.source } : null;
  };

  const settingsFile = sorted.find((f) => stripRoot(f.path, root) === 'fleet.yaml');
  const settings = settingsFile ? parseChecked<FleetSettingsDoc>(settingsFile, 'settings') : null;
  // Fixed: a setting in the repository cannot move the pinned host keys.
  const knownHostsPath = 'known_hosts';

  let hardware: Loaded<HardwareCatalogDoc> | null = null;
  let models: Loaded<ModelCatalogDoc> | null = null;
  let retired: Loaded<RetiredDoc> | null = null;
  let retiredBroken = false;
  let knownHosts = '';
  const roles = new Map<string, Loaded<RoleDoc>>();
  const brokenRoles = new Set<string>();
  const nodes: Loaded<NodeDoc>[] = [];
  const present = new Set<string>();

  for (const file of sorted) {
    const rel = stripRoot(file.path, root);
    if (rel === null) {
      problems.push({ file: file.path, line: 1, col: 1, severity: 'error', rule: 'unknown-file', message: `This file is outside the fleet directory ${root}/.` });
      continue;
    }
    present.add(rel);
    if (file === settingsFile) continue;
    const c = classify(rel, knownHostsPath);
    switch (c.kind) {
      case 'ignored':
        break;
      case 'unknown':
        problems.push({ file: file.path, line: 1, col: 1, severity: 'error', rule: 'unknown-file', message: `Unexpected file in ${rootLabel || 'the fleet directory'}. ${c.why}` });
        break;
      case 'known_hosts': {
        const checked = checkTextFile(file.path, file.size !== undefined && file.size > limits.maxBytes ? new Uint8Array(limits.maxBytes + 1) : file.text, limits);
        problems.push(...checked.problems);
        if (checked.text !== null) {
          knownHosts = checked.text;
          problems.push(...checkKnownHosts(file.path, checked.text));
        }
        break;
      }
      case 'settings':
        break; // only fleet.yaml is settings, handled above
      case 'hardware':
        hardware = parseChecked<HardwareCatalogDoc>(file, 'hardware');
        break;
      case 'models':
        models = parseChecked<ModelCatalogDoc>(file, 'models');
        break;
      case 'retired':
        retired = parseChecked<RetiredDoc>(file, 'retired');
        retiredBroken = retired === null;
        break;
      case 'role': {
        const loaded = parseChecked<RoleDoc>(file, 'role');
        if (!loaded) {
          brokenRoles.add(c.stem);
          break;
        }
        if (loaded.doc.name !== c.stem) {
          const pos = loaded.source.locate(['name']);
          problems.push({ file: file.path, line: pos.line, col: pos.col, severity: 'error', rule: 'name-mismatch', message: `The role is named ${loaded.doc.name} but its file is ${c.stem}.yaml. Rename the file to ${loaded.doc.name}.yaml or change name to ${c.stem}.` });
          brokenRoles.add(c.stem);
          break;
        }
        roles.set(loaded.doc.name, loaded);
        break;
      }
      case 'node': {
        const loaded = parseChecked<NodeDoc>(file, 'node');
        if (!loaded) break;
        if (loaded.doc.name !== c.stem) {
          const pos = loaded.source.locate(['name']);
          problems.push({ file: file.path, line: pos.line, col: pos.col, severity: 'error', rule: 'name-mismatch', message: `The node is named ${loaded.doc.name} but its file is ${c.stem}.yaml. A node's file is named after it: rename the file to ${loaded.doc.name}.yaml or change name to ${c.stem}.` });
        }
        nodes.push(loaded);
        break;
      }
    }
  }
  for (const req of REQUIRED) {
    if (!present.has(req)) problems.push({ file: `${rootLabel}${req}`, line: 1, col: 1, severity: 'error', rule: 'missing-file', message: `${rootLabel}${req} is missing. Every fleet needs it; see the README's tour of fleet/.` });
  }

  // The model catalog keyed by normalised reference, remembering the key as written.
  let modelMap: Record<string, ModelFacts> | null = null;
  const modelKeys = new Map<string, string>();
  if (models) {
    modelMap = {};
    for (const [key, facts] of Object.entries(models.doc.models)) {
      const norm = normalizeModelRef(key);
      const previous = modelKeys.get(norm);
      if (previous !== undefined) {
        const pos = models.source.locate(['models', key], 'key');
        problems.push({ file: models.source.file, line: pos.line, col: pos.col, severity: 'error', rule: 'duplicate-model', message: `${key} and ${previous} are the same model (a missing tag means :latest). Keep one entry.` });
        continue;
      }
      modelKeys.set(norm, key);
      modelMap[norm] = facts;
    }
  }

  const nodeSources = new Map<NodeDoc, YamlSource>(nodes.map((n) => [n.doc, n.source]));
  const sourceOf = (ref: DocRef): YamlSource | undefined => {
    switch (ref.kind) {
      case 'settings': return settings?.source;
      case 'hardware': return hardware?.source;
      case 'models': return models?.source;
      case 'retired': return retired?.source;
      case 'role': return roles.get(ref.name)?.source;
      case 'node': return nodeSources.get(ref.node);
    }
  };
  const locate = (ref: DocRef, path: readonly PathSegment[], at: 'key' | 'value' = 'value'): Location => {
    const source = sourceOf(ref);
    if (!source) return { file: `${rootLabel}${ref.kind === 'node' ? `nodes/${ref.node.name}.yaml` : ref.kind}`, line: 1, col: 1 };
    const p = ref.kind === 'models' && path[0] === 'models' && typeof path[1] === 'string' ? ['models', modelKeys.get(path[1]) ?? path[1], ...path.slice(2)] : path;
    return { file: source.file, ...source.locate(p, at) };
  };

  const nodeDocs = nodes.map((n) => n.doc).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const roleDocs: Record<string, RoleDoc> = {};
  for (const [name, r] of roles) roleDocs[name] = r.doc;
  const hardwareMap: Record<string, Hardware> | null = hardware ? hardware.doc.hardware : null;
  const model: FleetModel = {
    settings: settings?.doc ?? null,
    roles: roleDocs,
    hardware: hardwareMap,
    models: modelMap,
    nodes: nodeDocs,
    retired: retired?.doc.retired ?? [],
  };
  problems.push(...validateFleet(model, { today, locate, brokenRoles }));

  const partial: Desired | null = settings && hardwareMap && modelMap && !retiredBroken
    ? { dir: options.dir ?? root, settings: settings.doc, roles: roleDocs, hardware: hardwareMap, models: modelMap, nodes: nodeDocs, retired: model.retired, knownHosts }
    : null;
  const all = sortProblems(problems);
  return { desired: countErrors(all) === 0 ? partial : null, problems: all, partial };
}

export interface ReadFleetResult {
  files: FleetFile[];
  /** The prefix the paths carry (relative to cwd when inside it). */
  root: string;
  /** Symlinks, unreadable entries, directories that do not belong. */
  problems: Problem[];
}

const MAX_FILES = 20_000;

/** The first `max` bytes of a file and its real size (one open, one stat, one read). */
function readCapped(path: string, max: number): { bytes: Uint8Array; size: number } {
  // O_NOFOLLOW: a file swapped for a link after the directory was listed is refused too.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    const want = Math.min(size, max);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    return { bytes: buf.subarray(0, got), size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads every file under `dir` (not following symlinks), each cut at the size
 * limit. Synchronous inside: a thousand small files read faster that way
 * than through a thousand promises.
 */
export function readFleetFiles(dir: string, options: { cwd?: string; maxBytes?: number } = {}): Promise<ReadFleetResult> {
  return Promise.resolve().then(() => readFleetFilesNow(dir, options));
}

function readFleetFilesNow(dir: string, options: { cwd?: string; maxBytes?: number }): ReadFleetResult {
  const cwd = options.cwd ?? process.cwd();
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const abs = resolve(cwd, dir);
  let info;
  try {
    // lstat: a fleet directory that is a symbolic link (to /etc, say) is refused, never followed.
    info = lstatSync(abs);
  } catch {
    throw new FleetError('not-found', `${dir}: no such directory (the fleet directory holds fleet.yaml, nodes/, roles/ and catalog/). Run fleet inside the repository's checkout (it finds the root from any directory in it, as git does), or give --fleet DIR.`);
  }
  if (info.isSymbolicLink()) throw new FleetError('invalid-input', `${dir} is a symbolic link; the fleet directory is read only as a real directory (a link could point Bob at any of its files). Replace the link with the directory itself.`);
  if (!info.isDirectory()) throw new FleetError('invalid-input', `${dir} is not a directory`);
  const rel = relative(cwd, abs);
  const root = (rel === '' ? '' : rel.startsWith('..') || isAbsolute(rel) ? abs : rel).split(sep).join('/');
  const display = (p: string): string => (root === '' ? p : `${root}/${p}`);
  const problems: Problem[] = [];
  const files: FleetFile[] = [];
  const allowedDirs = new Set(['nodes', 'roles', 'catalog']);

  const walk = (relDir: string): void => {
    const entries = readdirSync(join(abs, relDir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const relPath = relDir === '' ? e.name : `${relDir}/${e.name}`;
      if (e.isSymbolicLink()) {
        problems.push({ file: display(relPath), line: 1, col: 1, severity: 'error', rule: 'unknown-file', message: 'Symbolic links are not followed in the fleet directory. Replace it with the file itself.' });
      } else if (e.isDirectory()) {
        if (relDir === '' && allowedDirs.has(e.name)) walk(relPath);
        else if (e.name !== '.git') problems.push({ file: display(relPath), line: 1, col: 1, severity: 'error', rule: 'unknown-file', message: 'Unexpected directory. The fleet directory has only nodes/, roles/ and catalog/ as subdirectories. Move or delete it.' });
      } else if (e.isFile()) {
        if (files.length >= MAX_FILES) throw new FleetError('invalid-input', `${dir} holds more than ${MAX_FILES} files; is it really a fleet directory?`);
        const { bytes, size } = readCapped(join(abs, relPath), maxBytes + 1);
        files.push({ path: display(relPath), text: bytes, ...(size > maxBytes ? { size } : {}) });
      } else {
        problems.push({ file: display(relPath), line: 1, col: 1, severity: 'error', rule: 'unknown-file', message: 'Not a regular file. Remove it.' });
      }
    }
  };
  walk('');
  return { files, root, problems };
}

/** Reads and validates the fleet directory `dir`; problems name files relative to cwd. */
export async function loadFleet(dir: string, options: { today?: string; cwd?: string; limits?: Partial<ParseLimits> } = {}): Promise<LoadResult> {
  const read = await readFleetFiles(dir, { ...(options.cwd !== undefined ? { cwd: options.cwd } : {}), ...(options.limits?.maxBytes !== undefined ? { maxBytes: options.limits.maxBytes } : {}) });
  const result = loadFleetFromFiles(read.files, {
    root: read.root,
    dir,
    ...(options.today !== undefined ? { today: options.today } : {}),
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
  });
  if (read.problems.length === 0) return result;
  const problems = sortProblems([...read.problems, ...result.problems]);
  return { desired: null, problems, partial: result.partial };
}
