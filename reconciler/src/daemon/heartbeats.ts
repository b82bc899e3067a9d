// What nodes tell Bob: last heartbeat, current IP and the address it came
// from, per known node; and a bounded list of registrations from nodes the
// fleet does not know (shown in status, never in the generated files). Kept
// in memory and written atomically to a JSON file in the workdir (writes
// coalesced). A failed write (disk full) keeps everything in memory, is
// retried with backoff and reported, so no heartbeat is lost while the daemon runs.
import { rename } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { readIfExists } from '../fs/read-if-exists.ts';
import type { HeartbeatRecord } from '../schema/observed.ts';
import { UNKNOWN_IP } from '../schema/registry-api.ts';
import type { RegisterRequest } from '../schema/registry-api.ts';

/** A known node as Bob last heard from it. */
export interface NodeBeat {
  node_id: string;
  /** The node's address as Bob accepted it (UNKNOWN until one is). */
  ip: string;
  last_seen: string;
  /** Where its last accepted heartbeat came from: an unsigned one is believed only from here. */
  source_ip: string | null;
  /** A valid signature was seen from it: unsigned heartbeats are refused from then on. */
  signed: boolean;
}

export interface PendingRegistration {
  node_id: string;
  peer: string | null;
  received_at: string;
  body: RegisterRequest;
}

export interface RegistrationRecord {
  node_id: string;
  received_at: string;
  body: RegisterRequest;
}

export interface BeatUpdate {
  node_id: string;
  at: Date;
  /** The address to keep: unchanged unless the caller validated a change. */
  ip: string;
  source_ip: string | null;
  signed: boolean;
}

export interface RecordResult {
  record: NodeBeat;
  /** The node's IP differs from the one Bob knew (true for the first one Bob learns). */
  ipChanged: boolean;
  previousIp: string | null;
}

export interface WriteStatus {
  /** Changes not on disk yet. */
  pending: boolean;
  /** The last write's error, until a write succeeds. */
  error: string | null;
  failing_since: string | null;
  writes: number;
  failures: number;
}

export interface HeartbeatStore {
  readonly path: string;
  /** Stores an update the registry API already judged (heartbeat-policy.ts). */
  update(input: BeatUpdate): RecordResult;
  get(node: string): NodeBeat | undefined;
  /** Sorted by node_id, with a usable IP: the input generate takes. */
  list(): HeartbeatRecord[];
  listBeats(): NodeBeat[];
  recordRegistration(body: RegisterRequest, at: Date): void;
  listRegistrations(): RegistrationRecord[];
  /** A registration from a node the fleet does not know: held in a bounded list, oldest dropped. */
  addPending(entry: PendingRegistration): void;
  listPending(): PendingRegistration[];
  /** Drops what is kept about nodes no longer in the fleet. */
  retain(known: ReadonlySet<string>): void;
  writeStatus(): WriteStatus;
  /** Resolves once everything recorded so far is on disk; throws when the write failed (kept in memory). */
  flush(): Promise<void>;
  /** Stops the retry timer (daemon shutdown). */
  close(): void;
}

export interface StoreLimits {
  /** Pending registrations kept (default 32); the oldest goes first. */
  pendingMax: number;
  /** Bytes of one pending registration's body as JSON (default 4 KiB); larger ones are cut to their node_id. */
  pendingBodyBytes: number;
}

export interface HeartbeatStoreOptions {
  /** Coalesces writes: at most one write per this many ms (default 200). */
  flushDelayMs?: number;
  /** First retry after a failed write (default 1 s, doubling up to 60 s). */
  retryBaseMs?: number;
  limits?: Partial<StoreLimits>;
  /** Writes the file (default: write-file-atomic, 0600); tests inject ENOSPC. */
  writeFile?: (path: string, text: string) => Promise<void>;
  log?: { warn(fields: object, message: string): void; error(fields: object, message: string): void; info?(fields: object, message: string): void };
}

interface StoreFile {
  version: 2;
  heartbeats: NodeBeat[];
  registrations: RegistrationRecord[];
  pending: PendingRegistration[];
}

const EMPTY: StoreFile = { version: 2, heartbeats: [], registrations: [], pending: [] };

function isBeat(v: unknown): v is Partial<NodeBeat> & Pick<NodeBeat, 'node_id' | 'ip' | 'last_seen'> {
  const r = v as Partial<NodeBeat> | null;
  return typeof r === 'object' && r !== null && typeof r.node_id === 'string' && typeof r.ip === 'string' && typeof r.last_seen === 'string';
}

async function loadFile(path: string, log: HeartbeatStoreOptions['log']): Promise<StoreFile> {
  const text = await readIfExists(path);
  if (text === undefined) return structuredClone(EMPTY);
  try {
    const v = JSON.parse(text) as Partial<StoreFile>;
    return {
      version: 2,
      // Version 1 files had no source or signature: those records start unsigned, with no source.
      heartbeats: Array.isArray(v.heartbeats)
        ? v.heartbeats.filter(isBeat).map((b) => ({ node_id: b.node_id, ip: b.ip, last_seen: b.last_seen, source_ip: typeof b.source_ip === 'string' ? b.source_ip : null, signed: b.signed === true }))
        : [],
      registrations: Array.isArray(v.registrations) ? v.registrations.filter((r) => typeof r?.node_id === 'string') : [],
      pending: Array.isArray(v.pending) ? v.pending.filter((r) => typeof r?.node_id === 'string') : [],
    };
  } catch {
    // Keep the damaged file for a person to look at; start empty (heartbeats come back within a minute).
    const aside = `${path}.corrupt-${Date.now()}`;
    await rename(path, aside).catch(() => undefined);
    log?.warn({ file: path, moved_to: aside }, 'heartbeat file unreadable, starting empty');
    return structuredClone(EMPTY);
  }
}

const defaultWrite = (path: string, text: string): Promise<void> => writeFileAtomic(path, text, { mode: 0o600 });

export async function openHeartbeatStore(path: string, options: HeartbeatStoreOptions = {}): Promise<HeartbeatStore> {
  const limits: StoreLimits = { pendingMax: 32, pendingBodyBytes: 4096, ...options.limits };
  const initial = await loadFile(path, options.log);
  const beats = new Map(initial.heartbeats.map((r) => [r.node_id, r]));
  const registrations = new Map(initial.registrations.map((r) => [r.node_id, r]));
  const pending: PendingRegistration[] = initial.pending.slice(-limits.pendingMax);
  const delay = options.flushDelayMs ?? 200;
  const retryBase = options.retryBaseMs ?? 1000;
  const write = options.writeFile ?? defaultWrite;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  const status: WriteStatus = { pending: false, error: null, failing_since: null, writes: 0, failures: 0 };
  let retryMs = retryBase;
  let closed = false;

  const serialize = (): string => {
    const file: StoreFile = {
      version: 2,
      heartbeats: [...beats.values()].sort((a, b) => a.node_id.localeCompare(b.node_id)),
      registrations: [...registrations.values()].sort((a, b) => a.node_id.localeCompare(b.node_id)),
      pending,
    };
    return `${JSON.stringify(file, null, 2)}\n`;
  };

  const schedule = (ms: number): void => {
    if (timer !== null || closed) return;
    timer = setTimeout(() => {
      timer = null;
      void persist().catch(() => undefined);
    }, ms);
    timer.unref();
  };

  // Writes run one after another; each writes the state as it is then. A
  // failure leaves the state dirty and schedules a retry.
  const persist = (): Promise<void> => {
    const run = chain.then(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        await write(path, serialize());
        status.writes++;
        if (status.error !== null) options.log?.info?.({ file: path, failed_for: status.failing_since }, 'heartbeat file written again');
        status.error = null;
        status.failing_since = null;
        retryMs = retryBase;
      } catch (err) {
        dirty = true;
        status.failures++;
        status.error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        status.failing_since ??= new Date().toISOString();
        options.log?.error({ file: path, err, retry_in_ms: retryMs }, 'heartbeat file write failed: kept in memory, retrying');
        schedule(retryMs);
        retryMs = Math.min(retryMs * 2, 60_000);
        throw err;
      } finally {
        status.pending = dirty;
      }
    });
    chain = run.catch(() => undefined);
    return run;
  };

  const markDirty = (): void => {
    dirty = true;
    status.pending = true;
    // While writes fail the retry timer is already set.
    if (status.error === null) schedule(delay);
  };

  return {
    path,
    update(input) {
      const previous = beats.get(input.node_id);
      const previousIp = previous?.ip ?? null;
      const record: NodeBeat = { node_id: input.node_id, ip: input.ip, last_seen: input.at.toISOString(), source_ip: input.source_ip, signed: input.signed || (previous?.signed ?? false) };
      beats.set(input.node_id, record);
      markDirty();
      // The first address Bob learns counts as a change too: the registry had the fleet file's or the observed one.
      return { record: { ...record }, ipChanged: record.ip !== UNKNOWN_IP && previousIp !== record.ip, previousIp };
    },
    get(node) {
      const r = beats.get(node);
      return r === undefined ? undefined : { ...r };
    },
    list() {
      return [...beats.values()].map((r) => ({ node_id: r.node_id, ip: r.ip, last_seen: r.last_seen })).sort((a, b) => a.node_id.localeCompare(b.node_id));
    },
    listBeats() {
      return [...beats.values()].map((r) => ({ ...r })).sort((a, b) => a.node_id.localeCompare(b.node_id));
    },
    recordRegistration(body, at) {
      registrations.set(body.node_id, { node_id: body.node_id, received_at: at.toISOString(), body });
      markDirty();
    },
    listRegistrations() {
      return [...registrations.values()].sort((a, b) => a.node_id.localeCompare(b.node_id));
    },
    addPending(entry) {
      const size = Buffer.byteLength(JSON.stringify(entry.body));
      const body = size <= limits.pendingBodyBytes ? entry.body : ({ node_id: entry.node_id } as RegisterRequest);
      // One entry per name and address: a repeated registration replaces its older copy.
      const i = pending.findIndex((p) => p.node_id === entry.node_id && p.peer === entry.peer);
      if (i !== -1) pending.splice(i, 1);
      pending.push({ ...entry, body });
      while (pending.length > limits.pendingMax) pending.shift();
      markDirty();
    },
    listPending() {
      return pending.map((p) => ({ ...p }));
    },
    retain(known) {
      let changed = false;
      for (const id of [...beats.keys()]) if (!known.has(id)) { beats.delete(id); changed = true; }
      for (const id of [...registrations.keys()]) if (!known.has(id)) { registrations.delete(id); changed = true; }
      // A node added by a pull request leaves the pending list.
      for (let i = pending.length - 1; i >= 0; i--) if (known.has(pending[i]?.node_id ?? '')) { pending.splice(i, 1); changed = true; }
      if (changed) markDirty();
    },
    writeStatus: () => ({ ...status }),
    flush() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      dirty = dirty || status.pending;
      return persist();
    },
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
