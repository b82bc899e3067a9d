// Every fault kind, switched on and off at run time through the in-process
// control API, seen the way Bob would see it.
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { connectNode } from '../../reconciler/src/net/ssh.ts';
import { parseDfPk } from '../../reconciler/src/observe/parse-system.ts';
import { parseLaunchctlList } from '../../reconciler/src/observe/parse-launchd.ts';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import type { SimNode } from '../../reconciler/src/sim/sim-node.ts';
import { raw } from '../../reconciler/src/shell/quote.ts';
import { run, ssh2Exec, startTestFleet, stockSshArgs } from './fleet-fixture.ts';

let sim: { fleet: SimFleet; dir: string; cleanup: () => Promise<void> };
let node: SimNode;
const fetchGuarded = guardedFetch(createGuard({ loopbackOnly: true }));

function target(): { host: string; port: number; user: string; keyPath: string; hostKey: string } {
  return { host: node.ip, port: node.sshPort(), user: node.user, keyPath: sim.fleet.clientKeyPath, hostKey: node.hostKey() };
}
const ollamaUrl = (): string => `http://${node.ip}:${node.ollamaPort()}`;
const client = (): Ollama => new Ollama({ host: ollamaUrl(), fetch: fetchGuarded });

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string }; name?: string; message?: string };
    if (e.cause?.code) return e.cause.code;
    if (e.name && e.name !== 'Error' && e.name !== 'TypeError') return e.name;
    return e.code ?? e.message;
  }
}

/** A fresh TCP connection (no pooled keep-alive socket): 'connected' or the error code. */
function connectResult(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

beforeAll(async () => {
  // fast pulls: a 4 GB model arrives in about a second of progress lines
  sim = await startTestFleet({ nodes: 2, preset: 'provisioned', ollama: { pullBytesPerSecond: 8e9, progressIntervalMs: 20 } });
  node = sim.fleet.nodes[0] as SimNode;
});
afterAll(async () => {
  await sim.cleanup();
});

describe('node faults', () => {
  it('down: SSH and Ollama refuse connections; clearing brings both back on the same ports', async () => {
    const port = node.sshPort();
    await sim.fleet.control.setFault(node.name, 'down');
    expect(await errorCode(ssh2Exec(target(), 'true'))).toBe('ECONNREFUSED');
    expect(await connectResult(node.ip, node.ollamaPort())).toBe('ECONNREFUSED');
    // the other node is not affected
    const other = sim.fleet.nodes[1] as SimNode;
    expect((await ssh2Exec({ ...target(), host: other.ip, port: other.sshPort(), hostKey: other.hostKey() }, 'hostname')).code).toBe(0);
    await sim.fleet.control.clearFault(node.name, 'down');
    expect(node.sshPort()).toBe(port);
    expect((await ssh2Exec(target(), 'hostname')).stdout).toBe(`${node.name}\n`);
    expect((await fetch(`${ollamaUrl()}/api/tags`)).status).toBe(200);
  });

  it('hang: connections are accepted and never answered', async () => {
    await sim.fleet.control.setFault(node.name, 'hang');
    try {
      expect(await errorCode(ssh2Exec(target(), 'true', { readyTimeout: 800 }))).toMatch(/Timed out while waiting for handshake/);
      expect(await errorCode(fetch(`${ollamaUrl()}/api/tags`, { signal: AbortSignal.timeout(800) }))).toBe('TimeoutError');
    } finally {
      await sim.fleet.control.clearFault(node.name, 'hang');
    }
    expect((await ssh2Exec(target(), 'true')).code).toBe(0);
  });

  it('slow: each connection, command and request waits the added latency', async () => {
    // Clients that give up after 1.5 s time out against 5 s of latency, and the same clients are
    // answered once it is cleared. The session is opened first, so its commands pay per command.
    const patience = 1500;
    const bob = await connectNode({
      node: node.name, addresses: [node.ip], port: node.sshPort(), user: node.user,
      privateKey: readFileSync(sim.fleet.clientKeyPath, 'utf8'), keyPath: sim.fleet.clientKeyPath,
      knownHostKeys: [node.hostKey()], trustOnFirstUse: false, connectTimeoutMs: 10_000, commandTimeoutMs: 10_000,
    }, createGuard({ loopbackOnly: true }));
    if (!bob.ok) throw new Error(bob.reach.message);
    // One kept-alive connection for every request: the latency is paid per request, not per connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const version = (): Promise<{ text?: string; error?: string; reused: boolean }> => new Promise((resolve) => {
      const req = request(`${ollamaUrl()}/api/version`, { agent, signal: AbortSignal.timeout(patience) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => resolve({ text, reused: req.reusedSocket }));
      });
      req.on('error', (err) => resolve({ error: (err.cause as Error | undefined)?.name ?? err.name, reused: req.reusedSocket }));
      req.end();
    });
    expect(await version()).toEqual({ text: '{"version":"0.12.6"}', reused: false });
    try {
      await sim.fleet.control.setFault(node.name, 'slow', { ms: 5000 });
      try {
        const [connection, command, answer] = await Promise.all([
          errorCode(ssh2Exec(target(), 'true', { readyTimeout: patience })),
          bob.session.exec(raw('true'), { timeoutMs: patience }),
          version(),
        ]);
        expect(connection).toMatch(/Timed out while waiting for handshake/);
        expect(command).toMatchObject({ timedOut: true, code: null });
        expect(answer).toEqual({ error: 'TimeoutError', reused: true });
      } finally {
        await sim.fleet.control.clearFault(node.name, 'slow');
      }
      expect((await ssh2Exec(target(), 'true', { readyTimeout: patience })).code).toBe(0);
      expect(await bob.session.exec(raw('true'), { timeoutMs: patience })).toMatchObject({ timedOut: false, code: 0 });
      expect(await version()).toMatchObject({ text: '{"version":"0.12.6"}' });
    } finally {
      agent.destroy();
      bob.session.close();
    }
  });

  it('host-key-rotated: a new key, so a pinned client refuses; clearing restores the old one', async () => {
    const knownHosts = join(sim.dir, 'known_hosts');
    const args = stockSshArgs({ knownHostsFile: knownHosts, keyPath: sim.fleet.clientKeyPath, port: node.sshPort(), user: node.user, host: node.ip });
    await sim.fleet.control.setFault(node.name, 'host-key-rotated');
    try {
      expect(node.presentedHostKey()).not.toBe(node.hostKey());
      const refused = await run('ssh', [...args, 'true']);
      expect(refused.code).toBe(255);
      expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
      let seen = '';
      await new Promise<void>((resolve) => {
        const c = new ssh2.Client();
        c.on('error', () => resolve());
        c.connect({ host: node.ip, port: node.sshPort(), username: node.user, privateKey: readFileSync(sim.fleet.clientKeyPath), hostVerifier: (key: Buffer) => ((seen = key.toString('base64')), false) });
      });
      expect(`ssh-ed25519 ${seen}`).toBe(node.presentedHostKey());
    } finally {
      await sim.fleet.control.clearFault(node.name, 'host-key-rotated');
    }
    expect((await run('ssh', [...args, 'true'])).code).toBe(0);
  });

  it('clock-skew: the node\'s date and Ollama\'s timestamps are off by the given seconds', async () => {
    await sim.fleet.control.setFault(node.name, 'clock-skew', { seconds: 7200 });
    try {
      const nodeNow = Number((await ssh2Exec(target(), 'date +%s')).stdout);
      expect(nodeNow - Date.now() / 1000).toBeGreaterThan(7190);
      const res = await client().generate({ model: 'llama3.2:3b', prompt: 'ping', stream: false, options: { num_predict: 1 } });
      expect(new Date(res.created_at).getTime() - Date.now()).toBeGreaterThan(7_190_000);
    } finally {
      await sim.fleet.control.clearFault(node.name, 'clock-skew');
    }
  });

  it('sudo-password: sudo -n needs a password; clearing restores passwordless sudo', async () => {
    await sim.fleet.control.setFault(node.name, 'sudo-password');
    expect(await ssh2Exec(target(), 'sudo -n true')).toMatchObject({ code: 1, stderr: 'sudo: a password is required\n' });
    await sim.fleet.control.clearFault(node.name, 'sudo-password');
    expect((await ssh2Exec(target(), 'sudo -n true')).code).toBe(0);
  });
});

describe('Ollama faults', () => {
  const ollamaBin = '"${FLEET_ROOT-}"/opt/homebrew/bin/ollama';

  it('ollama-down: nothing listens, the CLI says so, launchd shows the agent exited', async () => {
    await sim.fleet.control.setFault(node.name, 'ollama-down');
    try {
      expect(await connectResult(node.ip, node.ollamaPort())).toBe('ECONNREFUSED');
      expect(await connectResult('127.0.0.1', node.ollamaInternalPort())).toBe('ECONNREFUSED');
      const cli = await ssh2Exec(target(), `${ollamaBin} list`);
      expect(cli).toMatchObject({ code: 1, stderr: "Error: could not connect to ollama server, run 'ollama serve' to start it\n" });
      const row = parseLaunchctlList((await ssh2Exec(target(), 'launchctl list')).stdout).find((r) => r.label === 'com.symphony.ollama');
      expect(row).toMatchObject({ pid: null, status: 1 });
    } finally {
      await sim.fleet.control.clearFault(node.name, 'ollama-down');
    }
    // KeepAlive: launchd brings it back
    expect((await fetch(`${ollamaUrl()}/api/tags`)).status).toBe(200);
  });

  it('ollama-500: every /api call answers 500 with an error body; / still says it is running', async () => {
    await sim.fleet.control.setFault(node.name, 'ollama-500', { message: 'boom' });
    try {
      const res = await fetch(`${ollamaUrl()}/api/tags`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: 'boom' });
      await expect(client().list()).rejects.toMatchObject({ status_code: 500, error: 'boom' });
      expect(await (await fetch(`${ollamaUrl()}/`)).text()).toBe('Ollama is running');
    } finally {
      await sim.fleet.control.clearFault(node.name, 'ollama-500');
    }
  });

  it('pull-fail: the pull stops part way with an error, the partial stays, the next pull resumes', async () => {
    await sim.fleet.control.setFault(node.name, 'pull-fail', { afterFraction: 0.5 });
    let failedAt = 0;
    try {
      const stream = await client().pull({ model: 'mistral:7b', stream: true });
      await expect(
        (async () => {
          for await (const p of stream) if (p.completed) failedAt = Math.max(failedAt, p.completed);
        })(),
      ).rejects.toThrow(/max retries exceeded|unexpected EOF/);
    } finally {
      await sim.fleet.control.clearFault(node.name, 'pull-fail');
    }
    expect(failedAt).toBeGreaterThan(0);
    const partial = await ssh2Exec(target(), 'ls ~/.ollama/models/blobs | grep -c partial');
    expect(Number(partial.stdout)).toBeGreaterThan(0);
    const stream = await client().pull({ model: 'mistral:7b', stream: true });
    let first: number | undefined;
    let last = '';
    for await (const p of stream) {
      if (first === undefined && p.total && p.total > 1e9) first = p.completed ?? 0;
      last = p.status;
    }
    expect(first).toBeGreaterThan(0);
    expect(last).toBe('success');
    // the same model, as the other face sees it
    expect((await ssh2Exec(target(), `${ollamaBin} list`)).stdout).toMatch(/\nmistral:7b\s/);
  });

  it('disk-full: df shows no space; a pull fails with ENOSPC; brew cannot install', async () => {
    await sim.fleet.control.setFault(node.name, 'disk-full');
    try {
      const df = parseDfPk((await ssh2Exec(target(), 'df -Pk "$HOME"')).stdout);
      expect(df?.available_bytes).toBe(0);
      expect((await ssh2Exec(target(), 'df -Pk "$HOME"')).stdout).toMatch(/ 100% {4}\/System\/Volumes\/Data\n$/);
      await expect(client().pull({ model: 'llama3.1:8b', stream: false })).rejects.toThrow(/no space left on device/);
      const brew = await ssh2Exec(target(), '"${FLEET_ROOT-}"/opt/homebrew/bin/brew install jq');
      expect(brew.code).toBe(1);
      expect(brew.stderr).toMatch(/No space left on device/);
    } finally {
      await sim.fleet.control.clearFault(node.name, 'disk-full');
    }
    expect(parseDfPk((await ssh2Exec(target(), 'df -Pk "$HOME"')).stdout)?.available_bytes).toBeGreaterThan(0);
  });
});

describe('both faces agree', () => {
  it('a model pulled over HTTP shows in `ollama list` over SSH and takes disk in df', async () => {
    const other = sim.fleet.nodes[1] as SimNode;
    const t = { host: other.ip, port: other.sshPort(), user: other.user, keyPath: sim.fleet.clientKeyPath, hostKey: other.hostKey() };
    const before = parseDfPk((await ssh2Exec(t, 'df -Pk "$HOME"')).stdout)?.used_bytes ?? 0;
    const ollama = new Ollama({ host: `http://${other.ip}:${other.ollamaPort()}`, fetch: fetchGuarded });
    await ollama.pull({ model: 'llama3.1:8b', stream: false });
    const list = await ssh2Exec(t, '"${FLEET_ROOT-}"/opt/homebrew/bin/ollama list');
    expect(list.stdout).toMatch(/\nllama3\.1:8b\s+[0-9a-f]{12}\s+4\.9 GB\s+/);
    const after = parseDfPk((await ssh2Exec(t, 'df -Pk "$HOME"')).stdout)?.used_bytes ?? 0;
    expect(after - before).toBeGreaterThan(4.8e9);
    await ollama.delete({ model: 'llama3.1:8b' });
    expect((await ssh2Exec(t, '"${FLEET_ROOT-}"/opt/homebrew/bin/ollama list')).stdout).not.toMatch(/llama3\.1:8b/);
  });

  it('fault state is visible to the sh stand-ins as files and goes away on clear', async () => {
    await sim.fleet.control.setFault(node.name, 'clock-skew', { seconds: 5 });
    expect(readFileSync(join(node.paths.state, 'faults', 'clock-skew'), 'utf8')).toBe('seconds=5\n');
    expect(sim.fleet.control.faults(node.name)).toEqual({ 'clock-skew': { seconds: 5 } });
    await sim.fleet.control.clearFault(node.name, 'clock-skew');
    expect(sim.fleet.control.faults(node.name)).toEqual({});
    writeFileSync(join(sim.dir, 'touched'), '');
  });
});
