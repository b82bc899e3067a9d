// Keeps the README's "no timed assertions in tests" true: fails when a test
// asserts on elapsed wall-clock time, i.e. an expect() that involves the
// difference of two clock reads (Date.now(), performance.now(),
// process.hrtime, new Date()), directly or through a variable or property
// that holds one, or compares a measured duration (duration_ms, durationMs)
// with an ordering matcher. Timing figures belong in reconciler/bench/;
// tests use an injected clock, fake timers, or prove a timeout by its result.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** Expects that compare clock readings but are not elapsed time. Each needs its reason. */
const ALLOWED: { file: string; line: string; why: string }[] = [];

const ORDERING = new Set(['toBeLessThan', 'toBeLessThanOrEqual', 'toBeGreaterThan', 'toBeGreaterThanOrEqual', 'toBeCloseTo']);
const MEASURED = /^(duration_?ms|durationMs)$/;

interface Finding { file: string; line: number; text: string }

function unwrap(node: ts.Expression): ts.Expression {
  let e = node;
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
    else if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.PlusToken) e = e.operand;
    // Number(x), x.getTime(), x.valueOf()
    else if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'Number' && e.arguments[0]) e = e.arguments[0];
    else if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && ['getTime', 'valueOf'].includes(e.expression.name.text) && e.arguments.length === 0) e = e.expression.expression;
    else return e;
  }
}

/** Date.now(), performance.now(), process.hrtime(), process.hrtime.bigint(), new Date(). */
function isClockRead(node: ts.Expression): boolean {
  if (ts.isNewExpression(node)) return ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (node.arguments?.length ?? 0) === 0;
  if (!ts.isCallExpression(node)) return false;
  const callee = node.expression.getText();
  return ['Date.now', 'performance.now', 'process.hrtime', 'process.hrtime.bigint'].includes(callee);
}

/** The findings of one file's source text. */
function findTimedAssertions(file: string, text: string): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const walk = (node: ts.Node, visit: (n: ts.Node) => void): void => {
    visit(node);
    node.forEachChild((child) => walk(child, visit));
  };
  // Names given a clock reading, then names given an elapsed time.
  const clockNames = new Set<string>();
  const assigned: [string, ts.Expression][] = [];
  walk(source, (n) => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) assigned.push([n.name.text, n.initializer]);
    else if (ts.isPropertyAssignment(n) && (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name))) assigned.push([n.name.text, n.initializer]);
    else if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const target = ts.isPropertyAccessExpression(n.left) ? n.left.name : n.left;
      if (ts.isIdentifier(target)) assigned.push([target.text, n.right]);
    }
  });
  for (const [name, value] of assigned) if (isClockRead(unwrap(value))) clockNames.add(name);
  const fromClock = (e: ts.Expression): boolean => {
    const u = unwrap(e);
    return isClockRead(u) || (ts.isIdentifier(u) && clockNames.has(u.text));
  };
  const isElapsed = (n: ts.Node): boolean => ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.MinusToken && fromClock(n.left) && fromClock(n.right);
  const contains = (root: ts.Node, test: (n: ts.Node) => boolean): boolean => {
    let found = false;
    walk(root, (n) => { if (!found && test(n)) found = true; });
    return found;
  };
  const elapsedNames = new Set(assigned.filter(([, value]) => contains(value, isElapsed)).map(([name]) => name));
  const namesElapsed = (n: ts.Node): boolean => ts.isIdentifier(n) && elapsedNames.has(n.text);

  const findings: Finding[] = [];
  walk(source, (n) => {
    if (!ts.isCallExpression(n) || !ts.isIdentifier(n.expression) || n.expression.text !== 'expect') return;
    // The whole chain: expect(x).not.toBeLessThan(y)
    let top: ts.Node = n;
    const matchers: string[] = [];
    while ((ts.isPropertyAccessExpression(top.parent) && top.parent.expression === top) || (ts.isCallExpression(top.parent) && top.parent.expression === top)) {
      top = top.parent;
      if (ts.isPropertyAccessExpression(top)) matchers.push(top.name.text);
    }
    const measured = matchers.some((m) => ORDERING.has(m)) && contains(top, (x) => ts.isPropertyAccessExpression(x) && MEASURED.test(x.name.text));
    if (contains(top, isElapsed) || contains(top, namesElapsed) || measured) {
      const { line } = source.getLineAndCharacterOfPosition(top.getStart());
      findings.push({ file, line: line + 1, text: top.getText().replace(/\s+/g, ' ').slice(0, 160) });
    }
  });
  return findings;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('honest time', () => {
  it('no test asserts on elapsed wall-clock time', () => {
    const findings = testFiles(join(ROOT, 'test'))
      .flatMap((path) => findTimedAssertions(relative(ROOT, path), readFileSync(path, 'utf8')))
      .filter((f) => !ALLOWED.some((a) => a.file === f.file && f.text.includes(a.line)));
    expect(findings.map((f) => `${f.file}:${f.line}: ${f.text}`)).toEqual([]);
  });

  it('the scan finds each shape of timed assertion', () => {
    const found = (code: string): number[] => findTimedAssertions('t.ts', code).map((f) => f.line);
    // straight, through a variable, through a property, hrtime, a measured duration
    expect(found('const t0 = Date.now();\nawait work();\nexpect(Date.now() - t0).toBeLessThan(100);')).toEqual([3]);
    expect(found('const t0 = performance.now();\nconst took = performance.now() - t0;\nexpect(took).toBeGreaterThanOrEqual(350);')).toEqual([3]);
    expect(found('const started = Date.now();\nresolve({ text, ms: Date.now() - started });\nexpect(r.ms).toBeLessThan(1500);')).toEqual([3]);
    expect(found('const s = process.hrtime.bigint();\nexpect(Number(process.hrtime.bigint() - s) / 1e6).toBeLessThan(5);')).toEqual([2]);
    expect(found('const a = new Date();\nconst b = new Date();\nexpect(b.getTime() - a.getTime()).toBeLessThan(5);')).toEqual([3]);
    expect(found('expect(byName(observed, "tempo").duration_ms).toBeLessThan(3500);')).toEqual([1]);
  });

  it('the scan leaves clock readings that are not elapsed time alone', () => {
    const found = (code: string): number[] => findTimedAssertions('t.ts', code).map((f) => f.line);
    // a deadline loop, clock skew against a peer, a reference time, a duration as data, an expiry in the future
    expect(found('const started = Date.now();\nwhile (Date.now() - started < timeoutMs) await sleep(10);')).toEqual([]);
    expect(found('const nodeNow = Number(out);\nexpect(nodeNow - Date.now() / 1000).toBeGreaterThan(7190);')).toEqual([]);
    expect(found('const t0 = Date.now();\nexpect(render(new Date(t0 - 500))).toBe("now");')).toEqual([]);
    expect(found('expect(input.duration_ms).toBe(120);')).toEqual([]);
    expect(found('const until = new Date(ps.expires_at).getTime() - Date.now();\nexpect(until).toBeGreaterThan(23.9 * 3_600_000);')).toEqual([]);
  });
});
