// The one gate every outbound connection passes (SSH, Ollama HTTP, registry
// POSTs). With FLEET_LOOPBACK_ONLY=1 it refuses anything outside 127.0.0.0/8
// and ::1 before a socket is opened, so tests, demos and CI can never reach a
// real fleet's LAN or Tailscale addresses.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { FleetError } from '../errors.ts';

export class LoopbackViolation extends FleetError {
  readonly target: string;
  constructor(target: string) {
    super('loopback-only', `refused connection to ${target}: FLEET_LOOPBACK_ONLY=1 allows only 127.0.0.0/8 and ::1. Point the command at the simulated fleet with --targets, or unset FLEET_LOOPBACK_ONLY on Bob.`);
    this.target = target;
  }
}

export function isLoopbackAddress(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  if (isIP(ip) === 6) return ip === '::1' || /^::ffff:127\./i.test(ip);
  return false;
}

export function loopbackOnly(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FLEET_LOOPBACK_ONLY === '1';
}

export interface ConnectionGuard {
  /** Resolves `host` and returns the IP to connect to; throws LoopbackViolation when refused. */
  resolve(host: string): Promise<string>;
}

/**
 * A guard that resolves names itself and hands back the IP to dial, so a name
 * cannot resolve to loopback at check time and elsewhere at connect time.
 */
export function createGuard(options: { loopbackOnly: boolean }): ConnectionGuard {
  return {
    async resolve(host: string): Promise<string> {
      const bare = host.replace(/^\[|\]$/g, '');
      let ip = bare;
      if (isIP(bare) === 0) {
        if (options.loopbackOnly && bare !== 'localhost') throw new LoopbackViolation(host);
        ip = (await lookup(bare)).address;
      }
      if (options.loopbackOnly && !isLoopbackAddress(ip)) throw new LoopbackViolation(host);
      return ip;
    },
  };
}

/** Checks a URL's host through the guard; returns the URL with the host replaced by the resolved IP. */
export async function guardUrl(guard: ConnectionGuard, url: string): Promise<string> {
  const u = new URL(url);
  const ip = await guard.resolve(u.hostname);
  u.hostname = isIP(ip) === 6 ? `[${ip}]` : ip;
  return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
}

/** A fetch that goes through the guard: use it for every HTTP call, including the ollama client's. */
export function guardedFetch(guard: ConnectionGuard): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    return fetch(await guardUrl(guard, url), init);
  };
}
