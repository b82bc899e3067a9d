// A request body bound to its api.*Request struct as gin's ShouldBindJSON
// does it, with encoding/json's error texts: a missing body, broken JSON, a
// value of the wrong kind for the struct or for one of its fields (Go
// matches field names ignoring case, and keeps the first type error), and the
// custom decoders of keep_alive (api.Duration), think and messages.
import { goQuote } from './go-json.ts';
import { scanFirstValue } from './go-json-decode.ts';
import { parseGoDuration } from './go-format.ts';

type FieldType = 'string' | 'bool' | 'int' | 'map' | 'string-map' | 'messages' | 'duration' | 'think' | 'any';

interface RequestSpec {
  struct: string;
  fields: Readonly<Record<string, FieldType>>;
}

const COMMON_INFERENCE = { model: 'string', stream: 'bool', keep_alive: 'duration', options: 'map', format: 'any', think: 'think', truncate: 'bool', shift: 'bool', logprobs: 'bool', top_logprobs: 'int' } as const;

export const REQUESTS = {
  generate: { struct: 'GenerateRequest', fields: { ...COMMON_INFERENCE, prompt: 'string', suffix: 'string', system: 'string', template: 'string', context: 'any', raw: 'bool', images: 'any' } },
  chat: { struct: 'ChatRequest', fields: { ...COMMON_INFERENCE, messages: 'messages', tools: 'any' } },
  embed: { struct: 'EmbedRequest', fields: { model: 'string', input: 'any', truncate: 'bool', dimensions: 'int', keep_alive: 'duration', options: 'map' } },
  embeddings: { struct: 'EmbeddingRequest', fields: { model: 'string', prompt: 'string', keep_alive: 'duration', options: 'map' } },
  copy: { struct: 'CopyRequest', fields: { source: 'string', destination: 'string' } },
  create: {
    struct: 'CreateRequest',
    fields: {
      model: 'string', name: 'string', stream: 'bool', quantize: 'string', quantization: 'string', from: 'string', files: 'string-map', adapters: 'string-map',
      template: 'string', license: 'any', system: 'string', parameters: 'map', messages: 'messages', renderer: 'string', parser: 'string', requires: 'string', info: 'map', remote_host: 'string',
    },
  },
  show: { struct: 'ShowRequest', fields: { model: 'string', name: 'string', system: 'string', template: 'string', verbose: 'bool', options: 'map' } },
  delete: { struct: 'DeleteRequest', fields: { model: 'string', name: 'string' } },
  pull: { struct: 'PullRequest', fields: { model: 'string', name: 'string', insecure: 'bool', stream: 'bool', username: 'string', password: 'string' } },
} as const satisfies Record<string, RequestSpec>;

export type RequestKind = keyof typeof REQUESTS;
export type Body = Record<string, unknown>;
export type BindResult = { ok: true; body: Body } | { ok: false; error: string };

/** The kind word encoding/json puts in "cannot unmarshal <kind>". */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

const GO_TYPES: Record<FieldType, string> = {
  string: 'string', bool: 'bool', int: 'int', map: 'map[string]interface {}', 'string-map': 'map[string]string',
  messages: '[]api.Message', duration: 'api.Duration', think: 'api.ThinkValue', any: 'interface {}',
};

/** reflect.TypeOf of a JSON value decoded into `any`, as api.Duration's error prints it. */
function goAnyType(value: unknown): string {
  if (Array.isArray(value)) return '[]interface {}';
  if (typeof value === 'object') return 'map[string]interface {}';
  return typeof value === 'boolean' ? 'bool' : typeof value === 'number' ? 'float64' : 'string';
}

function typeError(value: unknown, struct: string, field: string, goType: string): string {
  const kind = typeof value === 'number' && goType === 'int' && !Number.isInteger(value) ? `number ${String(value)}` : jsonKind(value);
  return `json: cannot unmarshal ${kind} into Go struct field ${struct}.${field} of type ${goType}`;
}

/** time.ParseDuration's refusal, for a keep_alive text; undefined when it parses. */
function durationError(text: string): string | undefined {
  if (parseGoDuration(text) !== undefined) return undefined;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) return `time: missing unit in duration ${goQuote(text)}`;
  const unit = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)([^\d.]+)/.exec(text)?.[1];
  if (unit !== undefined && !['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'].includes(unit)) return `time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`;
  return `time: invalid duration ${goQuote(text)}`;
}

/** api.Message's UnmarshalJSON decodes into a local `Alias` type; its errors name that type. */
function messageError(item: unknown): string | undefined {
  if (item === null) return undefined;
  if (typeof item !== 'object' || Array.isArray(item)) return `json: cannot unmarshal ${jsonKind(item)} into Go value of type api.Alias`;
  for (const [key, v] of Object.entries(item as Body)) {
    const field = ['role', 'content', 'thinking', 'tool_name', 'tool_call_id'].find((f) => f.toLowerCase() === key.toLowerCase());
    if (field !== undefined && v !== null && typeof v !== 'string') return typeError(v, 'Alias', field, 'string');
  }
  return undefined;
}

type Check = { fatal: string } | { saved: string } | undefined;

/** The error decoding `value` into a field of `type` produces; fatal ones stop decoding (custom UnmarshalJSON). */
function checkField(struct: string, field: string, type: FieldType, value: unknown): Check {
  if (value === null) return undefined;
  const goType = GO_TYPES[type];
  switch (type) {
    case 'any':
      return undefined;
    case 'string':
      return typeof value === 'string' ? undefined : { saved: typeError(value, struct, field, goType) };
    case 'bool':
      return typeof value === 'boolean' ? undefined : { saved: typeError(value, struct, field, goType) };
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : { saved: typeError(value, struct, field, goType) };
    case 'map':
      return typeof value === 'object' && !Array.isArray(value) ? undefined : { saved: typeError(value, struct, field, goType) };
    case 'string-map': {
      if (typeof value !== 'object' || Array.isArray(value)) return { saved: typeError(value, struct, field, goType) };
      const bad = Object.values(value as Body).find((v) => v !== null && typeof v !== 'string');
      return bad === undefined ? undefined : { saved: typeError(bad, struct, field, 'string') };
    }
    case 'messages': {
      if (!Array.isArray(value)) return { saved: typeError(value, struct, field, goType) };
      for (const item of value) {
        const err = messageError(item);
        if (err !== undefined) return { fatal: err };
      }
      return undefined;
    }
    case 'duration':
      if (typeof value === 'number') return undefined;
      if (typeof value === 'string') {
        const err = durationError(value);
        return err === undefined ? undefined : { fatal: err };
      }
      return { fatal: `Unsupported type: '${goAnyType(value)}'` };
    case 'think':
      if (typeof value === 'boolean') return undefined;
      if (typeof value === 'string') {
        return ['high', 'medium', 'low', 'max'].includes(value) ? undefined
          : { fatal: `invalid think value: ${goQuote(value)} (must be "high", "medium", "low", "max", true, or false)` };
      }
      return { fatal: 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)' };
  }
}

/** Binds a request body; the body's keys come back under the struct's own field names. */
export function bindRequest(kind: RequestKind, raw: Buffer): BindResult {
  const spec: RequestSpec = REQUESTS[kind];
  const scanned = scanFirstValue(raw);
  if (scanned.kind === 'eof') return { ok: false, error: 'missing request body' };
  if (scanned.kind === 'error') return { ok: false, error: scanned.message };
  const value = scanned.value;
  // `null` leaves the struct empty.
  if (value === null) return { ok: true, body: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: `json: cannot unmarshal ${jsonKind(value)} into Go value of type api.${spec.struct}` };
  }
  const body: Body = {};
  let saved: string | undefined;
  for (const [key, v] of Object.entries(value as Body)) {
    const field = key in spec.fields ? key : Object.keys(spec.fields).find((f) => f.toLowerCase() === key.toLowerCase());
    if (field === undefined) continue;
    const type = spec.fields[field] ?? 'any';
    const check = checkField(spec.struct, field, type, v);
    if (check && 'fatal' in check) return { ok: false, error: check.fatal };
    if (check) saved ??= check.saved;
    else body[field] = v;
  }
  return saved === undefined ? { ok: true, body } : { ok: false, error: saved };
}
