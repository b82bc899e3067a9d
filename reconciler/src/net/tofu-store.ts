// Trust on first use, when Bob's owner turns it on (ssh.trust_on_first_use in
// ~/.symphony/fleetd.yaml): the first host key a node without a pin in
// fleet/known_hosts presents is pinned here, on Bob, and from then on it is a
// pin like any other: a different key is refused, never trusted again.
// OpenSSH known_hosts format, one line per node, written atomically, 0600.
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { readIfExists } from '../fs/read-if-exists.ts';
import { formatKnownHostsEntry, parseKnownHosts, splitKeyText } from './known-hosts.ts';

export type PinOutcome = 'pinned' | 'same' | 'conflict';

export interface TofuStore {
  readonly file: string;
  /** `keytype base64` pinned for the node, if any. */
  pinned(node: string): string | undefined;
  /** Pins `keyText` for the node unless another key is pinned already ('conflict': refuse the connection). */
  pin(node: string, keyText: string, at?: Date): Promise<PinOutcome>;
}

/** Opens (or starts) the store at `file`; an unreadable line is kept out, never trusted. */
export async function openTofuStore(file: string): Promise<TofuStore> {
  const text = (await readIfExists(file)) ?? '';
  const keys = new Map<string, { key: string; line: string }>();
  for (const line of parseKnownHosts(text)) {
    if (line.kind !== 'entry' || line.marker !== null) continue;
    const node = line.hosts[0];
    // The first pin of a node wins; a later line cannot replace it.
    if (node !== undefined && !keys.has(node)) keys.set(node, { key: `${line.keyType} ${line.key}`, line: line.raw });
  }
  let chain: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    chain = chain.then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const body = [...keys.values()].map((k) => k.line).join('\n');
      await writeFileAtomic(file, `# Host keys trusted on first use by fleet (ssh.trust_on_first_use in fleetd.yaml). A key here is a pin: a node presenting another one is refused.\n${body}\n`, { mode: 0o600 });
    });
    return chain;
  };
  return {
    file,
    pinned: (node) => keys.get(node)?.key,
    async pin(node, keyText, at = new Date()) {
      const split = splitKeyText(keyText);
      if (split === null) return 'conflict';
      const normalized = `${split.keyType} ${split.key}`;
      const current = keys.get(node);
      if (current !== undefined) return current.key === normalized ? 'same' : 'conflict';
      keys.set(node, { key: normalized, line: formatKnownHostsEntry([node], split.keyType, split.key, `tofu:${at.toISOString()}`) });
      await persist();
      return 'pinned';
    },
  };
}
