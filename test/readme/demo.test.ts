// The README's first command, `npm start`: the daemon on a simulated fleet of
// factory-fresh Macs and a local bare origin, end to end, as a real process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repo } from '../cli/run-fleet.ts';

// npm start's temporary directory: it must be empty again afterwards.
const tmp = mkdtempSync(join(tmpdir(), 'fleet-demo-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function npmStart(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['start', '--silent', '--', ...args], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp },
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
  it('provisions fresh Macs, converges a merged node, heals a drift, stops cleanly and leaves nothing in the temporary directory', async () => {
    const { code, out } = await npmStart(['--timeout', '240']);
    if (code !== 0) throw new Error(`npm start exited ${String(code)}:\n${out.slice(-6000)}`);
    expect(out).toMatch(/converged in [0-9.]+ s/);
    expect(out).toMatch(/virtuoso converged [0-9.]+ s after the push/);
    expect(out).toContain('webhook answered 202');
    expect(out).toMatch(/OpenClaw routes to virtuoso_ollama: enabled=true models=.*mistral:7b/);
    expect(out).toContain('healed: mistral:7b is back on maestro');
    expect(out).toContain('demo finished');
    // origin held the person's commit and the daemon's generated/ commits (the demo prints its log).
    expect(out).toContain('Alice: fleet: add virtuoso');
    expect(out).toMatch(/Symphony Fleet: generated: .*virtuoso active/);
    // Nothing of the run is left; Node's own compile cache (one folder, shared and reused by every run) may be.
    expect(readdirSync(tmp).filter((f) => f !== 'node-compile-cache')).toEqual([]);
  }, 600_000);
});
