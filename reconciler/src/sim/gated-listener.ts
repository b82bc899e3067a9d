// A TCP listener whose behaviour the fault switches change: closed (connection
// refused), hang (accepts and never answers), added latency. The port is
// chosen once (port 0) and reused when the listener reopens, so targets.json
// stays valid across faults.
import { createServer, type Server, type Socket } from 'node:net';

export interface GatedListener {
  readonly host: string;
  /** 0 until first opened. */
  port(): number;
  isOpen(): boolean;
  open(): Promise<void>;
  /** Stops accepting and destroys every connection it handed out. */
  close(): Promise<void>;
  setHang(on: boolean): void;
  setLatency(ms: number): void;
}

export function createGatedListener(options: { host: string; port?: number; onConnection: (socket: Socket) => void }): GatedListener {
  let port = options.port ?? 0;
  let server: Server | undefined;
  let hang = false;
  let latencyMs = 0;
  const sockets = new Set<Socket>();
  const held = new Set<Socket>();

  function accept(socket: Socket): void {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      held.delete(socket);
    });
    socket.on('error', () => undefined);
    if (hang) {
      held.add(socket);
      return;
    }
    if (latencyMs > 0) {
      socket.pause();
      setTimeout(() => {
        if (!socket.destroyed) {
          socket.resume();
          options.onConnection(socket);
        }
      }, latencyMs).unref();
      return;
    }
    options.onConnection(socket);
  }

  return {
    host: options.host,
    port: () => port,
    isOpen: () => server !== undefined,
    async open() {
      if (server) return;
      const s = createServer({ noDelay: true }, accept);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen({ host: options.host, port, exclusive: true }, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const address = s.address();
      if (address && typeof address === 'object') port = address.port;
      server = s;
    },
    async close() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      held.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    setHang(on) {
      hang = on;
      if (on) {
        // a hung machine stops answering on open connections too
        for (const socket of sockets) {
          socket.pause();
          held.add(socket);
        }
      } else {
        // a hung peer's connections would time out on their own; free them now
        for (const socket of held) socket.destroy();
        held.clear();
      }
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
  };
}

/** Whether this machine lets us bind an address (127.0.1.x works on Linux, not by default on macOS). */
export async function canBind(host: string): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen({ host, port: 0 }, () => s.close(() => resolve(true)));
  });
}
