// The simulated fleet's network as it is in a home: one internet line shared
// by every Mac (downloads), and each Mac's own LAN link (up and down, full
// duplex: 1 GbE, or 10 GbE where the hardware catalog says so). A transfer is
// a flow over the links it crosses (a pull: the line and the node's downlink;
// a LAN copy: the source's uplink and the target's downlink); the links'
// capacity is shared max-min fairly among the flows crossing them, recomputed
// whenever a flow starts or ends. Flows draw bytes from credit that accrues
// at their rate, so what moves is what the links allow, never more.
export interface NetworkOptions {
  /** The internet line's download rate, bytes per second (100 Mbit/s is 12.5e6). */
  internetBytesPerSecond: number;
  /** Multiplies every LAN link's rate (the benchmark's time scale); default 1. */
  lanScale?: number;
}

interface Link {
  name: string;
  capacity: number;
}

export interface Flow {
  /** Bytes the flow may move now (credit accrued at its rate), at most `max`; taken from the credit. */
  drain(max: number): number;
  /** Resolves once `bytes` may move (waits for credit). */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Its current rate, bytes per second. */
  rate(): number;
  close(): void;
}

/** What crossed the internet line: cumulative bytes at each moment a flow drew from it. */
export interface LineSample {
  atMs: number;
  bytes: number;
}

const MAX_CREDIT_SECONDS = 0.1;

class FlowImpl implements Flow {
  readonly links: Link[];
  private readonly net: SimNetwork;
  current = 0;
  private credit = 0;
  private at = performance.now();
  closed = false;

  constructor(net: SimNetwork, links: Link[]) {
    this.net = net;
    this.links = links;
  }

  /** Credit accrued since the last look, at the rate that held then. */
  accrue(): void {
    const now = performance.now();
    this.credit = Math.min(this.credit + ((now - this.at) / 1000) * this.current, Math.max(this.current * MAX_CREDIT_SECONDS, 65536));
    this.at = now;
  }

  setRate(rate: number): void {
    this.accrue();
    this.current = rate;
  }

  drain(max: number): number {
    if (this.closed) return 0;
    this.accrue();
    const n = Math.max(0, Math.min(max, Math.floor(this.credit)));
    this.credit -= n;
    this.net.moved(this, n);
    return n;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.closed || signal?.aborted) return;
      this.accrue();
      if (this.credit >= bytes || this.credit >= this.current * MAX_CREDIT_SECONDS) {
        const n = Math.min(bytes, Math.floor(this.credit));
        this.credit -= n;
        this.net.moved(this, n);
        bytes -= n;
        if (bytes <= 0) return;
      }
      const wait = this.current > 0 ? Math.min(100, Math.max(2, ((bytes - this.credit) / this.current) * 1000)) : 20;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  rate(): number {
    return this.current;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.remove(this);
  }
}

export class SimNetwork {
  readonly internet: Link;
  private readonly lanScale: number;
  private readonly nodes = new Map<string, { ip: string; up: Link; down: Link }>();
  private readonly flows = new Set<FlowImpl>();
  private internetBytes = 0;
  private lanBytes = 0;
  private readonly internetByNode = new Map<string, number>();
  private readonly flowNode = new WeakMap<FlowImpl, string>();
  private readonly samples: LineSample[] = [];
  private readonly started = performance.now();

  constructor(options: NetworkOptions) {
    this.internet = { name: 'internet', capacity: options.internetBytesPerSecond };
    this.lanScale = options.lanScale ?? 1;
  }

  /** A Mac on the LAN with a link of `gbps` Gbit/s. */
  addNode(name: string, ip: string, gbps: number): void {
    const rate = (gbps * 1e9 / 8) * this.lanScale;
    this.nodes.set(name, { ip, up: { name: `${name}:up`, capacity: rate }, down: { name: `${name}:down`, capacity: rate } });
  }

  nodeByIp(ip: string): string | undefined {
    for (const [name, n] of this.nodes) if (n.ip === ip) return name;
    return undefined;
  }

  /** A download from the internet onto `node`. */
  pullFlow(node: string): Flow {
    const n = this.nodes.get(node);
    const f = this.open([this.internet, ...(n ? [n.down] : [])]);
    this.flowNode.set(f, node);
    return f;
  }

  /** A LAN transfer from `source` to `target`. */
  lanFlow(source: string, target: string): Flow {
    const s = this.nodes.get(source);
    const t = this.nodes.get(target);
    return this.open([...(s ? [s.up] : []), ...(t ? [t.down] : [])]);
  }

  private open(links: Link[]): FlowImpl {
    const f = new FlowImpl(this, links);
    this.flows.add(f);
    this.allocate();
    return f;
  }

  remove(f: FlowImpl): void {
    this.flows.delete(f);
    this.allocate();
  }

  moved(f: FlowImpl, bytes: number): void {
    if (bytes <= 0) return;
    if (f.links.includes(this.internet)) {
      this.internetBytes += bytes;
      const node = this.flowNode.get(f);
      if (node !== undefined) this.internetByNode.set(node, (this.internetByNode.get(node) ?? 0) + bytes);
      this.samples.push({ atMs: performance.now() - this.started, bytes: this.internetBytes });
      if (this.samples.length > 200_000) this.samples.splice(0, 100_000);
    } else {
      this.lanBytes += bytes;
    }
  }

  /** Max-min fair shares: the most contended link fixes its flows' rate, then the next. */
  private allocate(): void {
    const left = new Map<Link, number>();
    const open = new Set(this.flows);
    for (const f of open) for (const l of f.links) left.set(l, l.capacity);
    const rates = new Map<FlowImpl, number>();
    while (open.size > 0) {
      let bottleneck: Link | undefined;
      let share = Number.POSITIVE_INFINITY;
      for (const [l, cap] of left) {
        const n = [...open].filter((f) => f.links.includes(l)).length;
        if (n > 0 && cap / n < share) {
          share = cap / n;
          bottleneck = l;
        }
      }
      if (bottleneck === undefined) {
        for (const f of open) rates.set(f, 0);
        break;
      }
      for (const f of [...open].filter((x) => x.links.includes(bottleneck))) {
        rates.set(f, share);
        open.delete(f);
        for (const l of f.links) left.set(l, Math.max(0, (left.get(l) ?? 0) - share));
      }
    }
    for (const [f, r] of rates) f.setRate(r);
  }

  /** Bytes that crossed the line and the LAN so far, and the line's cumulative samples (for the cap test). */
  stats(): { internetBytes: number; lanBytes: number; internetByNode: Record<string, number>; lineSamples: readonly LineSample[] } {
    return { internetBytes: this.internetBytes, lanBytes: this.lanBytes, internetByNode: Object.fromEntries(this.internetByNode), lineSamples: this.samples };
  }
}
