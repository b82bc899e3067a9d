// Shared patterns. Tight on purpose: these values reach remote shells, file
// names and generated JSON, so the schema is the first line of defence.
export const NODE_NAME = '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';
/** `name[:tag]`, optional `namespace/` prefix; a missing tag means `:latest`. */
export const MODEL_REF = '^[a-z0-9][a-z0-9._-]{0,79}(/[a-z0-9][a-z0-9._-]{0,79})?(:[a-z0-9][a-z0-9._-]{0,79})?$';
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/** A dotted IPv4 address in canonical form: four decimal parts, no leading zeros. */
export const IPV4 = `^(${OCTET}\\.){3}${OCTET}$`;
const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
/**
 * A hostname (`maestro.local`, `maestro.tail1234.ts.net`) or a canonical
 * dotted IPv4 address. A name whose last label is numeric (or 0x...) is what
 * inet_aton reads as an address (`3232235796`, `0300.0250.1.20`, `192.168.1`):
 * only the canonical dotted quad of such an address is accepted.
 */
export const ADDRESS = `^((${OCTET}\\.){3}${OCTET}|(?=.{1,253}$)(${LABEL}\\.)*(?![0-9]+$|0x[0-9a-f]*$)${LABEL})$`;
export const DATE = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
export const HW_ID = '^[a-z0-9][a-z0-9-]{0,62}$';
export const ROLE_NAME = '^[a-z][a-z0-9_]{0,31}$';
export const WORKER_ID = '^[a-z][a-z0-9_]{0,63}$';
export const TASK_TYPE = '^[a-z][a-z0-9_]{0,31}$';
/** Homebrew formula or cask name. */
export const BREW_NAME = '^[a-z0-9][a-z0-9@._+-]{0,63}$';
/**
 * Free text a person wrote: one line, no control characters, none of the
 * Unicode line breaks (U+0085, U+2028, U+2029) and none of the bidirectional
 * controls that make text read differently than it runs (Trojan Source).
 */
export const ONE_LINE = '^[^\\u0000-\\u001f\\u007f\\u0085\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]*$';
export const SHA256_HEX = '^[0-9a-f]{64}$';
