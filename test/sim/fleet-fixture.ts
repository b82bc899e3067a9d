// Shared by the test/sim files: a simulated fleet in a temp dir, and small
// runners for the stock OpenSSH client and ssh2's client.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { startSimFleet, type SimFleet, type SimFleetOptions } from '../../reconciler/src/sim/fleet.ts';

export const REPO_FLEET_DIR = new URL('../../fleet', import.meta.url).pathname;

export async function startTestFleet(options: Omit<SimFleetOptions, 'stateDir'> = {}): Promise<{ fleet: SimFleet; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-test-'));
  const fleet = await startSimFleet({ stateDir: dir, cron: false, ...options });
  return {
    fleet,
    dir,
    cleanup: async () => {
      await fleet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a local program without blocking the event loop (the sim lives in this process). */
export function run(cmd: string, args: readonly string[], input = '', timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Stock `ssh` with the host key pinned (StrictHostKeyChecking=yes). */
export function stockSshArgs(options: { knownHostsFile: string; keyPath: string; port: number; user: string; host: string }): string[] {
  return [
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${options.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10',
    '-o', 'LogLevel=ERROR',
    '-F', '/dev/null',
    '-i', options.keyPath,
    '-p', String(options.port),
    `${options.user}@${options.host}`,
  ];
}

export interface Ssh2ExecResult extends RunResult {
  signal: string | undefined;
}

/** One exec over ssh2's client; rejects on connection or auth failure. */
export function ssh2Exec(
  target: { host: string; port: number; user: string; keyPath: string; hostKey?: string },
  command: string,
  options: { stdin?: string; env?: Record<string, string>; readyTimeout?: number } = {},
): Promise<Ssh2ExecResult> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(command, { env: options.env ?? {} }, (err, channel) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        let signal: string | undefined;
        channel.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s;
        });
        channel.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        channel.on('close', () => {
          client.end();
          resolve({ code, signal, stdout, stderr });
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
      });
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: readFileSync(target.keyPath),
      readyTimeout: options.readyTimeout ?? 10_000,
      ...(target.hostKey ? { hostVerifier: (key: Buffer) => key.toString('base64') === target.hostKey?.split(' ')[1] } : {}),
    });
  });
}
