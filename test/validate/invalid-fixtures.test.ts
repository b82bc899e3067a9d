// Every directory under test/fixtures/invalid/ is a small change to a valid
// base fleet (test/fixtures/fleets/base/) plus expected.json: the rule and the
// file:line:col the problem must be reported at. Each must come out as that
// problem, with a sentence, and never as a crash.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const invalidDir = join(fixtures, 'invalid');
const baseDir = join(fixtures, 'fleets', 'base');
const work = mkdtempSync(join(tmpdir(), 'fleet-invalid-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Expected {
  description: string;
  rule: string;
  file: string;
  line: number;
  col: number;
  severity?: 'error' | 'warning';
  today?: string;
  remove?: string[];
}

const names = readdirSync(invalidDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

/** The base fleet with the fixture's files laid over it, in a fresh directory. */
function composeFleet(name: string): string {
  const dir = join(work, name);
  cpSync(baseDir, join(dir, 'fleet'), { recursive: true });
  const overlay = join(invalidDir, name, 'fleet');
  if (existsSync(overlay)) cpSync(overlay, join(dir, 'fleet'), { recursive: true });
  const expectedFile = join(invalidDir, name, 'expected.json');
  const expected = existsSync(expectedFile) ? (JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected) : undefined;
  for (const r of expected?.remove ?? []) rmSync(join(dir, 'fleet', r));
  return dir;
}

describe('invalid fixtures', () => {
  it('has at least 40 of them', () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  it('starts from a base fleet that is valid', async () => {
    const result = await loadFleet('fleet', { cwd: composeFleet('.base'), today: '2026-11-24' });
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.desired).not.toBeNull();
  });

  it.each(names)('%s', async (name) => {
    const expected = JSON.parse(readFileSync(join(invalidDir, name, 'expected.json'), 'utf8')) as Expected;
    const cwd = composeFleet(name);
    const result = await loadFleet('fleet', { cwd, today: expected.today ?? '2026-11-24' });
    const severity = expected.severity ?? 'error';
    const match = result.problems.find((p) => p.rule === expected.rule && p.file === expected.file && p.line === expected.line && p.col === expected.col && p.severity === severity);
    expect(match, `${expected.description}\nexpected ${expected.file}:${expected.line}:${expected.col} ${severity} ${expected.rule}\ngot:\n${result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.rule}: ${p.message}`).join('\n')}`).toBeDefined();
    // A sentence a person can act on, on one line, not a stack trace.
    expect(match?.message.length).toBeGreaterThan(20);
    expect(match?.message).not.toMatch(/\n|at .*\.ts:\d+/);
    if (severity === 'error') expect(result.desired).toBeNull();
    for (const p of result.problems) {
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.col).toBeGreaterThanOrEqual(1);
      expect(p.rule).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
    }
  });
});
