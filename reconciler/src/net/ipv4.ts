// IPv4 addresses as Bob accepts them: canonical dotted quads only, and, where
// an address will carry traffic (a node's heartbeat IP, Bob's address), a
// plausible unicast one. Pure.
import { IPV4 } from '../schema/common.ts';

const CANONICAL = new RegExp(IPV4);

/** The address as a 32-bit number, or null unless it is a canonical dotted quad (no 3232235796, no 0300.0250.1.20). */
export function parseIpv4(text: string): number | null {
  if (!CANONICAL.test(text)) return null;
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inRange(ip: number, base: string, bits: number): boolean {
  const b = parseIpv4(base) ?? 0;
  const size = 2 ** (32 - bits);
  return ip >= b && ip < b + size;
}

export interface UnicastOptions {
  /** 127.0.0.0/8 counts as plausible (a simulated fleet on loopback); never on a real LAN. */
  allowLoopback: boolean;
}

/**
 * Why `text` cannot be a node's address, or null when it can: refuses the
 * forms inet_aton also reads, "this network", loopback (unless allowed),
 * link-local, multicast, reserved and broadcast addresses.
 */
export function unicastProblem(text: string, options: UnicastOptions): string | null {
  const ip = parseIpv4(text);
  if (ip === null) return `${JSON.stringify(text)} is not an IPv4 address written as four decimal numbers without leading zeros`;
  if (inRange(ip, '0.0.0.0', 8)) return `${text} is in 0.0.0.0/8 ("this network"), not a host`;
  if (inRange(ip, '127.0.0.0', 8) && !options.allowLoopback) return `${text} is a loopback address`;
  if (inRange(ip, '169.254.0.0', 16)) return `${text} is link-local (no DHCP lease), not a stable address`;
  if (inRange(ip, '224.0.0.0', 4)) return `${text} is a multicast address`;
  if (ip === 0xffffffff) return `${text} is the broadcast address`;
  if (inRange(ip, '240.0.0.0', 4)) return `${text} is reserved (240.0.0.0/4)`;
  return null;
}
