// Shared patterns. Tight on purpose: these values reach remote shells, file
// names and generated JSON, so the schema is the first line of defence.
export const NODE_NAME = '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';
/** `name[:tag]`, optional `namespace/` prefix; a missing tag means `:latest`. */
export const MODEL_REF = '^[a-z0-9][a-z0-9._-]{0,79}(/[a-z0-9][a-z0-9._-]{0,79})?(:[a-z0-9][a-z0-9._-]{0,79})?$';
/** A hostname (`maestro.local`, `maestro.tail1234.ts.net`) or a dotted IPv4 address. */
export const ADDRESS = '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';
export const IPV4 = '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$';
export const DATE = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
export const HW_ID = '^[a-z0-9][a-z0-9-]{0,62}$';
export const ROLE_NAME = '^[a-z][a-z0-9_]{0,31}$';
export const WORKER_ID = '^[a-z][a-z0-9_]{0,63}$';
export const TASK_TYPE = '^[a-z][a-z0-9_]{0,31}$';
/** Homebrew formula or cask name. */
export const BREW_NAME = '^[a-z0-9][a-z0-9@._+-]{0,63}$';
/** Free text a person wrote: one line, no control characters. */
export const ONE_LINE = '^[^\\u0000-\\u001f\\u007f]*$';
export const SHA256_HEX = '^[0-9a-f]{64}$';
