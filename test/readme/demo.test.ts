// The README's first command, `npm start`: the daemon on a simulated fleet of
// factory-fresh Macs and a local bare origin, end to end, as a real process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, describe, expect, it } from 'vitest';
import { repo } from '../cli/run-fleet.ts';

const state = mkdtempSync(join(tmpdir(), 'fleet-demo-test-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

function npmStart(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['start', '--silent', '--', ...args], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

describe('npm start (fleet demo)', () => {
  it('provisions fresh Macs, converges a merged node, heals a drift, and stops cleanly', async () => {
    const { code, out } = await npmStart(['--state-dir', state, '--timeout', '240']);
    if (code !== 0) throw new Error(`npm start exited ${String(code)}:\n${out.slice(-6000)}`);
    expect(out).toMatch(/converged in [0-9.]+ s/);
    expect(out).toMatch(/virtuoso converged [0-9.]+ s after the push/);
    expect(out).toContain('webhook answered 202');
    expect(out).toMatch(/OpenClaw routes to virtuoso_ollama: enabled=true models=.*mistral:7b/);
    expect(out).toContain('healed: mistral:7b is back on maestro');
    expect(out).toContain('demo finished');
    // origin holds the person's commit and the daemon's generated/ commits.
    const log = await simpleGit(join(state, 'origin.git')).raw(['log', '--format=%an|%s', 'main']);
    expect(log).toContain('Alice|fleet: add virtuoso');
    expect(log).toMatch(/Symphony Fleet\|generated: .*virtuoso active/);
  }, 600_000);
});
