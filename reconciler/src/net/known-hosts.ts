// OpenSSH known_hosts, the format of the pinned host keys in fleet/known_hosts
// (reviewed in pull requests). Pure: text in, data out, text back out. Lines we
// do not understand, comments and @revoked entries are kept verbatim so a
// rewrite by `fleet trust` only touches the node it was asked about.
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  kind: 'entry';
  /** `@revoked` keys are never trusted; `@cert-authority` lines are kept but not used. */
  marker: 'revoked' | 'cert-authority' | null;
  /** Host patterns as written: `maestro.local`, `[127.0.0.1]:2201`, `*.lan`, `!bad`, `|1|salt|hash`. */
  hosts: string[];
  keyType: string;
  /** Base64 key blob. */
  key: string;
  comment: string;
  raw: string;
}

export type KnownHostsLine = KnownHostEntry | { kind: 'other'; raw: string };

const KEY_TYPE = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+|rsa-sha2-[0-9]+)$/;

export function parseKnownHosts(text: string): KnownHostsLine[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map(parseKnownHostsLine);
}

function parseKnownHostsLine(raw: string): KnownHostsLine {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { kind: 'other', raw };
  const fields = trimmed.split(/\s+/);
  let marker: KnownHostEntry['marker'] = null;
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return { kind: 'other', raw };
  }
  const [hosts, keyType, key, ...rest] = fields;
  if (hosts === undefined || keyType === undefined || key === undefined) return { kind: 'other', raw };
  if (!KEY_TYPE.test(keyType) || !/^[A-Za-z0-9+/]+=*$/.test(key)) return { kind: 'other', raw };
  return { kind: 'entry', marker, hosts: hosts.split(','), keyType, key, comment: rest.join(' '), raw };
}

export function formatKnownHosts(lines: readonly KnownHostsLine[]): string {
  if (lines.length === 0) return '';
  return lines.map((l) => l.raw).join('\n') + '\n';
}

/** The host pattern OpenSSH writes for an address: `[host]:port` unless the port is 22. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address.toLowerCase() : `[${address.toLowerCase()}]:${port}`;
}

/** One known_hosts line: `hosts keytype key [comment]`. */
export function formatKnownHostsEntry(hosts: readonly string[], keyType: string, key: string, comment?: string): string {
  return [hosts.join(','), keyType, key, ...(comment ? [comment] : [])].join(' ');
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function matchHashed(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name)) as written by `ssh-keygen -H`.
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return mac === parts[3];
}

/** Whether an entry's host list matches `name` (already in pattern form, e.g. `[127.0.0.1]:2201`). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const pattern of entry.hosts) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    const hit = p.startsWith('|') ? matchHashed(p, name) : globToRegExp(p).test(name);
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
}

export interface HostKeysFor {
  /** `keytype base64` of the trusted (pinned) keys. */
  trusted: string[];
  /** `keytype base64` of keys marked @revoked for these names (or for any host). */
  revoked: string[];
}

/** The keys pinned for any of `names` (node name, address patterns). */
export function findHostKeys(lines: readonly KnownHostsLine[], names: readonly string[]): HostKeysFor {
  const trusted = new Set<string>();
  const revoked = new Set<string>();
  for (const line of lines) {
    if (line.kind !== 'entry') continue;
    const keyText = `${line.keyType} ${line.key}`;
    // A revoked key is refused whatever host it was written for (as OpenSSH does).
    if (line.marker === 'revoked') revoked.add(keyText);
    else if (line.marker === null && names.some((n) => entryMatches(line, n))) trusted.add(keyText);
  }
  for (const k of revoked) trusted.delete(k);
  return { trusted: [...trusted], revoked: [...revoked] };
}

/**
 * Replaces the plain entries for a node (those that name the node or one of
 * its address patterns) with `newLine`; comments, @revoked and other hosts'
 * lines stay where they are. The new line takes the place of the first one
 * removed, or goes at the end.
 */
export function replaceHostEntries(lines: readonly KnownHostsLine[], names: readonly string[], newLine: string): KnownHostsLine[] {
  const lower = names.map((n) => n.toLowerCase());
  const out: KnownHostsLine[] = [];
  let placed = false;
  for (const line of lines) {
    // Ours: a plain entry naming the node exactly, or hashed to one of its names;
    // wildcard lines cover other hosts too and are left alone.
    const ours = line.kind === 'entry' && line.marker === null
      && line.hosts.some((h) => lower.includes(h.toLowerCase()) || (h.startsWith('|') && lower.some((n) => matchHashed(h, n))));
    if (!ours) {
      out.push(line);
      continue;
    }
    if (!placed) {
      out.push(parseKnownHostsLine(newLine));
      placed = true;
    }
  }
  if (!placed) out.push(parseKnownHostsLine(newLine));
  return out;
}

/** `SHA256:<base64 without padding>` of a key blob, as `ssh-keygen -l` prints it. */
export function fingerprint(keyBlob: Buffer | string): string {
  // A string is either a bare base64 blob or a `type base64 [comment]` key text.
  const blob = typeof keyBlob === 'string' ? Buffer.from(splitKeyText(keyBlob)?.key ?? keyBlob.trim(), 'base64') : keyBlob;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format key blob (its first string). */
export function keyTypeOf(keyBlob: Buffer): string | null {
  if (keyBlob.length < 4) return null;
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return null;
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** Splits `ssh-ed25519 AAAA... [comment]` into type and base64 blob. */
export function splitKeyText(text: string): { keyType: string; key: string } | null {
  const [keyType, key] = text.trim().split(/\s+/);
  if (!keyType || !key || !KEY_TYPE.test(keyType)) return null;
  return { keyType, key };
}
