// Who may tell Bob what about a node. Each node holds its own secret (a 0600
// file installed by `fleet apply`); heartbeat.sh signs its body with it:
//
//   X-Symphony-Timestamp: <unix seconds>
//   X-Symphony-Signature: v1=<hex HMAC-SHA256(key, "v1:" + timestamp + ":" + body)>
//
// where key is the 32 bytes the file's 64 hex digits spell. Bob accepts a
// signature within a replay window around its own clock, once. The judgement
// (judgeBeat) is pure: what an unsigned, badly signed or signed heartbeat may
// change.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { unicastProblem } from '../net/ipv4.ts';
import { UNKNOWN_IP } from '../schema/registry-api.ts';
import type { NodeBeat } from './heartbeats.ts';

export const TIMESTAMP_HEADER = 'x-symphony-timestamp';
export const NODE_SIGNATURE_HEADER = 'x-symphony-signature';
/** Seconds a signed heartbeat stays acceptable either side of Bob's clock. */
export const REPLAY_WINDOW_S = 300;

/** The signature header value for `body` sent at `timestamp` (unix seconds): what heartbeat.sh computes. */
export function signBeat(key: Buffer, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', key).update(`v1:${timestamp}:`).update(body).digest('hex');
  return `v1=${mac}`;
}

export type SignatureCheck =
  | { state: 'none' }
  | { state: 'valid'; timestamp: number; mac: string }
  | { state: 'bad'; why: string };

/** Checks the two headers against the node's key; `key` undefined: Bob holds none for it. */
export function checkSignature(key: Buffer | undefined, headers: { timestamp?: string | undefined; signature?: string | undefined }, body: Buffer, nowS: number, windowS = REPLAY_WINDOW_S): SignatureCheck {
  const { timestamp, signature } = headers;
  if (timestamp === undefined && signature === undefined) return { state: 'none' };
  if (timestamp === undefined || signature === undefined) return { state: 'bad', why: `both ${TIMESTAMP_HEADER} and ${NODE_SIGNATURE_HEADER} are needed` };
  if (!/^[0-9]{1,12}$/.test(timestamp)) return { state: 'bad', why: `${TIMESTAMP_HEADER} must be unix seconds` };
  const m = /^v1=([0-9a-f]{64})$/.exec(signature.trim());
  if (m?.[1] === undefined) return { state: 'bad', why: `${NODE_SIGNATURE_HEADER} must be v1=<64 hex>` };
  const ts = Number(timestamp);
  if (Math.abs(nowS - ts) > windowS) return { state: 'bad', why: `timestamp ${ts} is ${nowS - ts} s from Bob's clock (window ±${windowS} s): check the node's clock, or a replay` };
  if (key === undefined) return { state: 'bad', why: 'Bob holds no key for this node: run `fleet apply` (it installs one) or `fleet secret rotate NODE`' };
  const expected = Buffer.from(signBeat(key, ts, body).slice(3), 'hex');
  const given = Buffer.from(m[1], 'hex');
  if (!timingSafeEqual(expected, given)) return { state: 'bad', why: 'signature does not match the node\'s key' };
  return { state: 'valid', timestamp: ts, mac: m[1] };
}

/**
 * Remembers accepted signatures until they leave the replay window, per node
 * and bounded: when a node's list is full its oldest entry goes and nothing
 * older than it is accepted any more.
 */
export interface ReplayGuard {
  /** true the first time; false for a replay. */
  accept(node: string, mac: string, timestamp: number, nowS: number): boolean;
}

export function createReplayGuard(options: { windowS?: number; perNode?: number } = {}): ReplayGuard {
  const windowS = options.windowS ?? REPLAY_WINDOW_S;
  const perNode = options.perNode ?? 256;
  const seen = new Map<string, { macs: Map<string, number>; floor: number }>();
  return {
    accept(node, mac, timestamp, nowS) {
      let entry = seen.get(node);
      if (entry === undefined) {
        entry = { macs: new Map(), floor: -Infinity };
        seen.set(node, entry);
      }
      for (const [k, ts] of entry.macs) if (ts < nowS - windowS) entry.macs.delete(k);
      if (timestamp <= entry.floor || entry.macs.has(mac)) return false;
      entry.macs.set(mac, timestamp);
      if (entry.macs.size > perNode) {
        const [oldest, ts] = [...entry.macs.entries()].reduce((a, b) => (b[1] < a[1] ? b : a));
        entry.macs.delete(oldest);
        entry.floor = Math.max(entry.floor, ts);
      }
      return true;
    },
  };
}

export interface BeatInput {
  node: string;
  /** As the body says (an IPv4 address or UNKNOWN). */
  reportedIp: string;
  /** The connection's source address. */
  peerIp: string | null;
  signature: SignatureCheck;
  previous: NodeBeat | undefined;
  /** The node's IPv4 addresses in fleet/ (where an unsigned heartbeat may come from before any was accepted). */
  fleetAddresses: readonly string[];
  /** 127.0.0.0/8 is plausible (a simulated fleet on loopback). */
  allowLoopback: boolean;
}

export type BeatVerdict =
  | { accept: false; status: 401 | 403; reason: string }
  | {
    accept: true;
    /** 200, or 422 when the node proved itself but its new IP was not taken. */
    status: 200 | 422;
    ip: string;
    signed: boolean;
    reason: string | null;
  };

/**
 * What a heartbeat may change. Unsigned (a node provisioned before keys):
 * liveness only, and only from the node's last known source address. A bad
 * signature: nothing. Signed: liveness, and a new IP only when it is a
 * plausible unicast address and the connection came from it.
 */
export function judgeBeat(input: BeatInput): BeatVerdict {
  const { previous, peerIp, signature } = input;
  const keptIp = previous?.ip ?? UNKNOWN_IP;
  if (signature.state === 'bad') return { accept: false, status: 401, reason: `signature refused: ${signature.why}` };
  if (signature.state === 'none') {
    if (previous?.signed === true) {
      return { accept: false, status: 401, reason: `${input.node} signs its heartbeats; an unsigned one is refused (a downgrade)` };
    }
    const known = previous?.source_ip ?? null;
    const fromKnown = peerIp !== null && (known !== null ? peerIp === known : input.fleetAddresses.includes(peerIp));
    if (!fromKnown) {
      const where = known ?? (input.fleetAddresses.length > 0 ? input.fleetAddresses.join(', ') : 'none yet');
      return { accept: false, status: 403, reason: `unsigned heartbeat for ${input.node} from ${peerIp ?? 'an unknown address'}, not its last known address (${where}); run \`fleet apply\` so the node gets its key and signs` };
    }
    // Liveness only; the first address comes from the fleet file it matched.
    return { accept: true, status: 200, ip: keptIp === UNKNOWN_IP ? peerIp : keptIp, signed: false, reason: null };
  }
  if (input.reportedIp === UNKNOWN_IP || input.reportedIp === keptIp) {
    return { accept: true, status: 200, ip: keptIp === UNKNOWN_IP && peerIp !== null && unicastProblem(peerIp, { allowLoopback: input.allowLoopback }) === null ? peerIp : keptIp, signed: true, reason: null };
  }
  const implausible = unicastProblem(input.reportedIp, { allowLoopback: input.allowLoopback });
  if (implausible !== null) return { accept: true, status: 422, ip: keptIp, signed: true, reason: `IP not changed: ${implausible}` };
  if (peerIp !== input.reportedIp) {
    return { accept: true, status: 422, ip: keptIp, signed: true, reason: `IP not changed: the heartbeat says ${input.reportedIp} but came from ${peerIp ?? 'an unknown address'}` };
  }
  return { accept: true, status: 200, ip: input.reportedIp, signed: true, reason: null };
}
