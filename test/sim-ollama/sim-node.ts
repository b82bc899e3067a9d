// A simulated Ollama in a temp HOME, served on loopback with ephemeral ports,
// and the official client pointed at it through the loopback guard.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { createSimOllama, loadModelCatalog, SimOllamaServer, type SimOllama, type SimOllamaOptions } from '../../reconciler/src/sim/ollama/index.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sim-ollama');
export const CATALOG = loadModelCatalog(join(FIXTURES, 'catalog', 'models.yaml'));
export const GIB = 1024 ** 3;

export interface TestNode {
  home: string;
  stateDir: string;
  ollama: SimOllama;
  server: SimOllamaServer;
  /** Loopback URL (valid while serving). */
  url(): string;
  client(url?: string): Ollama;
  /** Writes state/node.env as the fleet simulator does, for the CLI stand-in. */
  writeNodeEnv(extra?: Record<string, string>): void;
  cleanup(): Promise<void>;
}

export async function startTestNode(options: Partial<SimOllamaOptions> & { env?: Record<string, string>; externalHost?: string } = {}): Promise<TestNode> {
  const root = mkdtempSync(join(tmpdir(), 'sim-ollama-'));
  const home = join(root, 'home');
  const stateDir = join(root, 'state');
  mkdirSync(home);
  mkdirSync(stateDir);
  const { env, externalHost, ...rest } = options;
  const ollama = createSimOllama({
    node: 'testnode',
    home,
    stateDir,
    hardware: { ramBytes: 24 * GIB, metal: true, arch: 'arm64' },
    catalog: CATALOG,
    pullBytesPerSecond: 1e12,
    progressIntervalMs: 1,
    ...rest,
  });
  const server = new SimOllamaServer({ ollama, ...(externalHost !== undefined ? { externalHost } : {}) });
  await server.start(env ?? {});
  const guard = createGuard({ loopbackOnly: true });
  const node: TestNode = {
    home,
    stateDir,
    ollama,
    server,
    url: () => server.url('loopback') ?? `http://127.0.0.1:${server.port('loopback')}`,
    client: (url) => new Ollama({ host: url ?? node.url(), fetch: guardedFetch(guard) }),
    writeNodeEnv: (extra = {}) => {
      const vars = { SIM_NODE: 'testnode', SIM_OLLAMA_PORT: String(server.port('loopback')), SIM_OLLAMA_VERSION: '0.12.6', ...extra };
      writeFileSync(join(stateDir, 'node.env'), Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(''));
    },
    cleanup: async () => {
      await server.stop();
      await ollama.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return node;
}

/** Raw HTTP against the node, for what the client does not expose (status codes, headers, `name`). */
export async function request(url: string, method: string, body?: unknown): Promise<{ status: number; type: string; text: string }> {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await guardedFetch(createGuard({ loopbackOnly: true }))(url, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}
