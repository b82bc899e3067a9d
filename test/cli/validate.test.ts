// `fleet validate` as a process: exit codes, the three formats, and the CI
// gate: a node that does not fit its RAM becomes an annotation on its line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFleetDir, runFleet } from './run-fleet.ts';

describe('fleet validate', () => {
  it('passes on fleet/ (exit 0) and prints the summary', async () => {
    const r = await runFleet(['validate', 'fleet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fleet (3 nodes): valid, 0 errors, 1 warning');
    expect(r.stdout).toMatch(/^fleet\/nodes\/maestro\.yaml:\d+:\d+ warning intel-llm: /m);
  });

  it('defaults to ./fleet and fails on warnings with --strict', async () => {
    const r = await runFleet(['validate', '--strict']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('(--strict: warnings fail)');
  });

  it('annotates the line of a model that does not fit, in GitHub format (exit 1)', async () => {
    const fleet = makeFleetDir('fleet', 'model-fit-32gb-70b');
    try {
      const r = await runFleet(['validate', 'fleet', '--format', 'github', '--today', '2026-11-24'], { cwd: fleet.dir });
      expect(r.code).toBe(1);
      const line = r.stdout.split('\n').find((l) => l.startsWith('::error'));
      expect(line).toMatch(/^::error file=fleet\/nodes\/virtuoso\.yaml,line=10,col=5,title=model-fit::.*llama3\.1:70b.*need ~46\.9 GB.*gives models ~21\.3 GB/);
      expect(r.stdout).toMatch(/^::warning file=fleet\/nodes\/maestro\.yaml,line=\d+,col=\d+,title=intel-llm::/m);
    } finally {
      fleet.cleanup();
    }
  });

  it('escapes what would break a GitHub annotation: %, comma and colon in a file name, newlines as \\n', async () => {
    const fleet = makeFleetDir('fleet', 'newline-in-notes');
    try {
      writeFileSync(join(fleet.dir, 'fleet', 'nodes', '50%,a:b.txt'), 'x\n');
      const r = await runFleet(['validate', 'fleet', '--format', 'github'], { cwd: fleet.dir });
      expect(r.stdout).toContain('::error file=fleet/nodes/50%25%2Ca%3Ab.txt,line=1,col=1,title=unknown-file::');
      const notes = r.stdout.split('\n').find((l) => l.includes('title=schema'));
      expect(notes).toContain('notes is "fine\\nrm -rf /"');
      // Every line is a workflow command or the summary: nothing the runner could misread.
      expect(r.stdout.split('\n').every((l) => l === '' || l.startsWith('::') || /: (in)?valid, /.test(l))).toBe(true);
    } finally {
      fleet.cleanup();
    }
  });

  it('prints JSON for scripts', async () => {
    const fleet = makeFleetDir('fleet', 'duplicate-address');
    try {
      const r = await runFleet(['validate', 'fleet', '--format', 'json'], { cwd: fleet.dir });
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout) as { valid: boolean; errors: number; problems: { rule: string; file: string; line: number; col: number }[] };
      expect(out.valid).toBe(false);
      expect(out.errors).toBe(1);
      expect(out.problems).toContainEqual(expect.objectContaining({ rule: 'duplicate-address', file: 'fleet/nodes/virtuoso.yaml', line: 7, col: 5 }));
    } finally {
      fleet.cleanup();
    }
  });

  it('judges name reuse as of --today', async () => {
    const fleet = makeFleetDir('fleet', 'name-reuse');
    try {
      expect((await runFleet(['validate', 'fleet', '--today', '2026-11-24'], { cwd: fleet.dir })).code).toBe(1);
      expect((await runFleet(['validate', 'fleet', '--today', '2027-03-01'], { cwd: fleet.dir })).code).toBe(0);
    } finally {
      fleet.cleanup();
    }
  });

  it('exits 1 with a sentence for a missing directory, a bad date or a bad format', async () => {
    const missing = await runFleet(['validate', 'no-such-dir']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no-such-dir: no such directory');
    const date = await runFleet(['validate', '--today', '2026-02-30']);
    expect(date.code).toBe(1);
    expect(date.stderr).toContain('is not a date');
    const format = await runFleet(['validate', '--format', 'xml']);
    expect(format.code).toBe(1);
    expect(format.stderr).toMatch(/Allowed choices are text, json, github/);
  });

  it('has --help', async () => {
    const r = await runFleet(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--strict');
    expect(r.stdout).toContain('--format <format>');
  });
});
