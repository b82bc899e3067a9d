// The `ollama` command stand-in, run by the real /bin/sh against a running
// simulated server, compared with the real CLI's output samples.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelFacts } from '../../reconciler/src/schema/fleet.ts';
import { OLLAMA_CLI_PATH } from '../../reconciler/src/sim/ollama/index.ts';
import { formatHumanBytes, formatHumanTime } from '../../reconciler/src/sim/ollama/go-format.ts';
import { CATALOG, FIXTURES, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode | undefined;

afterEach(async () => {
  await node?.cleanup();
  node = undefined;
});

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the stand-in as sim-core does: /bin/sh, HOME, SIM_STATE, a macOS-like PATH. Async: the server shares this process. */
function ollamaCli(n: TestNode, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile('/bin/sh', [OLLAMA_CLI_PATH, ...args], {
      env: { HOME: n.home, SIM_STATE: n.stateDir, PATH: '/usr/bin:/bin:/usr/sbin:/sbin', ...env },
    }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const reference = (name: string): string => readFileSync(join(FIXTURES, 'cli', name), 'utf8');
/** The reference page trims trailing spaces and its IDs are examples. */
const comparable = (text: string): string => text.split('\n').map((l) => l.replace(/\b[0-9a-f]{12}\b/g, '<id>').trimEnd()).join('\n');

async function seedReferenceModels(n: TestNode): Promise<void> {
  const ago = (s: number): Date => new Date(Date.now() - s * 1000);
  await n.ollama.seedModels(['llama3.1:70b'], { modifiedAt: ago(3600 + 60) });
  await n.ollama.seedModels(['llama3.1:8b'], { modifiedAt: ago(2 * 86400 + 60) });
  await n.ollama.seedModels(['nomic-embed-text'], { modifiedAt: ago(21 * 86400 + 60) });
}

describe('ollama list / ps / --version match the real CLI', () => {
  it('list: columns, decimal sizes, relative times as in the reference', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    await seedReferenceModels(node);
    const res = await ollamaCli(node, ['list']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(comparable(res.stdout)).toBe(comparable(reference('reference-list.txt')));
    // tablewriter: every cell padded to its column, 4 spaces after each row cell, 1 after the last header.
    const lines = res.stdout.split('\n');
    expect(lines[0]).toBe(`NAME                       ID              SIZE      MODIFIED${' '.repeat('About an hour ago'.length - 'MODIFIED'.length)} `);
    expect(lines[1]).toMatch(/^llama3\.1:70b {15}[0-9a-f]{12} {4}42 GB {5}About an hour ago {4}$/);
    const ids = (await node.client().list()).models.map((m) => m.digest.slice(0, 12));
    expect(lines.slice(1, 4).map((l) => l.split(/\s+/)[1])).toEqual(ids);
  });

  it('list with no models prints the header only; a prefix filters', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    expect((await ollamaCli(node, ['list'])).stdout).toBe('NAME    ID    SIZE    MODIFIED \n');
    await seedReferenceModels(node);
    const res = await ollamaCli(node, ['ls', 'LLAMA']);
    expect(res.stdout.split('\n').slice(1, -1).map((l) => l.split(' ')[0])).toEqual(['llama3.1:70b', 'llama3.1:8b']);
  });

  it('ps: processor, context and keep-alive as in the reference', async () => {
    node = await startTestNode({ env: { OLLAMA_CONTEXT_LENGTH: '4096', OLLAMA_KEEP_ALIVE: '5m' } });
    node.writeNodeEnv();
    await node.ollama.seedModels(['llama3.1:8b']);
    await node.client().generate({ model: 'llama3.1:8b', prompt: 'ping', stream: false, options: { num_predict: 1 } });
    const res = await ollamaCli(node, ['ps']);
    expect(res.code).toBe(0);
    expect(comparable(res.stdout)).toBe(comparable(reference('reference-ps.txt')));
  });

  it('ps: Forever, CPU/GPU split and 100% CPU', async () => {
    node = await startTestNode({ env: { OLLAMA_KEEP_ALIVE: '-1', OLLAMA_CONTEXT_LENGTH: '4096' } });
    node.writeNodeEnv();
    await node.ollama.seedModels(['llama3.1:70b']);
    await node.client().generate({ model: 'llama3.1:70b', prompt: 'ping', stream: false });
    const [m] = (await node.client().ps()).models;
    const cpu = Math.round((((m?.size ?? 0) - (m?.size_vram ?? 0)) / (m?.size ?? 1)) * 100);
    const row = (await ollamaCli(node, ['ps'])).stdout.split('\n')[1] ?? '';
    expect(row).toMatch(new RegExp(`^llama3\\.1:70b {4}[0-9a-f]{12} {4}${formatHumanBytes(m?.size ?? 0)} {4}${cpu}%/${100 - cpu}% CPU/GPU {4}4096 {7}Forever {4}$`));
    await node.cleanup();

    node = await startTestNode({ hardware: { ramBytes: 32 * 1024 ** 3, metal: false, arch: 'x86_64' } });
    node.writeNodeEnv();
    await node.ollama.seedModels(['llama3.2:3b']);
    await node.client().generate({ model: 'llama3.2:3b', prompt: 'ping', stream: false });
    expect((await ollamaCli(node, ['ps'])).stdout).toContain('100% CPU');
  });

  it('--version: the server version; warnings when the client differs or nothing answers', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    expect(await ollamaCli(node, ['--version'])).toEqual({ code: 0, stdout: reference('reference-version.txt'), stderr: '' });
    node.writeNodeEnv({ SIM_OLLAMA_VERSION: '0.12.7' });
    expect((await ollamaCli(node, ['-v'])).stdout).toBe('ollama version is 0.12.6\nWarning: client version is 0.12.7\n');
    node.writeNodeEnv();
    await node.server.stop();
    expect(await ollamaCli(node, ['--version'])).toEqual({
      code: 0, stderr: '', stdout: 'Warning: could not connect to a running Ollama instance\nWarning: client version is 0.12.6\n',
    });
  });
});

describe('sizes and times follow Go formatting for any value', () => {
  it('SIZE is format.HumanBytes and MODIFIED is format.HumanTime', async () => {
    const sizes = [2_000_000_000, 9_999_999_999, 10_000_000_000, 1_000_000, 999_999, 100_000, 1_500_000_000_000,
      ...fc.sample(fc.integer({ min: 100_000, max: 200_000_000_000 }), { numRuns: 30, seed: 42 })];
    const ages = [0, 59, 61, 3599, 3601, 5399, 5401, 47 * 3600, 49 * 3600, 13 * 86400, 15 * 86400, 59 * 86400, 61 * 86400, 700 * 86400, 800 * 86400,
      ...fc.sample(fc.integer({ min: 0, max: 3 * 365 * 86400 }), { numRuns: 30, seed: 7 })];
    const template = CATALOG['llama3.1:8b'] as ModelFacts;
    const catalog: Record<string, ModelFacts> = {};
    sizes.forEach((size, i) => {
      catalog[`m${i}:latest`] = { ...template, size_bytes: size };
    });
    node = await startTestNode({ catalog });
    node.writeNodeEnv();
    const t0 = Date.now();
    for (const [i] of sizes.entries()) await node.ollama.seedModels([`m${i}`], { modifiedAt: new Date(t0 - (ages[i % ages.length] ?? 0) * 1000 - 500) });
    const before = new Date();
    const res = await ollamaCli(node, ['list']);
    const after = new Date();
    const rows = res.stdout.trimEnd().split('\n').slice(1).map((l) => l.trimEnd().split(/ {4,}/));
    expect(rows).toHaveLength(sizes.length);
    for (const [name, , size, modified] of rows) {
      const i = Number(name?.slice(1, name.indexOf(':')));
      expect(size).toBe(formatHumanBytes(sizes[i] ?? 0));
      const when = new Date(t0 - (ages[i % ages.length] ?? 0) * 1000 - 500);
      expect([formatHumanTime(when, before), formatHumanTime(when, after)]).toContain(modified);
    }
  }, 60_000);
});

describe('pull, rm, stop, serve and failures', () => {
  it('pull prints the finished progress display and the model shows in the HTTP list', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    const res = await ollamaCli(node, ['pull', 'llama3.1:8b']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('');
    const lines = res.stderr.split('\n');
    expect(lines[0]).toBe('pulling manifest ');
    expect(lines[1]).toMatch(/^pulling [0-9a-f]{12}: 100% ▕█{18}▏ 4\.9 GB {25}$/);
    expect(lines.slice(-4)).toEqual(['verifying sha256 digest ', 'writing manifest ', 'success ', '']);
    expect((await node.client().list()).models.map((m) => m.name)).toEqual(['llama3.1:8b']);
  });

  it('pull of an unknown model and a broken pull end with the error and exit 1', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    expect(await ollamaCli(node, ['pull', 'nothere'])).toEqual({
      code: 1, stdout: '', stderr: 'pulling manifest \nError: pull model manifest: file does not exist\n',
    });
    node.ollama.setFault('pull-fail', { afterFraction: 0.5 });
    const broken = await ollamaCli(node, ['pull', 'llama3.2:3b']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/\npulling [0-9a-f]{12}: +\d+% ▕█+ *▏ +[\d.]+ [KMG]B\/ ?2\.0 GB {18}\nError: max retries exceeded: unexpected EOF\n$/);
  });

  it('rm deletes, and names a missing model like the server does', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    await node.ollama.seedModels(['llama3.2:3b']);
    expect(await ollamaCli(node, ['rm', 'llama3.2:3b'])).toEqual({ code: 0, stdout: "deleted 'llama3.2:3b'\n", stderr: '' });
    expect(await ollamaCli(node, ['rm', 'llama3.2:3b'])).toEqual({ code: 1, stdout: '', stderr: "Error: model 'llama3.2:3b' not found\n" });
    expect((await ollamaCli(node, ['stop', 'ghost'])).stderr).toBe('Error: couldn\'t find model "ghost" to stop\n');
  });

  it('with the server down every command says how to start it and exits 1', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    await node.server.stop();
    const message = "Error: could not connect to ollama server, run 'ollama serve' to start it\n";
    for (const args of [['list'], ['ps'], ['pull', 'llama3.2:3b'], ['rm', 'x']]) {
      expect(await ollamaCli(node, args)).toEqual({ code: 1, stdout: '', stderr: message });
    }
  });

  it('a server answering 500 shows the error text (with the status for streamed calls)', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    node.ollama.setFault('ollama-500');
    expect(await ollamaCli(node, ['list'])).toEqual({ code: 1, stdout: '', stderr: 'Error: internal server error\n' });
    expect((await ollamaCli(node, ['pull', 'llama3.2:3b'])).stderr).toBe('\nError: 500 Internal Server Error: internal server error\n');
  });

  it('serve refuses while the port is taken, and without the control channel', async () => {
    node = await startTestNode();
    node.writeNodeEnv();
    expect(await ollamaCli(node, ['serve'], { OLLAMA_HOST: '0.0.0.0' })).toEqual({
      code: 1, stdout: '', stderr: 'Error: listen tcp 0.0.0.0:11434: bind: address already in use\n',
    });
    await node.server.stop();
    expect((await ollamaCli(node, ['serve'])).stderr).toBe('Error: listen tcp 127.0.0.1:11434: bind: operation not permitted\n');
  });

  it('follows OLLAMA_HOST to the node address; unknown commands fail like cobra', async () => {
    node = await startTestNode({ externalHost: '127.0.0.2', env: { OLLAMA_HOST: '0.0.0.0' } });
    node.writeNodeEnv({ SIM_IP: '127.0.0.2', SIM_OLLAMA_EXT_PORT: String(node.server.port('external')) });
    await node.server.restart({});
    // Now only loopback answers: the node's own address is refused, as on a Mac with OLLAMA_HOST unset.
    expect((await ollamaCli(node, ['list'], { OLLAMA_HOST: '127.0.0.2' })).code).toBe(1);
    expect((await ollamaCli(node, ['list'])).code).toBe(0);
    expect(await ollamaCli(node, ['frobnicate'])).toEqual({
      code: 1, stdout: '', stderr: 'Error: unknown command "frobnicate" for "ollama"\nRun \'ollama --help\' for usage.\n',
    });
  });
});
