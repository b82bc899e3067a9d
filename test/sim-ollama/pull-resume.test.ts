// Pulls that do not finish: the client aborting, the network failing part way,
// the disk filling up, the server stopping. Each leaves Ollama's -partial files,
// and the next pull resumes from them (its first progress has completed > 0).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressResponse } from 'ollama';
import type { ModelFacts } from '../../reconciler/src/schema/fleet.ts';
import { CATALOG, startTestNode, type TestNode } from './sim-node.ts';

let node: TestNode | undefined;

afterEach(async () => {
  await node?.cleanup();
  node = undefined;
});

function blobs(n: TestNode): string[] {
  try {
    return readdirSync(join(n.ollama.modelsDir(), 'blobs')).sort();
  } catch {
    return [];
  }
}

async function collect(n: TestNode, model: string): Promise<{ lines: ProgressResponse[]; error: string | undefined }> {
  const lines: ProgressResponse[] = [];
  try {
    for await (const p of await n.client().pull({ model, stream: true })) lines.push(p);
    return { lines, error: undefined };
  } catch (e) {
    return { lines, error: (e as Error).message };
  }
}

const weightsLines = (lines: ProgressResponse[]): ProgressResponse[] => lines.filter((l) => l.digest && l.digest === lines[1]?.digest);

describe('interrupted pulls resume', () => {
  it('an aborted pull leaves -partial files and the next pull starts with completed > 0', async () => {
    node = await startTestNode({ pullBytesPerSecond: 2e9, progressIntervalMs: 2 });
    const stream = await node.client().pull({ model: 'nomic-embed-text', stream: true });
    let seen = 0;
    for await (const p of stream) {
      if ((p.completed ?? 0) > 0) {
        seen = p.completed;
        stream.abort();
        break;
      }
    }
    expect(seen).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 60));
    const files = blobs(node);
    const partial = files.find((f) => f.endsWith('-partial'));
    expect(partial).toMatch(/^sha256-[0-9a-f]{64}-partial$/);
    const parts = files.filter((f) => /-partial-\d+$/.test(f));
    expect(parts.length).toBe(3);
    const part0 = JSON.parse(readFileSync(join(node.ollama.modelsDir(), 'blobs', `${partial}-0`), 'utf8')) as Record<string, number>;
    expect(Object.keys(part0)).toEqual(['N', 'Offset', 'Size', 'Completed']);
    expect(part0.Completed).toBeGreaterThan(0);
    const received = statSync(join(node.ollama.modelsDir(), 'blobs', partial ?? '')).size;
    expect(received).toBeGreaterThan(0);
    expect((await node.client().list()).models).toEqual([]);

    const resumed = await collect(node, 'nomic-embed-text');
    expect(resumed.error).toBeUndefined();
    const first = weightsLines(resumed.lines)[0];
    expect(first?.completed).toBe(received);
    expect(resumed.lines.at(-1)?.status).toBe('success');
    expect(blobs(node).some((f) => f.includes('-partial'))).toBe(false);
  });

  it('pull-fail breaks the stream part way with a network error; clearing it lets the pull resume', async () => {
    node = await startTestNode();
    node.ollama.setFault('pull-fail', { afterFraction: 0.5 });
    const failed = await collect(node, 'llama3.1:8b');
    expect(failed.error).toBe('max retries exceeded: unexpected EOF');
    const last = weightsLines(failed.lines).at(-1);
    expect(last?.completed).toBeGreaterThanOrEqual(0.5 * (last?.total ?? 0));
    expect(last?.completed).toBeLessThan(last?.total ?? 0);

    const again = await collect(node, 'llama3.1:8b');
    expect(again.error).toBe('max retries exceeded: unexpected EOF');
    expect(weightsLines(again.lines)[0]?.completed).toBe(last?.completed);

    node.ollama.clearFault('pull-fail');
    const ok = await collect(node, 'llama3.1:8b');
    expect(ok.error).toBeUndefined();
    expect(weightsLines(ok.lines)[0]?.completed).toBeGreaterThan(last?.completed ?? 0);
    expect((await node.client().list()).models.map((m) => m.name)).toEqual(['llama3.1:8b']);
  });

  it('a `once` pull-fail fires once and clears itself', async () => {
    node = await startTestNode();
    node.ollama.setFault('pull-fail', { once: true, message: 'read tcp: connection reset by peer' });
    expect((await collect(node, 'llama3.2:3b')).error).toBe('read tcp: connection reset by peer');
    expect(node.ollama.activeFaults()).toEqual([]);
    expect((await collect(node, 'llama3.2:3b')).error).toBeUndefined();
  });

  it('stopping the server mid-pull drops the stream; after a restart the pull resumes', async () => {
    node = await startTestNode({ pullBytesPerSecond: 1e10, progressIntervalMs: 2 });
    const n = node;
    const stream = await n.client().pull({ model: 'llama3.2:3b', stream: true });
    const outcome = (async () => {
      for await (const p of stream) if ((p.completed ?? 0) > 0) await n.server.stop();
    })().catch((e: unknown) => e);
    expect(await outcome).toBeInstanceOf(Error);
    expect(blobs(n).some((f) => f.endsWith('-partial'))).toBe(true);
    await n.server.start({});
    const resumed = await collect(n, 'llama3.2:3b');
    expect(weightsLines(resumed.lines)[0]?.completed).toBeGreaterThan(0);
  }, 20_000);
});

describe('disk space', () => {
  it('fails mid-stream with ENOSPC when the volume fills, having used what was free', async () => {
    const capacity = 3e9;
    let used = (): number => 0;
    node = await startTestNode({ diskFreeBytes: () => capacity - used() });
    const n = node;
    used = () => n.ollama.usedBytes();
    const res = await collect(n, 'llama3.1:8b');
    expect(res.error).toMatch(/^write .*\/\.ollama\/models\/blobs\/sha256-[0-9a-f]{64}-partial: no space left on device$/);
    // The volume is full: the partial download took what was free (the small part files aside).
    expect(n.ollama.usedBytes()).toBeGreaterThanOrEqual(capacity);
    expect(n.ollama.usedBytes()).toBeLessThan(capacity + 4096);
    expect((await n.client().list()).models).toEqual([]);
  });

  it('the disk-full fault fails the first chunk', async () => {
    node = await startTestNode();
    node.ollama.setFault('disk-full');
    const res = await collect(node, 'llama3.2:3b');
    expect(res.error).toContain('no space left on device');
    expect(weightsLines(res.lines).every((l) => (l.completed ?? 0) === 0)).toBe(true);
    node.ollama.clearFault('disk-full');
    expect((await collect(node, 'llama3.2:3b')).error).toBeUndefined();
  });
});

describe('concurrent and changed pulls', () => {
  it('two clients pulling the same model both see success', async () => {
    node = await startTestNode({ pullBytesPerSecond: 5e10, progressIntervalMs: 1 });
    const [a, b] = await Promise.all([collect(node, 'llama3.2:3b'), collect(node, 'llama3.2:3b')]);
    expect(a.lines.at(-1)?.status).toBe('success');
    expect(b.lines.at(-1)?.status).toBe('success');
    expect((await node.client().list()).models).toHaveLength(1);
  });

  it('a new upstream version replaces the layers and reports removing unused layers', async () => {
    const catalog: Record<string, ModelFacts> = { ...CATALOG };
    node = await startTestNode({ catalog });
    await node.ollama.seedModels(['llama3.2:3b']);
    const before = blobs(node);
    const old = catalog['llama3.2:3b'] as ModelFacts;
    catalog['llama3.2:3b'] = { ...old, size_bytes: old.size_bytes + 1000 };
    const res = await collect(node, 'llama3.2:3b');
    expect(res.lines.map((l) => l.status).slice(-2)).toEqual(['removing unused layers', 'success']);
    const after = blobs(node);
    expect(after.filter((f) => !before.includes(f)).length).toBeGreaterThan(0);
    expect((await node.client().list()).models[0]?.size).toBe(old.size_bytes + 1000);
  });
});
