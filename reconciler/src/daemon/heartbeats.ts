// What nodes tell Bob: last heartbeat and current IP per node, plus their
// registrations. Kept in memory, written atomically to a JSON file in the
// workdir (writes coalesced), so a daemon restart keeps the IPs and a changed
// IP reaches the generated registry on the next reconcile.
import { readFile, rename } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import type { HeartbeatRecord } from '../schema/observed.ts';
import { UNKNOWN_IP } from '../schema/registry-api.ts';
import type { RegisterRequest } from '../schema/registry-api.ts';

export interface RegistrationRecord {
  node_id: string;
  received_at: string;
  body: RegisterRequest;
}

export interface HeartbeatInput {
  node_id: string;
  /** As the node reported it; UNKNOWN keeps the last known address. */
  ip: string;
  at: Date;
  /** The address the request came from, used when the node sent UNKNOWN and Bob knows nothing better. */
  peerIp?: string;
}

export interface RecordResult {
  record: HeartbeatRecord;
  /** The node's IP differs from the one Bob knew (false for the first heartbeat). */
  ipChanged: boolean;
  previousIp: string | null;
}

export interface HeartbeatStore {
  readonly path: string;
  record(input: HeartbeatInput): RecordResult;
  recordRegistration(body: RegisterRequest, at: Date, peerIp?: string): RecordResult;
  get(node: string): HeartbeatRecord | undefined;
  /** Sorted by node_id: the input generate takes. */
  list(): HeartbeatRecord[];
  listRegistrations(): RegistrationRecord[];
  /** Resolves once everything recorded so far is on disk. */
  flush(): Promise<void>;
}

export interface HeartbeatStoreOptions {
  /** Coalesces writes: at most one write per this many ms (default 200). */
  flushDelayMs?: number;
  log?: { warn(fields: object, message: string): void; error(fields: object, message: string): void };
}

interface StoreFile {
  version: 1;
  heartbeats: HeartbeatRecord[];
  registrations: RegistrationRecord[];
}

function isRecord(v: unknown): v is HeartbeatRecord {
  const r = v as Partial<HeartbeatRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.node_id === 'string' && typeof r.ip === 'string' && typeof r.last_seen === 'string';
}

async function loadFile(path: string, log: HeartbeatStoreOptions['log']): Promise<StoreFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, heartbeats: [], registrations: [] };
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<StoreFile>;
    return {
      version: 1,
      heartbeats: Array.isArray(v.heartbeats) ? v.heartbeats.filter(isRecord) : [],
      registrations: Array.isArray(v.registrations) ? v.registrations.filter((r) => typeof r?.node_id === 'string') : [],
    };
  } catch {
    // Keep the damaged file for a person to look at; start empty (heartbeats come back within a minute).
    const aside = `${path}.corrupt-${Date.now()}`;
    await rename(path, aside).catch(() => undefined);
    log?.warn({ file: path, moved_to: aside }, 'heartbeat file unreadable, starting empty');
    return { version: 1, heartbeats: [], registrations: [] };
  }
}

export async function openHeartbeatStore(path: string, options: HeartbeatStoreOptions = {}): Promise<HeartbeatStore> {
  const initial = await loadFile(path, options.log);
  const heartbeats = new Map(initial.heartbeats.map((r) => [r.node_id, r]));
  const registrations = new Map(initial.registrations.map((r) => [r.node_id, r]));
  const delay = options.flushDelayMs ?? 200;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const serialize = (): string => {
    const file: StoreFile = {
      version: 1,
      heartbeats: [...heartbeats.values()].sort((a, b) => a.node_id.localeCompare(b.node_id)),
      registrations: [...registrations.values()].sort((a, b) => a.node_id.localeCompare(b.node_id)),
    };
    return `${JSON.stringify(file, null, 2)}\n`;
  };

  // Writes run one after another; each writes the state as it is then.
  const persist = (): Promise<void> => {
    chain = chain.then(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        await writeFileAtomic(path, serialize());
      } catch (err) {
        dirty = true;
        options.log?.error({ file: path, err }, 'heartbeat file write failed');
      }
    });
    return chain;
  };

  const markDirty = (): void => {
    dirty = true;
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void persist();
    }, delay);
    timer.unref();
  };

  const update = (nodeId: string, ip: string, at: Date, peerIp: string | undefined): RecordResult => {
    const previous = heartbeats.get(nodeId);
    const previousIp = previous?.ip ?? null;
    let nextIp = ip;
    if (ip === UNKNOWN_IP) nextIp = previousIp !== null && previousIp !== UNKNOWN_IP ? previousIp : (peerIp ?? UNKNOWN_IP);
    const record: HeartbeatRecord = { node_id: nodeId, ip: nextIp, last_seen: at.toISOString() };
    heartbeats.set(nodeId, record);
    markDirty();
    return { record: { ...record }, ipChanged: previousIp !== null && previousIp !== nextIp, previousIp };
  };

  return {
    path,
    record(input) {
      return update(input.node_id, input.ip, input.at, input.peerIp);
    },
    recordRegistration(body, at, peerIp) {
      registrations.set(body.node_id, { node_id: body.node_id, received_at: at.toISOString(), body });
      return update(body.node_id, body.ip, at, peerIp);
    },
    get(node) {
      const r = heartbeats.get(node);
      return r === undefined ? undefined : { ...r };
    },
    list() {
      return [...heartbeats.values()].map((r) => ({ ...r })).sort((a, b) => a.node_id.localeCompare(b.node_id));
    },
    listRegistrations() {
      return [...registrations.values()].sort((a, b) => a.node_id.localeCompare(b.node_id));
    },
    flush() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      return persist();
    },
  };
}
