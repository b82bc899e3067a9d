// The fleet's control endpoint on 127.0.0.1 for `fleet sim status|fault`:
//   GET  /status                       nodes, addresses, serving state, faults
//   POST /fault {node, kind, params?, clear?}
import { createServer, type Server } from 'node:http';
import { FleetError } from '../errors.ts';
import { listenOnLoopback } from '../net/loopback-server.ts';
import { isFaultKind, type FaultParams } from './faults.ts';
import type { SimNode } from './sim-node.ts';

export interface NodeStatus {
  name: string;
  ip: string;
  ssh_port: number;
  ollama_url: string;
  ollama: 'external' | 'local-only' | 'stopped';
  faults: Record<string, FaultParams>;
}

export function describeNode(node: SimNode): NodeStatus {
  const serve = node.serving();
  return {
    name: node.name,
    ip: node.ip,
    ssh_port: node.sshPort(),
    ollama_url: `http://${node.ip}:${node.ollamaPort()}`,
    ollama: serve === undefined ? 'stopped' : serve.external ? 'external' : 'local-only',
    faults: node.faults(),
  };
}

export interface ControlEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function startControlEndpoint(nodes: ReadonlyMap<string, SimNode>): Promise<ControlEndpoint> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          if (req.method === 'GET' && req.url === '/status') {
            return reply(200, { nodes: [...nodes.values()].map(describeNode) });
          }
          if (req.method === 'POST' && req.url === '/fault') {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { node?: string; kind?: string; params?: FaultParams; clear?: boolean };
            const node = nodes.get(body.node ?? '');
            if (!node) return reply(404, { error: `no simulated node "${body.node ?? ''}"; nodes: ${[...nodes.keys()].join(', ')}` });
            if (!isFaultKind(body.kind ?? '')) return reply(400, { error: `unknown fault "${body.kind ?? ''}"` });
            const kind = body.kind as Parameters<SimNode['setFault']>[0];
            if (body.clear) await node.clearFault(kind);
            else await node.setFault(kind, body.params ?? {});
            return reply(200, describeNode(node));
          }
          return reply(404, { error: 'not found' });
        } catch (err) {
          return reply(err instanceof FleetError || err instanceof SyntaxError ? 400 : 500, { error: (err as Error).message });
        }
      })();
    });
  });
  const listening = await listenOnLoopback(server);
  return { url: listening.url, close: listening.close };
}
