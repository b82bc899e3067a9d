// Schema validation of one parsed fleet file, with ajv errors turned into
// problems at the right line and column and worded for a person.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type Ajv2020Module from 'ajv/dist/2020.js';
import type StandaloneModule from 'ajv/dist/standalone/index.js';
import { ADDRESS, BREW_NAME, DATE, HW_ID, IPV4, MODEL_REF, NODE_NAME, ONE_LINE, ROLE_NAME, WORKER_ID } from '../schema/common.ts';
import { fleetSettingsSchema, hardwareCatalogSchema, modelCatalogSchema, nodeSchema, retiredSchema, roleSchema } from '../schema/fleet.ts';
import { closestWord } from '../validate/closest-word.ts';
import { quoteValue } from '../validate/problem.ts';
import type { Problem } from '../validate/problem.ts';
import type { PathSegment, YamlSource } from './parse-yaml.ts';

export type YamlKind = 'settings' | 'node' | 'role' | 'hardware' | 'models' | 'retired';

const SCHEMAS = {
  settings: fleetSettingsSchema,
  node: nodeSchema,
  role: roleSchema,
  hardware: hardwareCatalogSchema,
  models: modelCatalogSchema,
  retired: retiredSchema,
} as const;

// Compiling is the slow part (~0.1 s), and the validators are pure, so they
// are compiled once per process and, as ajv standalone code, cached on disk
// keyed by a hash of the schemas, ajv's version and the options: later runs
// load the code instead of compiling it.
const OPTIONS = { allErrors: true, useDefaults: true, strict: true } as const;
const KINDS = Object.keys(SCHEMAS) as YamlKind[];
const requireHere = createRequire(import.meta.url);
const DEFAULT_CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'node_modules', '.cache', 'symphony-fleet');

type Validators = Record<YamlKind, ValidateFunction>;
let validators: Validators | undefined;

function cacheKey(): string {
  const version = (requireHere('ajv/package.json') as { version: string }).version;
  return createHash('sha256').update(JSON.stringify([version, OPTIONS, SCHEMAS])).digest('hex').slice(0, 16);
}

function isValidators(value: unknown): value is Validators {
  return typeof value === 'object' && value !== null && KINDS.every((k) => typeof (value as Record<string, unknown>)[k] === 'function');
}

/**
 * The compiled validators: from `cacheDir` when a cached copy exists,
 * otherwise compiled now (and cached, best effort). null: no disk cache.
 */
export function createValidators(cacheDir: string | null = DEFAULT_CACHE_DIR): Validators {
  const file = cacheDir === null ? null : join(cacheDir, `fleet-validators-${cacheKey()}.cjs`);
  if (file !== null && existsSync(file)) {
    try {
      const cached: unknown = requireHere(file);
      if (isValidators(cached)) return cached;
    } catch {
      // A damaged cache file: compile instead.
    }
  }
  // ajv itself is loaded only when there is something to compile.
  const { Ajv2020 } = requireHere('ajv/dist/2020.js') as typeof Ajv2020Module;
  const ajv = new Ajv2020({ ...OPTIONS, code: { source: true } });
  const compiled = {} as Validators;
  for (const kind of KINDS) compiled[kind] = ajv.compile(SCHEMAS[kind]);
  if (file !== null) {
    try {
      const standaloneCode = (requireHere('ajv/dist/standalone/index.js') as typeof StandaloneModule).default;
      const code = standaloneCode(ajv, Object.fromEntries(KINDS.map((k) => [k, SCHEMAS[k].$id])));
      mkdirSync(dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, code);
      renameSync(temp, file);
    } catch {
      // A read-only checkout just compiles every time.
    }
  }
  return compiled;
}

function validatorFor(kind: YamlKind): ValidateFunction {
  validators ??= createValidators();
  return validators[kind];
}

const PATTERN_WORDS: Record<string, string> = {
  [NODE_NAME]: 'a lowercase hostname: a letter, then up to 62 lowercase letters, digits or "-" (e.g. virtuoso)',
  [MODEL_REF]: 'an Ollama model reference: lowercase letters, digits, ".", "_" or "-", with an optional :tag (e.g. llama3.1:8b)',
  [ADDRESS]: 'a hostname (e.g. maestro.local) or an IPv4 address written as four decimal numbers without leading zeros (e.g. 192.168.1.20), lowercase; forms like 3232235796 or 0300.0250.1.20 name the same machine in disguise',
  [IPV4]: 'an IPv4 address written as four decimal numbers without leading zeros, such as 192.168.1.10',
  [DATE]: 'a date written YYYY-MM-DD',
  [HW_ID]: 'a hardware id: lowercase letters, digits and "-" (e.g. mac-mini-m4-24gb)',
  // ROLE_NAME and TASK_TYPE are the same pattern.
  [ROLE_NAME]: 'a name of lowercase letters, digits and "_" starting with a letter (e.g. llm_worker, summarize)',
  [WORKER_ID]: 'a worker id: lowercase letters, digits and "_" (e.g. maestro_ollama)',
  [BREW_NAME]: 'a Homebrew formula or cask name',
  [ONE_LINE]: 'one line of text without control characters (no newlines or tabs, no U+0085, U+2028 or U+2029 line breaks, no bidirectional controls such as U+202E)',
};

function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pathLabel(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number' || /^[0-9]+$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? 'the file' : out;
}

function propertyDescription(parentSchema: unknown, key: string): string | undefined {
  const props = (parentSchema as { properties?: Record<string, { description?: string }> } | undefined)?.properties;
  return props?.[key]?.description;
}

/** The value at a JSON pointer (instancePath) in the data. */
function dataAt(root: unknown, pointer: string): unknown {
  let v = root;
  for (const seg of pointerToPath(pointer)) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/** The schema object holding the failed keyword: schemaPath minus its last segment. */
function parentSchemaOf(root: object, schemaPath: string): Record<string, unknown> | undefined {
  const segs = pointerToPath(schemaPath.replace(/^#/, '')).slice(0, -1);
  let v: unknown = root;
  for (const seg of segs) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

function describeError(err: ErrorObject, rootSchema: object, rootData: unknown): { path: PathSegment[]; at: 'key' | 'value'; message: string } {
  const path: PathSegment[] = pointerToPath(err.instancePath);
  const label = pathLabel(path);
  const data: unknown = dataAt(rootData, err.instancePath);
  const parentSchema = parentSchemaOf(rootSchema, err.schemaPath);
  const schema = parentSchema as { description?: string; type?: unknown } | undefined;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const what = propertyDescription(parentSchema, missing);
      return { path, at: 'key', message: `${label === 'the file' ? 'The file' : label} is missing "${missing}". Add it${what ? `: ${what}` : '.'}` };
    }
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closestWord(extra, allowed);
      const where = label === 'the file' ? 'at the top level' : `in ${label}`;
      return {
        path: [...path, extra], at: 'key',
        message: `Unknown key ${quoteValue(extra)} ${where}. ${guess ? `Did you mean "${guess}"? ` : ''}Allowed: ${allowed.join(', ')}.`,
      };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      return { path: [...path, name], at: 'key', message: `The key ${quoteValue(name)} in ${label} is not a valid name. Rename it.` };
    }
    case 'pattern': {
      const words = PATTERN_WORDS[String(params.pattern)];
      const lower = typeof data === 'string' ? data.toLowerCase() : '';
      const fix = lower !== data && new RegExp(String(params.pattern)).test(lower) ? `Write it in lowercase: "${lower}".` : 'Change it.';
      if (!words) {
        const desc = schema?.description ? ` ${schema.description}` : '';
        return { path, at: 'value', message: `${label} is ${quoteValue(data)}, which is not allowed here.${desc} ${fix}` };
      }
      return { path, at: 'value', message: `${label} is ${quoteValue(data)}, which is not ${words}. ${fix}` };
    }
    case 'type': {
      const want = String(params.type);
      let hint = '';
      if (want.includes('string') && (typeof data === 'number' || typeof data === 'boolean' || data === null)) hint = ' YAML read it as a ' + (data === null ? 'null' : typeof data) + ': put it in quotes.';
      else if (want === 'boolean' && typeof data === 'string') hint = ' Write true or false (YAML 1.2 reads yes/no/on/off as text).';
      else if (want === 'integer' && typeof data === 'number') hint = ' Use a whole number.';
      const desc = schema?.description ? ` (${schema.description})` : '';
      return { path, at: 'value', message: `${label} must be ${want === 'object' ? 'a map of keys' : want === 'array' ? 'a list' : `a ${want}`}, not ${quoteValue(data)}.${hint}${desc}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v)).join(', ');
      const guess = typeof data === 'string' ? closestWord(data, (params.allowedValues as unknown[]).map(String)) : undefined;
      return { path, at: 'value', message: `${label} is ${quoteValue(data)}; it must be one of: ${allowed}.${guess ? ` Did you mean "${guess}"?` : ''}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'more than', exclusiveMaximum: 'less than' }[err.keyword];
      return { path, at: 'value', message: `${label} is ${quoteValue(data)}; it must be ${words} ${String(params.limit)}.${schema?.description ? ` (${schema.description})` : ''}` };
    }
    case 'maxLength':
      return { path, at: 'value', message: `${label} is ${String((data as string).length)} characters long; at most ${String(params.limit)} are allowed. Shorten it.` };
    case 'minLength':
      return { path, at: 'value', message: `${label} is too short (at least ${String(params.limit)} characters).` };
    case 'maxItems':
      return { path, at: 'value', message: `${label} has ${String((data as unknown[]).length)} entries; at most ${String(params.limit)} are allowed.` };
    case 'minItems':
      return { path, at: 'key', message: `${label} needs at least ${String(params.limit)} ${params.limit === 1 ? 'entry' : 'entries'}.${schema?.description ? ` (${schema.description})` : ''}` };
    case 'uniqueItems': {
      const j = Number(params.j);
      const i = Number(params.i);
      return { path: [...path, Math.max(i, j)], at: 'value', message: `${label} lists the same entry twice (entries ${Math.min(i, j) + 1} and ${Math.max(i, j) + 1}). Remove the duplicate.` };
    }
    case 'const': {
      const desc = schema?.description ? ` ${schema.description}` : '';
      return { path, at: 'value', message: `${label} is ${quoteValue(data)}; the only value accepted is ${quoteValue(params.allowedValue)}.${desc}` };
    }
    case 'anyOf':
    case 'oneOf':
      return { path, at: 'value', message: `${label} is ${quoteValue(data)}; it must be ${schema?.description ?? 'one of the allowed forms'}` };
    default:
      return { path, at: 'value', message: `${label}: ${err.message ?? 'is invalid'}.` };
  }
}

/** Drops the branch errors under an anyOf/oneOf that failed as a whole: its own message says it better. */
function withoutBranchNoise(errors: readonly ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const propertyNames = errors.filter((e) => e.keyword === 'propertyNames');
  return errors.filter((e) => {
    if (unions.some((u) => u !== e && e.instancePath === u.instancePath && e.schemaPath.startsWith(`${u.schemaPath}/`))) return false;
    // propertyNames reports the failing name twice: once as the pattern failure.
    if (propertyNames.some((p) => p !== e && e.schemaPath.startsWith(`${p.schemaPath}/`))) return false;
    return true;
  });
}

/**
 * Validates `source.data` against the schema of its kind. Fills defaults in
 * place (ajv useDefaults). Returns [] when valid.
 */
export function checkSchema(kind: YamlKind, source: YamlSource): Problem[] {
  const validate = validatorFor(kind);
  if (validate(source.data)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const err of withoutBranchNoise(validate.errors ?? [])) {
    const { path, at, message } = describeError(err, SCHEMAS[kind], source.data);
    const pos = source.locate(path, at);
    const key = `${pos.line}:${pos.col}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file: source.file, line: pos.line, col: pos.col, severity: 'error', rule: 'schema', message });
  }
  return problems;
}

/** Compiles (or loads) every validator now, e.g. before timing something. */
export function compileAllSchemas(): void {
  validatorFor('node');
}
