// The fast reader must give exactly the yaml library's data and positions
// whenever it accepts a file, and must accept the files the fleet is made of
// (or it is not worth having).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseSimpleYaml } from '../../reconciler/src/load/fast-yaml.ts';
import { renderNodeFile } from '../../reconciler/src/load/node-file.ts';
import { checkTextFile, DEFAULT_LIMITS, parseYamlFile } from '../../reconciler/src/load/parse-yaml.ts';
import type { PathSegment } from '../../reconciler/src/load/parse-yaml.ts';

const repo = join(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every path in the data, each with a missing child, to compare positions and fallbacks. */
function pathsOf(value: unknown, prefix: PathSegment[] = []): PathSegment[][] {
  const out: PathSegment[][] = [prefix, [...prefix, 'no-such-key'], [...prefix, 99]];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

/** Both readers on the same text; null when the fast one declines. */
function compare(text: string): boolean {
  const fast = parseSimpleYaml(text);
  if (!fast) return false;
  const slow = parseYamlFile('f.yaml', text, DEFAULT_LIMITS, { fastPath: false });
  expect(slow.problems.filter((p) => p.severity === 'error'), text).toEqual([]);
  expect(fast.data).toEqual(slow.source?.data);
  for (const path of pathsOf(fast.data)) {
    for (const at of ['value', 'key'] as const) {
      expect(fast.locate(path, at), `${JSON.stringify(path)} ${at}\n${text}`).toEqual(slow.source?.locate(path, at));
    }
  }
  return true;
}

describe('fast reader', () => {
  const files = [...yamlFiles(join(repo, 'fleet')), ...yamlFiles(join(repo, 'test', 'fixtures'))];

  it('agrees with the yaml library on every YAML file in fleet/ and the fixtures it accepts', () => {
    let accepted = 0;
    for (const file of files) {
      const text = checkTextFile(file, readFileSync(file), { ...DEFAULT_LIMITS, maxBytes: 1e9 }).text;
      if (text === null || /^[ ]*\t/m.test(text)) continue;
      const slow = parseYamlFile(file, text, DEFAULT_LIMITS, { fastPath: false });
      if (!slow.source || slow.problems.length > 0) {
        // Whatever the library path rejects, the whole reader rejects the same way.
        expect(parseYamlFile(file, text).problems, relative(repo, file)).toEqual(slow.problems);
        continue;
      }
      if (compare(text)) accepted++;
    }
    expect(accepted).toBeGreaterThan(files.length / 2);
  });

  it('accepts every node and role file of fleet/ and what add-node writes', () => {
    for (const dir of ['nodes', 'roles']) {
      for (const file of yamlFiles(join(repo, 'fleet', dir))) expect(parseSimpleYaml(readFileSync(file, 'utf8')), file).not.toBeNull();
    }
    const text = renderNodeFile({ name: 'virtuoso', role: 'full_worker', hardware: 'mac-mini-m4-24gb', addresses: ['virtuoso.local', '192.168.1.40'], presence: 'always_on', status: 'planned', added: '2026-11-24', models: ['codestral:22b'], openclaw: { priority: 95, task_types: ['code'] }, notes: 'A "quoted" word, it\'s fine' });
    expect(compare(text)).toBe(true);
  });

  const scalar = fc.oneof(
    fc.constantFrom('null', '~', 'true', 'False', 'yes', 'on', '0', '-1', '+7', '007', '0o17', '0x1F', '1.5', '.5', '5.', '1e3', '-2.5E-3', '.inf', '-.Inf', '.nan', '1_000', '2026-11-24', '1.2.3', 'a:b', 'a: b', 'a #b', 'a#b', '-', '-x', '- x', '?x', ':x', '@x', '%x', '&x', '*x', '!x', '|', '>', '"', "'", '[x]', '{x}', 'x,y', "it's", 'say "hi"', '', ' ', 'é✓', '__proto__', 'x  ', '  x'),
    fc.string({ maxLength: 12 }),
  );
  const keyName = fc.oneof(fc.constantFrom('name', 'null', 'true', 'a-b', 'a_b', 'A', '_x', '1', '__proto__', 'k k', 'k:', 'models'), fc.stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/));
  const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('seq'), tie('map')),
    seq: fc.array(scalar, { maxLength: 4 }),
    map: fc.dictionary(keyName, tie('node'), { maxKeys: 5 }),
  })).map;

  it('agrees with the library on generated documents, in several styles', () => {
    fc.assert(fc.property(tree, fc.constantFrom(0, 2, 4), fc.boolean(), fc.constantFrom('block', 'flow'), (doc, indent, indentSeq, seqStyle) => {
      let text: string;
      try {
        text = stringify(doc, { indent: Math.max(indent, 2), indentSeq, collectionStyle: 'any', flowCollectionPadding: seqStyle === 'flow' });
      } catch {
        return;
      }
      const slow = parseYamlFile('f.yaml', text, DEFAULT_LIMITS, { fastPath: false });
      if (!slow.source || slow.problems.length > 0) {
        expect(parseSimpleYaml(text)).toBeNull();
        return;
      }
      compare(text);
    }), { numRuns: 1500 });
  });

  it('agrees with the library on hand-written variations: comments, quotes, flow lists, odd spacing', () => {
    const line = fc.oneof(
      fc.constantFrom('# comment', '', '   ', '  # indented comment', '---', '...'),
      fc.tuple(fc.constantFrom('', '  ', '    '), keyName, fc.constantFrom(':', ': ', ':  ', ':\t'), scalar, fc.constantFrom('', ' # c', '  #c', '#c')).map(([i, k, c, v, t]) => `${i}${k}${c}${v}${t}`),
      fc.tuple(fc.constantFrom('', '  ', '    '), fc.constantFrom('- ', '-  ', '-'), scalar, fc.constantFrom('', ' # c')).map(([i, d, v, t]) => `${i}${d}${v}${t}`),
      fc.tuple(fc.constantFrom('', '  '), keyName, fc.array(scalar, { maxLength: 3 }), fc.constantFrom(', ', ',', ' , ')).map(([i, k, items, sep]) => `${i}${k}: [${items.join(sep)}]`),
      fc.tuple(fc.constantFrom('', '  '), keyName, fc.string({ maxLength: 8 }), fc.constantFrom('"', "'")).map(([i, k, v, q]) => `${i}${k}: ${q}${v}${q}`),
    );
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
      const text = `${lines.join('\n')}\n`;
      const slow = parseYamlFile('f.yaml', text, DEFAULT_LIMITS, { fastPath: false });
      if (!slow.source || slow.problems.length > 0 || typeof slow.source.data !== 'object' || slow.source.data === null || Array.isArray(slow.source.data)) {
        expect(parseSimpleYaml(text), text).toBeNull();
        return;
      }
      compare(text);
    }), { numRuns: 4000 });
  });
});
