// The per-node control channel: an HTTP server on a unix socket that the sh
// stand-ins reach with `curl --unix-socket "$SIM_CTL"` when a command needs
// the simulator's state (launchd, plist parsing, `ollama serve` by hand). An
// answer is sh text the stand-in evals: printf of stdout and stderr, then exit.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quote } from '../shell/quote.ts';
import type { CommandResult } from './launchd.ts';

export interface ControlHandlers {
  launchctl(args: string[], ctx: { cwd: string; uid: number }): Promise<CommandResult>;
  plutil(args: string[], ctx: { cwd: string; uid: number }): CommandResult;
  /** `ollama serve` run by hand in a node shell (pid of that shell process). */
  ollamaServe(pid: number, env: Record<string, string>): Promise<CommandResult>;
}

export interface ControlChannel {
  path: string;
  close(): Promise<void>;
}

/** sh that reproduces a command's output and exit status. */
export function renderShResult(r: CommandResult): string {
  let text = '';
  if (r.stdout) text += `printf '%s' ${quote(r.stdout)}\n`;
  if (r.stderr) text += `printf '%s' ${quote(r.stderr)} >&2\n`;
  return `${text}exit ${r.code}\n`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// sun_path holds 107 bytes; deep state dirs get a short socket path instead
const MAX_SOCKET_PATH = 100;

export async function startControlChannel(preferredPath: string, handlers: ControlHandlers): Promise<ControlChannel> {
  let path = preferredPath;
  let tempDir: string | undefined;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    tempDir = mkdtempSync(join(tmpdir(), 'fleet-sim-'));
    path = join(tempDir, 'ctl.sock');
  }
  if (existsSync(path)) rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sim');
      const body = await readBody(req);
      let result: CommandResult | string;
      try {
        if (url.pathname === '/ollama/serve') {
          const env: Record<string, string> = {};
          for (const line of body.split('\n')) {
            const eq = line.indexOf('=');
            if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
          }
          const r = await handlers.ollamaServe(Number(url.searchParams.get('pid') ?? '0'), env);
          result = r.code === 0 ? ':\n' : r;
        } else {
          const form = new URLSearchParams(body);
          const ctx = { cwd: form.get('cwd') ?? '/', uid: Number(form.get('uid') ?? '501') };
          const args = form.getAll('a');
          if (url.pathname === '/launchctl') result = await handlers.launchctl(args, ctx);
          else if (url.pathname === '/plutil') result = handlers.plutil(args, ctx);
          else result = { stdout: '', stderr: `simulator: unknown control route ${url.pathname}\n`, code: 127 };
        }
      } catch (err) {
        result = { stdout: '', stderr: `simulator: ${(err as Error).message}\n`, code: 1 };
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(typeof result === 'string' ? result : renderShResult(result));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
