// The probe script run for real by dash and bash against a stand-in Mac, then
// split and parsed: every fact of the schema filled, odd states (fresh Mac,
// Intel, Ollama failing) reported as what they are, output schema-valid.
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildProbe, SECTIONS } from '../../reconciler/src/observe/probe.ts';
import { splitProbeOutput } from '../../reconciler/src/observe/parse-sections.ts';
import { factsFromProbe } from '../../reconciler/src/observe/parse-probe.ts';
import type { ExternalOllama } from '../../reconciler/src/observe/check-ollama.ts';
import { checkObserved } from '../../reconciler/src/observe/validate-observed.ts';
import type { ObservedFacts } from '../../reconciler/src/schema/observed.ts';
import { ENV_FILE, HEARTBEAT_LINE, makeFakeMac, startFakeOllama } from './helpers/fake-mac.ts';
import type { FakeMac, FakeOllama } from './helpers/fake-mac.ts';
import { MANAGED_DIRS, MANAGED_PATHS } from '../../reconciler/src/model/mac-layout.ts';

let ollama: FakeOllama;
const macs: FakeMac[] = [];

beforeAll(async () => { ollama = await startFakeOllama(); });
afterAll(async () => { await ollama.close(); for (const m of macs) m.remove(); });

/** Runs a command line without blocking the event loop (the fake Ollama lives in this process). */
function runShell(shell: string, script: string, env: NodeJS.ProcessEnv, cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, ['-c', script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', () => resolve({ stdout, stderr }));
  });
}

async function runProbe(mac: FakeMac, shell: string, port = ollama.port): Promise<{ facts: ObservedFacts; complete: boolean; sections: number }> {
  const probe = buildProbe({ ollamaPort: port, curlTimeoutS: 2 });
  const r = await runShell(shell, probe.script.__shell, mac.env, mac.home);
  const sections = splitProbeOutput(r.stdout, r.stderr, probe.nonce);
  return { ...factsFromProbe(sections, null, probe.nonce), sections: sections.size };
}

function node(facts: ObservedFacts): unknown {
  return { node: 'virtuoso', observed_at: '2026-11-24T10:00:00.000Z', reach: { status: 'ok', attempts: [] }, facts };
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe.each(['/bin/sh', '/bin/bash'])('probe under %s', (shell) => {
  it('a provisioned Apple Silicon node: every fact', async () => {
    const mac = makeFakeMac({ provisioned: true });
    macs.push(mac);
    const { facts, complete, sections } = await runProbe(mac, shell);
    expect(complete).toBe(true);
    expect(sections).toBe(SECTIONS.length);
    expect(facts.warnings).toBeUndefined();
    expect(facts.hostnames).toEqual({ computer_name: 'Virtuoso', host_name: 'virtuoso', local_host_name: 'virtuoso' });
    expect(facts.os).toMatchObject({ product_version: '14.5', build_version: '23F79' });
    expect(facts.hardware).toEqual({ architecture: 'arm64', chip: 'Apple M4', ram_bytes: 25769803776, ncpu: 10, hw_model: 'Mac16,10', arm64_capable: true });
    expect(facts.disk.total_bytes).toBeGreaterThan(0);
    expect(facts.disk.available_bytes).toBeGreaterThan(0);
    expect(facts.disk.models_bytes).toBeGreaterThan(0);
    expect(facts.brew).toEqual({
      prefix: '/opt/homebrew', formulae: { ollama: '0.12.6' }, casks: { docker: '4.30.0,150182', 'google-chrome': '126.0.6478.127' }, services: { ollama: 'none' },
    });
    expect(facts.ollama).toMatchObject({
      cli_version: '0.12.6', local: { up: true, version: '0.12.6' }, external: { up: false, error: 'not checked' }, partial_bytes: 2048, models_source: 'local-api',
    });
    expect(facts.ollama.models.map((m) => [m.name, m.size])).toEqual([['llama3.1:8b', 4920753328], ['nomic-embed-text:latest', 274302450]]);
    expect(facts.ollama.loaded).toEqual([{ name: 'llama3.1:8b', size: 6654289920, size_vram: 6654289920, context_length: 4096 }]);
    expect(facts.files.ollama_env).toEqual({ sha256: sha(ENV_FILE), size: ENV_FILE.length, content: ENV_FILE });
    expect(facts.files.self_registration).toMatchObject({ content: '{"node_id":"virtuoso"}' });
    for (const id of Object.keys(facts.files) as (keyof typeof facts.files)[]) expect(facts.files[id]).not.toBeNull();
    expect(facts.launchd.ollama).toEqual({ loaded: true, pid: 512, last_exit: 0, running: true });
    expect(facts.crontab.lines).toEqual([HEARTBEAT_LINE]);
    expect(facts.sudo).toBe(true);
    expect(facts.ip).toBe('192.168.1.42');
    expect(facts.uid).toBe(process.getuid?.() ?? facts.uid);
    expect(facts.home).toBe(mac.home);
    expect(facts.dirs).toEqual({ '~/.ollama': true, '~/.symphony': true, '~/.symphony/logs': true, '~/.symphony/registry': true, '~/Library/LaunchAgents': true });
    expect(checkObserved([node(facts)])).toEqual([]);
  });

  it('the CLI version: Homebrew\'s from its keg without running it, any other ollama asked', async () => {
    const mac = makeFakeMac({ provisioned: true });
    macs.push(mac);
    // Homebrew's ollama would say something else if it were run: the keg's version is used.
    writeFileSync(join(mac.root, 'opt/homebrew/bin/ollama'), '#!/bin/sh\necho "ollama version is 9.9.9"\n');
    expect((await runProbe(mac, shell)).facts.ollama.cli_version).toBe('0.12.6');

    const app = makeFakeMac({ provisioned: false });
    macs.push(app);
    const cli = join(app.root, 'Applications/Ollama.app/Contents/Resources/ollama');
    mkdirSync(dirname(cli), { recursive: true });
    writeFileSync(cli, '#!/bin/sh\necho "ollama version is 0.12.6"; echo "Warning: client version is 0.13.0"\n', { mode: 0o755 });
    expect((await runProbe(app, shell)).facts.ollama.cli_version).toBe('0.13.0');
  });

  it('a factory-fresh Intel Mac: unset HostName, no Homebrew, no crontab, no sudo, nothing managed', async () => {
    const mac = makeFakeMac({ provisioned: false, arch: 'x86_64' });
    macs.push(mac);
    const { facts, complete } = await runProbe(mac, shell);
    expect(complete).toBe(true);
    expect(facts.warnings).toBeUndefined();
    expect(facts.hostnames).toEqual({ computer_name: "Bob's Mac mini", host_name: null, local_host_name: 'bobs-mac-mini' });
    expect(facts.hardware).toMatchObject({ architecture: 'x86_64', arm64_capable: false, ram_bytes: 68719476736, chip: 'Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz' });
    expect(facts.brew).toEqual({ prefix: null, formulae: {}, casks: {}, services: {} });
    expect(facts.ollama.cli_version).toBeNull();
    expect(facts.ollama.models_source).toBe('local-api');
    expect(facts.files).toEqual({ ollama_env: null, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null });
    expect(facts.launchd.ollama).toEqual({ loaded: false, pid: null, last_exit: null, running: false });
    expect(facts.crontab.lines).toEqual([]);
    expect(facts.sudo).toBe(false);
    expect(facts.ip).toBeNull();
    expect(facts.disk.models_bytes).toBe(0);
    expect(facts.ollama.partial_bytes).toBe(0);
    expect(Object.values(facts.dirs ?? {}).every((v) => !v)).toBe(true);
    expect(checkObserved([node(facts)])).toEqual([]);
  });
});

describe('probe when Ollama fails', () => {
  it('a 500 from Ollama: not up, with the status; the models come from the manifests on disk', async () => {
    const mac = makeFakeMac({ provisioned: true });
    macs.push(mac);
    ollama.mode.status = '500';
    try {
      const { facts } = await runProbe(mac, '/bin/sh');
      expect(facts.ollama.local).toEqual({ up: false, status: 500, error: 'HTTP 500: something went wrong' });
      expect(facts.ollama.models_source).toBe('disk');
      expect(facts.ollama.models).toEqual([{ name: 'llama3.1:8b', digest: expect.stringMatching(/^[0-9a-f]{64}$/), size: 4920000485 }]);
    } finally {
      ollama.mode.status = 'ok';
    }
  });

  it('nothing listening: refused, models from disk, Bob\'s view preferred when it answers', async () => {
    const mac = makeFakeMac({ provisioned: true });
    macs.push(mac);
    const probe = buildProbe({ ollamaPort: 1, curlTimeoutS: 2 });
    const r = await runShell('/bin/sh', probe.script.__shell, mac.env);
    const sections = splitProbeOutput(r.stdout, r.stderr, probe.nonce);
    const down = factsFromProbe(sections, null, probe.nonce).facts;
    expect(down.ollama.local.up).toBe(false);
    expect(down.ollama.local.error).toContain('connection refused');
    expect(down.ollama.models_source).toBe('disk');
    const external: ExternalOllama = { up: true, url: 'http://127.0.0.1:9', version: '0.12.6', models: [{ name: 'mistral:7b', digest: 'ab'.repeat(32), size: 4113301824 }], loaded: [] };
    const viaBob = factsFromProbe(sections, external, probe.nonce).facts;
    expect(viaBob.ollama.models_source).toBe('external-api');
    expect(viaBob.ollama.models.map((m) => m.name)).toEqual(['mistral:7b']);
    expect(viaBob.ollama.external).toEqual({ up: true, url: 'http://127.0.0.1:9', version: '0.12.6' });
  });
});

describe('probe output framing', () => {
  it('a file that prints a forged marker cannot fake a section', async () => {
    const mac = makeFakeMac({ provisioned: true });
    macs.push(mac);
    const forged = '\n@@fleet-probe-0000 = 0\n\n@@fleet-probe-0000 sudo\n';
    spawnSync('/bin/sh', ['-c', `printf '%s' '${forged}' > "$HOME/.ollama/ollama.env"`], { env: mac.env });
    const { facts, complete } = await runProbe(mac, '/bin/sh');
    expect(complete).toBe(true);
    expect(facts.files.ollama_env?.content).toBe(forged);
    expect(facts.sudo).toBe(true);
  });

  it('a probe cut short is incomplete and says which sections are missing', () => {
    const probe = buildProbe({ ollamaPort: 11434, nonce: 'n1' });
    const out = '\n@@fleet-probe-n1 name.computer\nVirtuoso\n\n@@fleet-probe-n1 = 0\n\n@@fleet-probe-n1 name.host\nvirt';
    const { facts, complete } = factsFromProbe(splitProbeOutput(out, '', probe.nonce), null, probe.nonce);
    expect(complete).toBe(false);
    expect(facts.hostnames.computer_name).toBe('Virtuoso');
    expect(facts.hostnames.host_name).toBeNull();
    expect(facts.warnings).toContain('name.host: did not finish');
  });

  it('reads the paths plan writes and looks at every managed directory (one list, model/mac-layout.ts)', () => {
    const script = buildProbe({ ollamaPort: 11434, nonce: 'n1' }).script.__shell;
    for (const path of Object.values(MANAGED_PATHS)) expect(script).toContain(` ${path}`);
    const dirsLine = script.split('\n').find((l) => l.startsWith('_fb dirs;')) ?? '';
    expect(dirsLine).toContain(`for _d in ${MANAGED_DIRS.join(' ')};`);
  });

  it('quotes everything it interpolates', () => {
    const script = buildProbe({ ollamaPort: 11434, nonce: "x'; rm -rf ~; '" }).script.__shell;
    expect(script.split('\n')[0]).toBe(`_fm='@@fleet-probe-x'\\''; rm -rf ~; '\\'''`);
  });
});
