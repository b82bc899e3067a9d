// The simulated fleet's Bob, when no daemon plays Bob: the registry API the
// nodes' heartbeat.sh and the register step call (symphony-interfaces.md),
// on loopback. It answers as Bob's registry does and records every call with
// the address it came from, so a test can prove that every heartbeat arrived,
// with the node's own simulated IP, and that nothing went anywhere else.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listenOnLoopback } from '../net/loopback-server.ts';

export interface RegistryCall {
  at: string;
  path: '/api/heartbeat' | '/api/nodes/register';
  /** The connection's source address (a node's 127.0.1.x). */
  from: string;
  body: unknown;
  /** The raw body when it was not JSON. */
  raw?: string;
}

export interface SimBobRegistry {
  /** http://127.0.0.1:PORT: Bob's registry URL for the simulated fleet's targets. */
  readonly url: string;
  calls(): readonly RegistryCall[];
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const MAX_CALLS = 100_000;

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

export async function startSimBobRegistry(): Promise<SimBobRegistry> {
  const calls: RegistryCall[] = [];
  const lastHeartbeats = (): { node_id: string; ip: string; last_seen: string }[] => {
    const last = new Map<string, { node_id: string; ip: string; last_seen: string }>();
    for (const c of calls) {
      // heartbeats only: the daemon takes an unsigned registration as news, not as a sign of life
      const b = c.body as { node_id?: unknown; ip?: unknown } | undefined;
      if (c.path !== '/api/heartbeat' || typeof b?.node_id !== 'string') continue;
      last.set(b.node_id, { node_id: b.node_id, ip: typeof b.ip === 'string' && b.ip !== 'UNKNOWN' ? b.ip : c.from, last_seen: c.at });
    }
    return [...last.values()].sort((a, b) => a.node_id.localeCompare(b.node_id));
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(value)}\n`);
    };
    if (req.method === 'GET' && path === '/api/health') return json(200, { status: 'ok', simulated: true });
    // What Bob knows of each node, as the daemon's registry API serves it: the last heartbeat.
    if (req.method === 'GET' && path === '/api/heartbeats') return json(200, { heartbeats: lastHeartbeats() });
    if (req.method !== 'POST' || (path !== '/api/heartbeat' && path !== '/api/nodes/register')) return json(404, { error: 'not found' });
    void readBody(req).then((text) => {
      if (text === null) return json(413, { error: 'body too large' });
      let body: unknown;
      let raw: string | undefined;
      try {
        body = JSON.parse(text);
      } catch {
        raw = text;
      }
      if (calls.length < MAX_CALLS) calls.push({ at: new Date().toISOString(), path, from: req.socket.remoteAddress ?? '', body, ...(raw === undefined ? {} : { raw }) });
      if (raw !== undefined) return json(400, { error: 'body is not JSON' });
      return path === '/api/nodes/register' ? json(201, { status: 'registered' }) : json(200, { status: 'ok' });
    });
  });
  const listening = await listenOnLoopback(server);
  server.unref();
  return {
    url: listening.url,
    calls: () => calls,
    close: listening.close,
  };
}
