// known_hosts: parse and write back byte for byte, match plain, [host]:port,
// wildcard and hashed entries, keep comments and @revoked lines, and print
// fingerprints exactly as ssh-keygen -l does.
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  entryMatches, findHostKeys, fingerprint, formatKnownHosts, formatKnownHostsEntry, hostPattern, keyTypeOf, parseKnownHosts, replaceHostEntries,
} from '../../reconciler/src/net/known-hosts.ts';
import type { KnownHostEntry } from '../../reconciler/src/net/known-hosts.ts';
import { makeKeyPair } from './helpers/ssh-server.ts';

const a = makeKeyPair();
const b = makeKeyPair();
const c = makeKeyPair();

const sample = [
  '# Pinned host keys of the Symphony fleet. Reviewed in pull requests.',
  '',
  `maestro,maestro.local,192.168.1.20 ${a.publicLine} maestro 2026-01-02`,
  `[127.0.0.1]:2201 ${b.publicLine}`,
  `@revoked * ${c.publicLine}`,
  `@cert-authority *.lan ${b.publicLine}`,
  `*.tail1234.ts.net,!evil.tail1234.ts.net ${b.publicLine}`,
  'garbage line without a key',
].join('\n') + '\n';

function hashedPattern(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('parse and format', () => {
  it('round-trips a file byte for byte, comments and unknown lines included', () => {
    expect(formatKnownHosts(parseKnownHosts(sample))).toBe(sample);
  });

  it('round-trips any text made of lines (property)', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme-ascii' }).filter((s) => !/[\r\n]/.test(s))), (lines) => {
      const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
      expect(formatKnownHosts(parseKnownHosts(text))).toBe(text);
    }));
  });

  it('reads markers, hosts, key and comment', () => {
    const entries = parseKnownHosts(sample).filter((l): l is KnownHostEntry => l.kind === 'entry');
    expect(entries).toHaveLength(5);
    expect(entries[0]).toMatchObject({ marker: null, hosts: ['maestro', 'maestro.local', '192.168.1.20'], keyType: 'ssh-ed25519', comment: 'maestro 2026-01-02' });
    expect(entries[2]?.marker).toBe('revoked');
    expect(entries[3]?.marker).toBe('cert-authority');
  });

  it('writes [host]:port only for a port other than 22', () => {
    expect(hostPattern('Maestro.local', 22)).toBe('maestro.local');
    expect(hostPattern('127.0.0.1', 2201)).toBe('[127.0.0.1]:2201');
    expect(formatKnownHostsEntry(['n', '[127.0.0.1]:2201'], 'ssh-ed25519', 'AAAA')).toBe('n,[127.0.0.1]:2201 ssh-ed25519 AAAA');
  });
});

describe('matching', () => {
  const lines = parseKnownHosts(sample);
  it('finds the pinned keys by node name or address', () => {
    expect(findHostKeys(lines, ['maestro']).trusted).toEqual([a.publicLine]);
    expect(findHostKeys(lines, ['192.168.1.20']).trusted).toEqual([a.publicLine]);
    expect(findHostKeys(lines, ['[127.0.0.1]:2201']).trusted).toEqual([b.publicLine]);
    expect(findHostKeys(lines, ['127.0.0.1']).trusted).toEqual([]);
    expect(findHostKeys(lines, ['stagehand']).trusted).toEqual([]);
  });
  it('honours wildcards and negation; cert-authority lines are not host keys', () => {
    expect(findHostKeys(lines, ['bob.tail1234.ts.net']).trusted).toEqual([b.publicLine]);
    expect(findHostKeys(lines, ['evil.tail1234.ts.net']).trusted).toEqual([]);
    expect(findHostKeys(lines, ['x.lan']).trusted).toEqual([]);
  });
  it('lists @revoked keys and never trusts them', () => {
    const text = `maestro ${c.publicLine}\n@revoked * ${c.publicLine}\n`;
    expect(findHostKeys(parseKnownHosts(text), ['maestro'])).toEqual({ trusted: [], revoked: [c.publicLine] });
  });
  it('matches hashed host names (ssh-keygen -H)', () => {
    const entry = parseKnownHosts(`${hashedPattern('[127.0.0.1]:2201')} ${a.publicLine}\n`)[0] as KnownHostEntry;
    expect(entryMatches(entry, '[127.0.0.1]:2201')).toBe(true);
    expect(entryMatches(entry, '[127.0.0.1]:2202')).toBe(false);
  });
});

describe('replaceHostEntries (fleet trust)', () => {
  it('replaces the node\'s line in place and keeps everything else', () => {
    const newLine = `maestro,maestro.local,192.168.1.20 ${c.publicLine}`;
    const out = formatKnownHosts(replaceHostEntries(parseKnownHosts(sample), ['maestro', 'maestro.local', '192.168.1.20'], newLine));
    expect(out).toBe(sample.replace(`maestro,maestro.local,192.168.1.20 ${a.publicLine} maestro 2026-01-02`, newLine));
  });
  it('appends when the node has no line; an empty file gets one line', () => {
    const line = `virtuoso,[127.0.0.1]:2203 ${a.publicLine}`;
    expect(formatKnownHosts(replaceHostEntries(parseKnownHosts(''), ['virtuoso'], line))).toBe(`${line}\n`);
    const out = formatKnownHosts(replaceHostEntries(parseKnownHosts(sample), ['virtuoso', '[127.0.0.1]:2203'], line));
    expect(out).toBe(`${sample}${line}\n`);
  });
  it('replaces a hashed entry of the node, not a wildcard that also covers it', () => {
    const text = `${hashedPattern('maestro.local')} ${a.publicLine}\n*.local ${b.publicLine}\n`;
    const line = `maestro,maestro.local ${c.publicLine}`;
    expect(formatKnownHosts(replaceHostEntries(parseKnownHosts(text), ['maestro', 'maestro.local'], line))).toBe(`${line}\n*.local ${b.publicLine}\n`);
  });
  it('removes duplicates of the node and keeps @revoked lines', () => {
    const text = `maestro ${a.publicLine}\n@revoked maestro ${b.publicLine}\nmaestro.local ${b.publicLine}\n`;
    const line = `maestro,maestro.local ${c.publicLine}`;
    expect(formatKnownHosts(replaceHostEntries(parseKnownHosts(text), ['maestro', 'maestro.local'], line))).toBe(`${line}\n@revoked maestro ${b.publicLine}\n`);
  });
});

describe('fingerprint', () => {
  it('is SHA256:<base64 without padding> of the key blob', () => {
    const blob = Buffer.from(a.publicLine.split(' ')[1] ?? '', 'base64');
    expect(fingerprint(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(a.publicLine)).toBe(fingerprint(blob));
    expect(fingerprint(`${a.publicLine} with a comment`)).toBe(fingerprint(blob));
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
  });

  it('equals what ssh-keygen -l prints', (ctx) => {
    let keygen = true;
    try { execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' }); } catch (err) { keygen = (err as { status?: number }).status !== undefined; }
    if (!keygen) { ctx.skip(); return; }
    const dir = mkdtempSync(join(tmpdir(), 'fleet-kh-'));
    try {
      const file = join(dir, 'k.pub');
      writeFileSync(file, `${a.publicLine} test\n`);
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
      expect(out.split(' ')[1]).toBe(fingerprint(a.publicLine));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
