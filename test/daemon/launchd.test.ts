// `fleet daemon install`: the agent plist parses back to what launchd needs,
// and install/uninstall make exactly the launchctl calls expected.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'plist';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { daemonAgentPaths, installDaemonAgent, renderDaemonAgent, uninstallDaemonAgent } from '../../reconciler/src/daemon/launchd.ts';
import type { CommandOutcome, CommandRunner, DaemonAgentOptions } from '../../reconciler/src/daemon/launchd.ts';
import { FleetError } from '../../reconciler/src/errors.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fleet-launchd-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const base = (): DaemonAgentOptions => ({
  home,
  nodePath: '/opt/homebrew/Cellar/node/24.1.0/bin/node',
  launcherPath: '/Users/bob/symphony-fleet/reconciler/bin/fleet.mjs',
  repo: 'git@github.com:symphony/fleet.git',
  branch: 'main',
  workdir: '/Users/bob/.symphony/fleetd',
});

/** A runner that records calls and answers from a script of outcomes. */
function scriptedRunner(outcomes: Partial<CommandOutcome>[]): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const run = (command: string, args: readonly string[]) => {
    calls.push([command, ...args]);
    const o = outcomes.shift() ?? {};
    return Promise.resolve({ code: o.code ?? 0, stdout: o.stdout ?? '', stderr: o.stderr ?? '' });
  };
  return Object.assign(run, { calls });
}

describe('renderDaemonAgent', () => {
  it('runs the launcher with daemon --repo under launchd, restarted and logging under ~/.symphony/logs', () => {
    const doc = parse(renderDaemonAgent({ ...base(), logLevel: 'debug', extraArgs: ['--watch', '/Users/bob/fleet'] })) as Record<string, unknown>;
    expect(doc).toEqual({
      Label: 'com.symphony.fleetd',
      ProgramArguments: [
        '/opt/homebrew/Cellar/node/24.1.0/bin/node', '/Users/bob/symphony-fleet/reconciler/bin/fleet.mjs',
        'daemon', '--repo', 'git@github.com:symphony/fleet.git', '--branch', 'main', '--workdir', '/Users/bob/.symphony/fleetd',
        '--log-level', 'debug', '--watch', '/Users/bob/fleet',
      ],
      EnvironmentVariables: { PATH: '/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: home },
      WorkingDirectory: home,
      RunAtLoad: true,
      KeepAlive: true,
      ThrottleInterval: 10,
      ProcessType: 'Background',
      StandardOutPath: join(home, '.symphony/logs/fleetd.log'),
      StandardErrorPath: join(home, '.symphony/logs/fleetd_error.log'),
    });
  });

  it('escapes hostile values as XML text, never as markup', () => {
    const xml = renderDaemonAgent({ ...base(), repo: '/srv/</string><key>evil</key><string>x&y' });
    const doc = parse(xml) as { ProgramArguments: string[] };
    expect(doc.ProgramArguments[4]).toBe('/srv/</string><key>evil</key><string>x&y');
    expect(Object.keys(doc)).not.toContain('evil');
  });

  it('is deterministic', () => {
    expect(renderDaemonAgent(base())).toBe(renderDaemonAgent(base()));
  });

  it('refuses to put a secret into the world-readable plist, but accepts a secret file path', () => {
    expect(() => renderDaemonAgent({ ...base(), environment: { FLEET_WEBHOOK_SECRET: 'hunter2' } })).toThrow(/FLEET_WEBHOOK_SECRET_FILE/);
    const doc = parse(renderDaemonAgent({ ...base(), environment: { FLEET_WEBHOOK_SECRET_FILE: '/Users/bob/.symphony/webhook_secret' } })) as { EnvironmentVariables: Record<string, string> };
    expect(doc.EnvironmentVariables.FLEET_WEBHOOK_SECRET_FILE).toBe('/Users/bob/.symphony/webhook_secret');
  });
});

describe('installDaemonAgent', () => {
  it('writes the plist and log folder, boots out an old copy, bootstraps the new one', async () => {
    const run = scriptedRunner([{ code: 3, stderr: 'Boot-out failed: 3: No such process\n' }, { code: 0 }]);
    const result = await installDaemonAgent({ ...base(), uid: 501 }, run);
    const plistPath = join(home, 'Library/LaunchAgents/com.symphony.fleetd.plist');
    expect(run.calls).toEqual([
      ['launchctl', 'bootout', 'gui/501/com.symphony.fleetd'],
      ['launchctl', 'bootstrap', 'gui/501', plistPath],
    ]);
    expect(result).toEqual({
      plist: plistPath,
      logs: { stdout: join(home, '.symphony/logs/fleetd.log'), stderr: join(home, '.symphony/logs/fleetd_error.log') },
      commands: run.calls,
    });
    expect(await readFile(plistPath, 'utf8')).toBe(renderDaemonAgent(base()));
    expect(statSync(plistPath).mode & 0o777).toBe(0o644);
    expect(existsSync(join(home, '.symphony/logs'))).toBe(true);
  });

  it('retries a bootstrap that races the bootout (exit 5), then succeeds', async () => {
    const waits: number[] = [];
    const run = scriptedRunner([{ code: 0 }, { code: 5, stderr: 'Bootstrap failed: 5: Input/output error\n' }, { code: 0 }]);
    await installDaemonAgent({ ...base(), uid: 501, sleep: (ms) => { waits.push(ms); return Promise.resolve(); } }, run);
    expect(run.calls.map((c) => c[1])).toEqual(['bootout', 'bootstrap', 'bootstrap']);
    expect(waits).toEqual([500]);
  });

  it('explains a missing console login (exit 125) instead of looping', async () => {
    const run = scriptedRunner([{ code: 3 }, { code: 125, stderr: 'Bootstrap failed: 125: Domain does not support specified action\n' }]);
    const err = await installDaemonAgent({ ...base(), uid: 501, sleep: () => Promise.resolve() }, run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect(String(err)).toMatch(/logged in at the console/);
    expect(run.calls).toHaveLength(2);
  });

  it('gives up after three I/O errors and points at plutil -lint', async () => {
    const io = { code: 5, stderr: 'Bootstrap failed: 5: Input/output error\n' };
    const run = scriptedRunner([{ code: 3 }, io, io, io, io]);
    await expect(installDaemonAgent({ ...base(), uid: 501, sleep: () => Promise.resolve() }, run)).rejects.toThrow(/plutil -lint/);
    expect(run.calls).toHaveLength(4);
  });

  it('rejects a uid that is not one', async () => {
    await expect(installDaemonAgent({ ...base(), uid: -1 }, scriptedRunner([]))).rejects.toThrow(/id -u/);
  });
});

describe('uninstallDaemonAgent', () => {
  it('boots the agent out and removes the plist; not loaded is fine', async () => {
    await installDaemonAgent({ ...base(), uid: 501 }, scriptedRunner([{ code: 3 }, { code: 0 }]));
    const paths = daemonAgentPaths({ home });
    const run = scriptedRunner([{ code: 0 }]);
    expect(await uninstallDaemonAgent({ home, uid: 501 }, run)).toEqual({ plist: paths.plist, wasLoaded: true, commands: [['launchctl', 'bootout', 'gui/501/com.symphony.fleetd']] });
    expect(existsSync(paths.plist)).toBe(false);
    const again = await uninstallDaemonAgent({ home, uid: 501 }, scriptedRunner([{ code: 3, stderr: 'Boot-out failed: 3: No such process' }]));
    expect(again.wasLoaded).toBe(false);
  });

  it('reports other bootout failures', async () => {
    await expect(uninstallDaemonAgent({ home, uid: 501 }, scriptedRunner([{ code: 1, stderr: 'Operation not permitted' }]))).rejects.toThrow(/Operation not permitted/);
  });
});
