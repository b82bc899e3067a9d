// node:http listeners for one SimOllama when nobody else owns the sockets
// (tests, a single simulated node). It opens the loopback face and the
// external face as `OLLAMA_HOST` decides, keeps its ports across restarts,
// and can be taken down (connection refused) without losing its state.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bindTargetsFor, type ServeEnv } from './serve-env.ts';
import type { SimOllama } from './sim-ollama.ts';

export interface SimOllamaServerOptions {
  ollama: SimOllama;
  /** The node's loopback, what `localhost:11434` means inside the node. Default 127.0.0.1. */
  loopbackHost?: string;
  /** 0 picks a free port on first start; it is kept for later starts. */
  loopbackPort?: number;
  /** The node's network address (e.g. 127.0.1.5); without it there is no external face. */
  externalHost?: string;
  externalPort?: number;
}

type Face = 'loopback' | 'external';

export class SimOllamaServer {
  readonly ollama: SimOllama;
  private readonly hosts: Record<Face, string | undefined>;
  private readonly ports: Record<Face, number>;
  private readonly servers = new Map<Face, Server>();
  private env: ServeEnv | null = null;
  private down = false;

  constructor(options: SimOllamaServerOptions) {
    this.ollama = options.ollama;
    this.hosts = { loopback: options.loopbackHost ?? '127.0.0.1', external: options.externalHost };
    this.ports = { loopback: options.loopbackPort ?? 0, external: options.externalPort ?? 0 };
  }

  /** `ollama serve` with this environment (a running server is restarted). */
  async start(env: ServeEnv = {}): Promise<void> {
    await this.closeListeners();
    this.env = { ...env };
    this.ollama.setServing(this.env);
    if (!this.down) await this.openListeners();
  }

  async stop(): Promise<void> {
    this.env = null;
    this.ollama.setServing(null);
    await this.closeListeners();
  }

  async restart(env?: ServeEnv): Promise<void> {
    await this.start(env ?? this.env ?? {});
  }

  /** The 'down' fault: nothing listens (connection refused) while the state stays; clearing it reopens. */
  async setDown(down: boolean): Promise<void> {
    this.down = down;
    if (down) await this.closeListeners();
    else if (this.env !== null && this.servers.size === 0) await this.openListeners();
  }

  isListening(face: Face): boolean {
    return this.servers.has(face);
  }

  /** Port of a face (known after its first start, 0 before). */
  port(face: Face): number {
    return this.ports[face];
  }

  /** http://host:port of a face while it listens. */
  url(face: Face): string | undefined {
    const host = this.hosts[face];
    return this.servers.has(face) && host !== undefined ? `http://${host}:${this.ports[face]}` : undefined;
  }

  private async openListeners(): Promise<void> {
    if (this.env === null) return;
    const targets = bindTargetsFor(this.env, this.hosts.external);
    const faces: Face[] = [];
    if (targets.loopback) faces.push('loopback');
    if (targets.external && this.hosts.external !== undefined) faces.push('external');
    for (const face of faces) {
      const server = createServer((req, res) => this.ollama.handleRequest(req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.ports[face], this.hosts[face], () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.ports[face] = (server.address() as AddressInfo).port;
      this.servers.set(face, server);
    }
  }

  private async closeListeners(): Promise<void> {
    const closing = [...this.servers.values()].map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
    this.servers.clear();
    await Promise.all(closing);
  }
}
