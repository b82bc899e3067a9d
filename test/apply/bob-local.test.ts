// Bob's side: the generated files installed where the consumers read them,
// atomically and only when they change; OpenClaw signalled by pid file or name.
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBobAdapter } from '../../reconciler/src/bob/bob-local.ts';
import type { StepOf } from '../../reconciler/src/model/steps.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'apply-bob-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const step: StepOf<'write-generated'> = { kind: 'write-generated', id: 'fleet/write-generated', node: null, why: '', after: [], files: ['nodes_registry.json', 'openclaw_workers.json'] };
const paths = { registry_path: '~/.symphony/registry/nodes_registry.json', workers_path: '~/.symphony/openclaw_workers.json', openclaw_pid_file: '~/.symphony/openclaw.pid', openclaw_process_name: 'openclaw' };

describe('installGenerated', () => {
  it('writes both files under ~, then nothing when they are current, then only the one that changed', async () => {
    let contents = { nodes_registry: '{"nodes":[]}\n', openclaw_workers: '{"workers":[]}\n' };
    const bob = createBobAdapter({ paths, home, contents: () => Promise.resolve(contents) });
    expect(await bob.installGenerated(step)).toEqual({ changed: [join(home, '.symphony/registry/nodes_registry.json'), join(home, '.symphony/openclaw_workers.json')], workersChanged: true });
    expect(await readFile(join(home, '.symphony/openclaw_workers.json'), 'utf8')).toBe('{"workers":[]}\n');
    expect(await bob.installGenerated(step)).toEqual({ changed: [], workersChanged: false });
    contents = { ...contents, nodes_registry: '{"nodes":[1]}\n' };
    expect(await bob.installGenerated(step)).toEqual({ changed: [join(home, '.symphony/registry/nodes_registry.json')], workersChanged: false });
    expect((await readdir(join(home, '.symphony/registry'))).sort()).toEqual(['nodes_registry.json']);
  });
});

describe('reloadOpenClaw', () => {
  it('signals the pid in the pid file', async () => {
    await mkdir(join(home, '.symphony'), { recursive: true });
    await writeFile(join(home, '.symphony/openclaw.pid'), '4242\n');
    const sent: [number, string][] = [];
    const bob = createBobAdapter({ paths, home, contents: () => Promise.reject(new Error('unused')), signalProcess: (pid, sig) => void sent.push([pid, sig]), findPidsByName: () => Promise.resolve([99]) });
    expect(await bob.reloadOpenClaw()).toMatchObject({ signalled: true });
    expect(sent).toEqual([[4242, 'SIGHUP']]);
  });

  it('falls back to the process name, and says so when OpenClaw is not running', async () => {
    const sent: number[] = [];
    const found = createBobAdapter({ paths, home, contents: () => Promise.reject(new Error('unused')), signalProcess: (pid) => void sent.push(pid), findPidsByName: (name) => Promise.resolve(name === 'openclaw' ? [7, 8] : []) });
    expect(await found.reloadOpenClaw()).toMatchObject({ signalled: true, message: 'sent SIGHUP to OpenClaw (pid 7, 8)' });
    const none = createBobAdapter({ paths, home, contents: () => Promise.reject(new Error('unused')), findPidsByName: () => Promise.resolve([]) });
    expect(await none.reloadOpenClaw()).toMatchObject({ signalled: false });
  });

  it('a stale pid file is not an error', async () => {
    await mkdir(join(home, '.symphony'), { recursive: true });
    await writeFile(join(home, '.symphony/openclaw.pid'), '4242\n');
    const bob = createBobAdapter({ paths: { ...paths, openclaw_process_name: undefined }, home, contents: () => Promise.reject(new Error('unused')), signalProcess: () => { throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' }); } });
    expect(await bob.reloadOpenClaw()).toMatchObject({ signalled: false, message: expect.stringMatching(/not running/) as unknown });
  });
});
