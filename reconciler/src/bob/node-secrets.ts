// Each node's heartbeat key as Bob keeps it: `<secrets_dir>/<node>.key`
// (64 hex digits and a newline, 0600, in a 0700 directory under
// ~/.symphony/), exactly the bytes `fleet apply` installs on the node as
// ~/.symphony/heartbeat.key. Never in the repository, never in output: what
// plans and logs show is the key id, the sha256 of that file.
//
// Rotation (`fleet secret rotate NODE`) moves the current key to
// `<node>.key.previous` and writes a new one; Bob accepts both until the new
// one is installed on the node (`<node>.installed` holds the id it holds).
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { FleetError } from '../errors.ts';
import { readIfExists } from '../fs/read-if-exists.ts';
import { NODE_NAME } from '../schema/common.ts';

const NODE_RE = new RegExp(NODE_NAME);
const KEY_TEXT = /^[0-9a-f]{64}\n$/;

export interface NodeSecret {
  /** The 32 bytes HMAC uses. */
  key: Buffer;
  /** sha256 of the file content: public, shown in plans. */
  id: string;
}

/** Satisfies apply's SecretSource (apply/context.ts) by its shape. */
export interface NodeSecretStore {
  /** The file content to install for `node` when its key still has this id; undefined when it changed or is gone. */
  contentFor(node: string, keyId: string): string | undefined;
  /** Records that the node now holds the key with this id. */
  markInstalled(node: string, keyId: string): Promise<void>;
  readonly dir: string;
  /** The keys Bob accepts from the node: the current one, then the one before a rotation until the new one is installed. */
  keys(node: string): Buffer[];
  current(node: string): NodeSecret | undefined;
  /** The key id last installed on the node, or null. */
  installed(node: string): string | null;
  /** Creates a key for each node that has none; returns the nodes that got one. */
  ensure(nodes: readonly string[]): Promise<string[]>;
  /** A new key for the node; returns its id. The old one stays accepted until the new one is installed. */
  rotate(node: string): Promise<string>;
  /** Rereads the directory (a `fleet secret rotate` run by a person). */
  reload(): Promise<void>;
  /** For plan: every node's key id and installed id. */
  planInput(nodes: readonly string[]): Record<string, { key_id: string; installed: string | null }>;
}

const idOf = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function checkNode(node: string): void {
  if (!NODE_RE.test(node)) throw new FleetError('invalid-input', `${JSON.stringify(node)} is not a node name`);
}

interface Entry {
  text: string;
  previous: string | null;
  installed: string | null;
}

export async function openNodeSecrets(dir: string): Promise<NodeSecretStore> {
  const entries = new Map<string, Entry>();

  const load = async (): Promise<void> => {
    entries.clear();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const m = /^(.+)\.key$/.exec(name);
      if (!m?.[1] || !NODE_RE.test(m[1])) continue;
      const text = (await readIfExists(join(dir, name))) ?? null;
      if (text === null || !KEY_TEXT.test(text)) continue;
      const previous = (await readIfExists(join(dir, `${m[1]}.key.previous`))) ?? null;
      const installed = (await readIfExists(join(dir, `${m[1]}.installed`)))?.trim() ?? null;
      entries.set(m[1], { text, previous: previous !== null && KEY_TEXT.test(previous) ? previous : null, installed: installed !== null && /^[0-9a-f]{64}$/.test(installed) ? installed : null });
    }
  };

  const writeSecret = async (path: string, text: string): Promise<void> => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await writeFileAtomic(path, text, { mode: 0o600 });
  };

  const fresh = (): string => `${randomBytes(32).toString('hex')}\n`;
  const keyOf = (text: string): Buffer => Buffer.from(text.trim(), 'hex');

  await load();
  return {
    dir,
    keys(node) {
      const e = entries.get(node);
      if (e === undefined) return [];
      // The previous key only until the node holds the new one.
      return e.previous !== null && e.installed !== idOf(e.text) ? [keyOf(e.text), keyOf(e.previous)] : [keyOf(e.text)];
    },
    current(node) {
      const e = entries.get(node);
      return e === undefined ? undefined : { key: keyOf(e.text), id: idOf(e.text) };
    },
    installed: (node) => entries.get(node)?.installed ?? null,
    contentFor(node, keyId) {
      const e = entries.get(node);
      return e !== undefined && idOf(e.text) === keyId ? e.text : undefined;
    },
    async markInstalled(node, keyId) {
      checkNode(node);
      const e = entries.get(node);
      if (e === undefined) return;
      await writeSecret(join(dir, `${node}.installed`), `${keyId}\n`);
      e.installed = keyId;
      if (e.previous !== null && keyId === idOf(e.text)) {
        await rm(join(dir, `${node}.key.previous`), { force: true });
        e.previous = null;
      }
    },
    async ensure(nodes) {
      const created: string[] = [];
      for (const node of nodes) {
        checkNode(node);
        if (entries.has(node)) continue;
        const text = fresh();
        await writeSecret(join(dir, `${node}.key`), text);
        entries.set(node, { text, previous: null, installed: null });
        created.push(node);
      }
      return created;
    },
    async rotate(node) {
      checkNode(node);
      const e = entries.get(node);
      const text = fresh();
      if (e !== undefined) {
        // Keep the key the node holds now (the installed one) as the previous one.
        const keep = e.previous !== null && e.installed !== idOf(e.text) ? e.previous : e.text;
        await writeSecret(join(dir, `${node}.key.previous`), keep);
        await writeSecret(join(dir, `${node}.key.next`), text);
        await rename(join(dir, `${node}.key.next`), join(dir, `${node}.key`));
        entries.set(node, { text, previous: keep, installed: e.installed });
      } else {
        await writeSecret(join(dir, `${node}.key`), text);
        entries.set(node, { text, previous: null, installed: null });
      }
      return idOf(text);
    },
    reload: load,
    planInput(nodes) {
      const out: Record<string, { key_id: string; installed: string | null }> = {};
      for (const node of nodes) {
        const e = entries.get(node);
        if (e !== undefined) out[node] = { key_id: idOf(e.text), installed: e.installed };
      }
      return out;
    },
  };
}
