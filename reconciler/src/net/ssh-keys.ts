// ed25519 key pairs in OpenSSH format for node host keys and the fleet client.
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

/**
 * ssh2's generateKeyPairSync('ed25519') now and then (about 1 in 256: it strips
 * a public key's leading zero bytes, mscdex/ssh2#1513) emits a key its own
 * parser rejects as malformed; generate until both halves parse.
 */
export function generateEd25519KeyPair(comment?: string): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', comment === undefined ? {} : { comment });
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error('could not generate a parseable ed25519 key');
}

/** `ssh-ed25519 AAAA...` (known_hosts key part) of an OpenSSH private or public key. */
export function publicKeyLineOf(key: string): string {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  const one: ParsedKey | undefined = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!one) throw new Error('no key found');
  return `${one.type} ${one.getPublicSSH().toString('base64')}`;
}
