// Fleet-wide state of the model transfers of one apply: who has which model
// now (observed, or received in this apply), who is still to get it, the
// internet slots and rate cap, and the LAN copy slots per source. Pulls and
// copies ask it before they move a byte; it knows nothing of SSH or HTTP.
import type { Plan } from '../model/steps.ts';
import { normalizeModelRef } from '../model/desired.ts';
import type { ObservedNode } from '../schema/observed.ts';
import type { Clock } from '../ports.ts';
import type { TransferSettings } from '../schema/fleet.ts';

export interface TransferLimits {
  /** Internet pulls at once, fleet-wide. */
  maxInternetPulls: number;
  /** The fleet's pulls together stay under this (bytes per second); absent: no cap. */
  capBytesPerSecond?: number;
  /** LAN copies one source serves at once, at most. */
  copiesPerSource: number;
  /** Each node's LAN link in Gbit/s (hardware catalog ethernet_gbps; 1 when absent). */
  linkGbps?: Readonly<Record<string, number>>;
}

type Release = () => void;

/** Seconds of the cap a pull may run ahead before it pauses (the bucket's depth). */
const BURST_SECONDS = 2;

/** fleet.yaml `transfer` as the executor's limits: the cap is line_mbps x cap_percent, in bytes per second. */
export function transferLimitsOf(transfer: TransferSettings | undefined, linkGbps?: Readonly<Record<string, number>>): TransferLimits {
  const internet = transfer?.internet;
  const cap = internet?.line_mbps !== undefined && internet.cap_percent !== undefined ? (internet.line_mbps * 1e6 / 8) * (internet.cap_percent / 100) : undefined;
  return {
    maxInternetPulls: transfer?.mode === 'internet' && internet?.max_pulls === undefined ? Number.POSITIVE_INFINITY : internet?.max_pulls ?? 1,
    copiesPerSource: transfer?.lan?.copies_per_source ?? 4,
    ...(linkGbps !== undefined ? { linkGbps } : {}),
    ...(cap !== undefined ? { capBytesPerSecond: cap } : {}),
  };
}

export class TransferCoordinator {
  readonly limits: TransferLimits;
  private readonly clock: Pick<Clock, 'now' | 'sleep'>;
  /** model -> node -> manifest digest (hex) */
  private readonly holders = new Map<string, Map<string, string>>();
  /** model -> nodes planned to receive it in this apply, not settled yet */
  private readonly pending = new Map<string, Set<string>>();
  /** model -> nodes whose copy waits with no candidate holding it: they bring it to nobody until someone else does */
  private readonly stuck = new Map<string, Set<string>>();
  private readonly busy = new Map<string, number>();
  private internetBusy = 0;
  private waiters: (() => void)[] = [];
  private readonly locks = new Map<string, Promise<void>>();
  // Token bucket for the rate cap: tokens in bytes, refilled at the cap.
  private tokens = 0;
  private refilledAt: number;
  /** The plan copies models over the LAN: pulls and copies go largest first (the plan orders them so, plan/distribute-models.ts). */
  largestFirst = false;
  /** Pulls waiting for an internet slot, by size: the largest gets the next one when largestFirst. */
  private readonly internetQueue: { bytes: number; seq: number }[] = [];
  private seq = 0;
  /** Bytes the internet pulls moved in this apply; LAN copies likewise. */
  internetBytes = 0;
  lanBytes = 0;

  constructor(limits: TransferLimits, clock: Pick<Clock, 'now' | 'sleep'>) {
    this.limits = limits;
    this.clock = clock;
    this.refilledAt = clock.now();
    if (limits.capBytesPerSecond !== undefined) this.tokens = limits.capBytesPerSecond * BURST_SECONDS;
  }

  /** Every node observed with a model holds it; every planned pull or copy is pending until it settles. */
  static fromPlan(plan: Plan, observed: Iterable<ObservedNode>, limits: TransferLimits, clock: Pick<Clock, 'now' | 'sleep'>): TransferCoordinator {
    const c = new TransferCoordinator(limits, clock);
    const removing = new Set(plan.nodes.flatMap((np) => np.steps.flatMap((s) => (s.kind === 'remove-model' ? [`${np.node}\u0000${normalizeModelRef(s.model)}`] : []))));
    for (const o of observed) {
      if (o.reach.status !== 'ok') continue;
      for (const m of o.facts?.ollama.models ?? []) {
        const model = normalizeModelRef(m.name);
        if (!removing.has(`${o.node}\u0000${model}`)) c.holderMap(model).set(o.node, m.digest);
      }
    }
    c.largestFirst = plan.nodes.some((np) => np.steps.some((s) => s.kind === 'copy-model'));
    for (const np of plan.nodes) {
      for (const s of np.steps) {
        if (s.kind !== 'pull-model' && s.kind !== 'copy-model') continue;
        const model = normalizeModelRef(s.model);
        const set = c.pending.get(model) ?? new Set<string>();
        set.add(np.node);
        c.pending.set(model, set);
      }
    }
    return c;
  }

  private holderMap(model: string): Map<string, string> {
    let m = this.holders.get(model);
    if (!m) {
      m = new Map();
      this.holders.set(model, m);
    }
    return m;
  }

  private changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private wait(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
      const onAbort = (): void => reject(new DOMException('aborted', 'AbortError'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * Copies `source` may serve at once to `target`: a source serves several
   * only when its link is that many times the target's (a 10 GbE Studio to
   * 1 GbE minis). Between equal links one at a time is faster for the fleet:
   * the first target done becomes a source too (a doubling tree), where two
   * at once would each take twice as long. Never above copies_per_source.
   */
  slotsFor(source: string, target: string): number {
    const link = (n: string): number => this.limits.linkGbps?.[n] ?? 1;
    return Math.min(this.limits.copiesPerSource, Math.max(1, Math.floor(link(source) / link(target))));
  }

  private canServe(source: string, target: string): boolean {
    return (this.busy.get(source) ?? 0) < this.slotsFor(source, target);
  }

  /** The manifest digest `node` holds `model` with, when it holds it. */
  digestOf(node: string, model: string): string | undefined {
    return this.holders.get(normalizeModelRef(model))?.get(node);
  }

  /** A pull or copy on `node` ended: with the model (its digest) or without it. */
  settle(node: string, model: string, digest: string | undefined): void {
    const m = normalizeModelRef(model);
    this.pending.get(m)?.delete(node);
    if (digest !== undefined) this.holderMap(m).set(node, digest);
    this.changed();
  }

  /**
   * The first of `candidates` (in order) that holds `model` and has a free
   * copy slot, with the slot taken; waits while a candidate is still to get
   * it or every holder is busy. Undefined when no candidate has it or ever will.
   */
  async acquireSource(model: string, candidates: readonly string[], excluded: ReadonlySet<string>, signal?: AbortSignal, target = ''): Promise<{ node: string; digest: string; release: Release } | undefined> {
    const m = normalizeModelRef(model);
    const stuck = this.stuck.get(m) ?? new Set<string>();
    this.stuck.set(m, stuck);
    try {
      for (;;) {
        const usable = candidates.filter((c) => !excluded.has(c));
        const holders = this.holders.get(m);
        const have = usable.filter((c) => holders?.has(c) === true);
        // An idle holder first, then one that may take another copy.
        const free = have.find((c) => (this.busy.get(c) ?? 0) === 0) ?? have.find((c) => this.canServe(c, target));
        if (free !== undefined) {
          this.busy.set(free, (this.busy.get(free) ?? 0) + 1);
          let released = false;
          return {
            node: free,
            digest: holders?.get(free) ?? '',
            release: () => {
              if (released) return;
              released = true;
              this.busy.set(free, (this.busy.get(free) ?? 1) - 1);
              this.changed();
            },
          };
        }
        // A candidate still to get the model counts, unless it is itself waiting with nobody to get it from
        // (two targets whose source failed would otherwise wait for each other).
        const coming = usable.some((c) => this.pending.get(m)?.has(c) === true && !stuck.has(c));
        if (have.length === 0 && !coming) return undefined;
        const wasStuck = stuck.has(target);
        if (have.length === 0) stuck.add(target);
        else stuck.delete(target);
        if (wasStuck !== stuck.has(target)) this.changed();
        await this.wait(signal);
      }
    } finally {
      if (stuck.delete(target)) this.changed();
    }
  }

  /**
   * Which of a node's waiting copies to run next: the first whose model a
   * candidate holds with a free copy slot; else the first no candidate has
   * or will have (it falls back at once); else waits for a change.
   */
  async nextServable(wants: readonly { model: string; candidates: readonly string[] }[], signal?: AbortSignal, target = ''): Promise<number> {
    const marked = new Set<string>();
    try {
      for (;;) {
        const ready = wants.findIndex((w) => {
          const holders = this.holders.get(normalizeModelRef(w.model));
          return w.candidates.some((c) => holders?.has(c) === true && this.canServe(c, target));
        });
        if (ready !== -1) return ready;
        // As in acquireSource: a candidate waiting with nobody to get the model from brings it to nobody.
        const hopeless = wants.findIndex((w) => {
          const m = normalizeModelRef(w.model);
          const stuck = this.stuck.get(m);
          return !w.candidates.some((c) => this.holders.get(m)?.has(c) === true || (this.pending.get(m)?.has(c) === true && stuck?.has(c) !== true));
        });
        if (hopeless !== -1) return hopeless;
        let changed = false;
        for (const w of wants) {
          const m = normalizeModelRef(w.model);
          const holders = this.holders.get(m);
          if (w.candidates.some((c) => holders?.has(c) === true)) continue;
          const stuck = this.stuck.get(m) ?? new Set<string>();
          this.stuck.set(m, stuck);
          if (!stuck.has(target)) {
            stuck.add(target);
            marked.add(m);
            changed = true;
          }
        }
        if (changed) this.changed();
        await this.wait(signal);
      }
    } finally {
      let changed = false;
      for (const m of marked) changed = (this.stuck.get(m)?.delete(target) ?? false) || changed;
      if (changed) this.changed();
    }
  }

  /** An internet pull slot (transfer.internet.max_pulls); with largestFirst, the largest waiting pull gets it first. */
  async acquireInternet(signal?: AbortSignal, bytes = 0): Promise<Release> {
    const me = { bytes: this.largestFirst ? bytes : 0, seq: this.seq++ };
    this.internetQueue.push(me);
    const first = (): boolean => this.internetQueue.every((o) => o === me || o.bytes < me.bytes || (o.bytes === me.bytes && o.seq > me.seq));
    try {
      while (this.internetBusy >= this.limits.maxInternetPulls || !first()) await this.wait(signal);
    } finally {
      this.internetQueue.splice(this.internetQueue.indexOf(me), 1);
      this.changed();
    }
    this.internetBusy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.internetBusy--;
      this.changed();
    };
  }

  /**
   * Counts bytes an internet pull moved. Returns how long the pull must pause
   * (ms) to keep the fleet under the cap, 0 when it may go on.
   */
  tookInternet(bytes: number): number {
    this.internetBytes += bytes;
    const cap = this.limits.capBytesPerSecond;
    if (cap === undefined) return 0;
    const now = this.clock.now();
    this.tokens = Math.min(cap * BURST_SECONDS, this.tokens + ((now - this.refilledAt) / 1000) * cap);
    this.refilledAt = now;
    this.tokens -= bytes;
    // Paused until the bucket is half full again, so pauses are few and long rather than many.
    return this.tokens >= 0 ? 0 : Math.ceil(((-this.tokens + (cap * BURST_SECONDS) / 2) / cap) * 1000);
  }

  private readonly granted = new Set<string>();

  /** True the first time a copy asks to use `source` in this apply (stale keys are cleared then). */
  firstGrant(source: string): boolean {
    if (this.granted.has(source)) return false;
    this.granted.add(source);
    return true;
  }

  /** Runs `fn` alone among the callers for `key` (edits of one node's authorized_keys). */
  async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    this.locks.set(key, before.then(() => mine));
    await before;
    try {
      return await fn();
    } finally {
      done();
    }
  }
}
