// Where a simulated node's web requests go when they are not for loopback.
// Every process a node starts carries proxy variables pointing here
// (mac-userland.ts egressEnv), so curl, git and anything else that honours
// them ask this trap instead of the network, even a script that resets PATH
// and calls the host's own curl. The trap answers 403 and records the
// attempt: tests assert the record is empty, and `fleet sim status` shows it.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../net/loopback-server.ts';

export interface EgressAttempt {
  at: string;
  /** GET, POST, CONNECT, ... */
  method: string;
  /** host:port (CONNECT) or the absolute URL asked for. */
  target: string;
  /** The local address the request came from (a node's 127.0.1.x). */
  from: string;
}

export interface EgressTrap {
  /** http://127.0.0.1:PORT, for the proxy variables. */
  readonly url: string;
  attempts(): readonly EgressAttempt[];
  close(): Promise<void>;
}

const REFUSAL = 'refused by the simulated fleet: a simulated Mac may only reach loopback addresses\n';

export async function startEgressTrap(options: { onAttempt?: (a: EgressAttempt) => void } = {}): Promise<EgressTrap> {
  const attempts: EgressAttempt[] = [];
  const record = (method: string, target: string, socket: Socket): void => {
    const attempt = { at: new Date().toISOString(), method, target, from: socket.remoteAddress ?? '' };
    // Bounded: a script in a loop must not grow the simulator without end.
    if (attempts.length < 10_000) attempts.push(attempt);
    options.onAttempt?.(attempt);
  };
  const server: Server = createServer((req, res) => {
    record(req.method ?? 'GET', req.url ?? '', req.socket);
    req.resume();
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(REFUSAL);
  });
  server.on('connect', (req, socket: Socket) => {
    record('CONNECT', req.url ?? '', socket);
    socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(REFUSAL)}\r\nconnection: close\r\n\r\n${REFUSAL}`);
  });
  server.on('clientError', (_err, socket: Socket) => socket.destroy());
  const listening = await listenOnLoopback(server);
  server.unref();
  return {
    url: listening.url,
    attempts: () => attempts,
    close: listening.close,
  };
}
