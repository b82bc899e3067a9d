// `fleet verify` against a simulated fleet that `fleet apply` converged: every
// check passes, and under each fault the failing check is named and the
// exit status is 1.
import { spawn } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { startSimBobRegistry } from '../../reconciler/src/sim/bob-registry.ts';
import { ollamaListCommand } from '../../reconciler/src/verify/verify-node.ts';
import { FLEET_CLI, NODE_BIN, applyOnce, startTestFleet, type TestFleet } from '../apply/sim-helpers.ts';

let f: TestFleet;

function verify(args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE_BIN, [FLEET_CLI, 'verify', '--fleet', f.fleetDir, '--targets', f.sim.targetsPath, '--generated', f.generatedDir, ...args], {
      cwd: f.root, env: { ...process.env, FLEET_LOOPBACK_ONLY: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The verdict lines of one node: check id -> pass | FAIL | skip. */
function verdicts(stdout: string, node: string): Record<string, string> {
  const block = stdout.split('\n');
  const start = block.findIndex((l) => l.startsWith(`${node} `) || l === node);
  const out: Record<string, string> = {};
  for (const line of block.slice(start + 1)) {
    const m = /^ {2}(pass|FAIL|skip) {2}(\S+)/.exec(line);
    if (!m) {
      if (/^\S/.test(line)) break;
      continue;
    }
    out[m[2] ?? ''] = m[1] ?? '';
  }
  return out;
}

async function heartbeat(node: string): Promise<void> {
  const r = await f.sim.node(node).exec('bash ~/.symphony/heartbeat.sh');
  expect(r.code).toBe(0);
}

beforeAll(async () => {
  f = await startTestFleet('three-fresh-nodes', { prefix: 'verify-' });
  const applied = await applyOnce(f);
  expect(applied.exitCode, applied.output).toBe(0);
  for (const n of ['crescendo', 'virtuoso', 'stagehand']) await heartbeat(n);
}, 120_000);
afterAll(async () => {
  await f.stop();
  await rm(f.root, { recursive: true, force: true });
});

describe('fleet verify on a converged simulated fleet', () => {
  it('names heartbeat for a node Bob has not heard from, and passes on a Bob that has', async () => {
    // a Bob that has heard nothing yet (restarted without its heartbeats)
    const amnesiac = await startSimBobRegistry();
    try {
      const r = await verify(['bob', '--registry', amnesiac.url]);
      expect(r.code).toBe(1);
      expect(verdicts(r.stdout, 'bob')).toMatchObject({ ssh: 'pass', heartbeat: 'FAIL' });
      expect(r.stdout).toMatch(/has no heartbeat from bob[\s\S]*bash ~\/\.symphony\/heartbeat\.sh/);
    } finally {
      await amnesiac.close();
    }
    await heartbeat('bob');
    const again = await verify(['bob']);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/pass {2}heartbeat +last heartbeat \d+ s ago/);
  });

  it('passes every check on every node and exits 0', async () => {
    const r = await verify();
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    expect(verdicts(r.stdout, 'virtuoso')).toEqual({
      ssh: 'pass', 'ollama-list': 'pass', 'api-tags': 'pass', generate: 'pass', embed: 'pass', registry: 'pass', heartbeat: 'pass', openclaw: 'pass',
    });
    // no Ollama on a browser node: those checks are skipped, not failed
    expect(verdicts(r.stdout, 'stagehand')).toMatchObject({ ssh: 'pass', 'ollama-list': 'skip', 'api-tags': 'skip', generate: 'skip', embed: 'skip', registry: 'pass', heartbeat: 'pass' });
    expect(r.stdout).toMatch(/^verify: \d+ passed, 0 failed, \d+ skipped$/m);
  });

  it("runs the guide's check the way it works on a Mac: ollama by its absolute path", async () => {
    const node = f.sim.node('virtuoso');
    const bare = await node.exec('hostname && ollama list');
    expect(bare).toMatchObject({ code: 127, stderr: 'zsh:1: command not found: ollama\n' });
    const right = await node.exec(ollamaListCommand('/opt/homebrew').__shell);
    expect(right.code).toBe(0);
    expect(right.stdout).toMatch(/^virtuoso\nNAME +ID +SIZE +MODIFIED *\n/);
  });

  it('names ssh when the host key changed', async () => {
    await f.sim.control.setFault('crescendo', 'host-key-rotated');
    try {
      const r = await verify(['crescendo']);
      expect(r.code).toBe(1);
      expect(verdicts(r.stdout, 'crescendo')).toMatchObject({ ssh: 'FAIL', 'ollama-list': 'skip' });
    } finally {
      await f.sim.control.clearFault('crescendo', 'host-key-rotated');
    }
  });

  it('names ollama-list and api-tags when Ollama is down, and the fix', async () => {
    await f.sim.control.setFault('crescendo', 'ollama-down');
    try {
      const r = await verify(['crescendo']);
      expect(r.code).toBe(1);
      expect(verdicts(r.stdout, 'crescendo')).toMatchObject({ ssh: 'pass', 'ollama-list': 'FAIL', 'api-tags': 'FAIL', generate: 'skip' });
      expect(r.stdout).toMatch(/fix: Ollama must listen on 0\.0\.0\.0/);
    } finally {
      await f.sim.control.clearFault('crescendo', 'ollama-down');
    }
  });

  it('names api-tags and ollama-list when a wanted model is gone', async () => {
    const target = f.sim.targets.nodes.crescendo;
    if (!target) throw new Error('no crescendo target');
    const client = new Ollama({ host: target.ollama_url, fetch: guardedFetch(createGuard({ loopbackOnly: true })) });
    await client.delete({ model: 'mistral:7b' });
    const r = await verify(['crescendo']);
    expect(r.code).toBe(1);
    expect(verdicts(r.stdout, 'crescendo')).toMatchObject({ 'ollama-list': 'FAIL', 'api-tags': 'FAIL' });
    expect(r.stdout).toMatch(/lacks mistral:7b/);
    await applyOnce(f);
  });

  it('names openclaw when the worker is disabled, and registry when the files are missing', async () => {
    const workersFile = join(f.generatedDir, 'openclaw_workers.json');
    const saved = await readFile(workersFile, 'utf8');
    const doc = JSON.parse(saved) as { workers: { worker_id: string; enabled: boolean }[] };
    for (const w of doc.workers) if (w.worker_id === 'virtuoso_ollama') w.enabled = false;
    await writeFile(workersFile, `${JSON.stringify(doc, null, 2)}\n`);
    const disabled = await verify(['virtuoso']);
    expect(disabled.code).toBe(1);
    expect(verdicts(disabled.stdout, 'virtuoso'), disabled.stdout).toMatchObject({ registry: 'pass', openclaw: 'FAIL' });
    expect(disabled.stdout).toMatch(/virtuoso_ollama is disabled/);
    await writeFile(workersFile, saved);

    const backup = `${f.generatedDir}.bak`;
    await cp(f.generatedDir, backup, { recursive: true });
    await rm(f.generatedDir, { recursive: true });
    const gone = await verify(['virtuoso']);
    expect(gone.code).toBe(1);
    expect(verdicts(gone.stdout, 'virtuoso')).toMatchObject({ registry: 'FAIL', openclaw: 'FAIL' });
    await cp(backup, f.generatedDir, { recursive: true });
  });
});
