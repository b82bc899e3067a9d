// From YAML text to data plus positions: the line:col mapping the CI
// annotations depend on, and hostile input that must end as a problem.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseYamlFile } from '../../reconciler/src/load/parse-yaml.ts';

const text = [
  '# header comment',      // 1
  'name: virtuoso',        // 2
  'addresses:',            // 3
  '  - virtuoso.local',    // 4
  '  - 192.168.1.40',      // 5
  'openclaw:',             // 6
  '  priority: 95',        // 7
  '  task_types: [code, qa]', // 8
  '',
].join('\n');

describe('locate', () => {
  const parsed = parseYamlFile('fleet/nodes/virtuoso.yaml', text);
  const locate = (path: readonly (string | number)[], at?: 'key' | 'value'): { line: number; col: number } => parsed.source?.locate(path, at) ?? { line: 0, col: 0 };

  it.each([
    [['name'], 'value', 2, 7],
    [['name'], 'key', 2, 1],
    [['addresses', 1], 'value', 5, 5],
    [['addresses', '0'], 'value', 4, 5],
    [['openclaw', 'priority'], 'value', 7, 13],
    [['openclaw', 'priority'], 'key', 7, 3],
    [['openclaw', 'task_types', 1], 'value', 8, 22],
    [[], 'value', 2, 1],
  ] as const)('%j (%s) is at %i:%i', (path, at, line, col) => {
    expect(locate(path, at)).toEqual({ line, col });
  });

  it('falls back to the nearest value that exists', () => {
    expect(locate(['openclaw', 'max_concurrent'])).toEqual({ line: 6, col: 1 });
    expect(locate(['addresses', 7])).toEqual({ line: 3, col: 1 });
    expect(locate(['name', 'deeper'])).toEqual({ line: 2, col: 1 });
    expect(locate(['nothing', 'here'])).toEqual({ line: 2, col: 1 });
  });

  it('gives the data as plain JS', () => {
    expect(parsed.problems).toEqual([]);
    expect(parsed.source?.data).toEqual({ name: 'virtuoso', addresses: ['virtuoso.local', '192.168.1.40'], openclaw: { priority: 95, task_types: ['code', 'qa'] } });
  });
});

describe('hygiene', () => {
  it('keeps positions right after a BOM and CRLF line endings', () => {
    const r = parseYamlFile('f.yaml', `\ufeffa: 1\r\nb:\r\n  c: 2\r\n`);
    expect(r.problems.map((p) => `${p.rule}@${p.line}:${p.col}`)).toEqual(['bom@1:1', 'crlf@1:5']);
    expect(r.source?.locate(['b', 'c'])).toEqual({ line: 3, col: 6 });
  });

  it('reads YAML 1.2: yes and dates stay text, no merge keys', () => {
    const r = parseYamlFile('f.yaml', 'a: yes\nb: 2026-11-24\nc: &x {d: 1}\ne:\n  <<: *x\n');
    expect(r.source?.data).toEqual({ a: 'yes', b: '2026-11-24', c: { d: 1 }, e: { '<<': { d: 1 } } });
  });

  it('reports a custom tag as a warning, not a crash', () => {
    const r = parseYamlFile('f.yaml', 'a: !!js/function "return 1"\n');
    expect(r.problems.map((p) => [p.rule, p.severity])).toEqual([['yaml-warning', 'warning']]);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const r = parseYamlFile('f.yaml', bytes);
      expect(r.source !== null || r.problems.some((p) => p.severity === 'error')).toBe(true);
    }), { numRuns: 300 });
  });

  it('never throws on YAML-shaped noise', () => {
    const pieces = fc.constantFrom('a', ':', ' ', '  ', '\n', '-', '[', ']', '{', '}', '&x', '*x', '"', "'", '#', '|', '>', '\t', '---', '? ', '!', '%YAML 1.2', ',');
    fc.assert(fc.property(fc.array(pieces, { maxLength: 80 }), (parts) => {
      const r = parseYamlFile('f.yaml', parts.join(''));
      for (const p of r.problems) {
        expect(p.line).toBeGreaterThanOrEqual(1);
        expect(p.col).toBeGreaterThanOrEqual(1);
      }
    }), { numRuns: 500 });
  });

  it('stops an alias bomb before expanding it', () => {
    const bomb = (levels: number): string => {
      let doc = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i < levels; i++) doc += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
      return doc;
    };
    // 1000 values if expanded: refused, so the limit stops a bomb early (and this fails, rather than hangs, without it).
    const small = parseYamlFile('f.yaml', bomb(3));
    expect(small.problems.map((p) => p.rule)).toEqual(['alias-limit']);
    // 10^12 values: refused too. How fast: npm run bench:validate.
    const r = parseYamlFile('f.yaml', bomb(12));
    expect(r.source).toBeNull();
    expect(r.problems.map((p) => p.rule)).toEqual(['alias-limit']);
    expect(r.problems[0]?.message).toContain(`more than ${DEFAULT_LIMITS.maxAliasCount} per file`);
  });
});
