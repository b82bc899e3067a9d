// zsh (what a Mac's sshd runs) and POSIX sh (dash) must agree on every
// command line the product can send: two simulated Macs that start the same
// run each line in the same order, one under zsh and one under sh, and after
// every line the exit status, the output and the effect on the node's files
// must be the same. NOMATCH, word splitting, `=` expansion, echo's
// backslashes: any of them would show here as a difference.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveNode } from '../../reconciler/src/model/desired.ts';
import { renderHeartbeatScript } from '../../reconciler/src/plan/desired-files.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import type { SimNode } from '../../reconciler/src/sim/sim-node.ts';
import { SETTINGS, buildDesired, seedNodes } from '../plan/build-desired.ts';
import { allLines, type Line } from './command-lines.ts';

interface Twin {
  dir: string;
  fleet: SimFleet;
  node: SimNode;
}

const twins: Twin[] = [];
const marker = join(tmpdir(), `zsh-sh-PWNED-${process.pid}`);

async function startTwin(tag: string): Promise<Twin> {
  // a state directory with a space and a quote in it: a home path like a person's
  const dir = mkdtempSync(join(tmpdir(), `zsh sh ${tag} o'q-`));
  const fleet = await startSimFleet({ stateDir: dir, specs: [{ name: 'virtuoso', hardware: 'mac-mini-m4-24gb', sudo: 'passwordless' }], preset: 'fresh', cron: false, controlEndpoint: false });
  return { dir, fleet, node: fleet.node('virtuoso') };
}

beforeAll(async () => {
  // names of the same length: the files that hold them have the same size, and so does df's Used
  twins.push(await startTwin('Z'), await startTwin('S'));
}, 60_000);
afterAll(async () => {
  for (const t of twins) {
    await t.fleet.stop();
    rmSync(t.dir, { recursive: true, force: true });
  }
  rmSync(marker, { force: true });
});

/** The node's files as they matter: home, its root (Homebrew, /Applications), and the sim's record of names and crontab. */
function effect(t: Twin): Record<string, string> {
  const out: Record<string, string> = {};
  const norm = (text: string): string => text.replaceAll(t.dir, '<STATE>').replaceAll(t.node.ip, '<NODE-IP>').replaceAll(t.fleet.registryUrl, '<BOB>');
  const walk = (path: string): void => {
    const st = lstatSync(path);
    const key = norm(relative(t.node.paths.dir, path));
    if (st.isSymbolicLink()) out[key] = `link ${norm(readlinkSync(path))}`;
    else if (st.isDirectory()) {
      out[key] = `dir ${(st.mode & 0o7777).toString(8)}`;
      for (const e of readdirSync(path)) walk(join(path, e));
    } else if (st.isFile()) out[key] = `file ${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(norm(readFileSync(path, 'utf8'))).digest('hex').slice(0, 16)}`;
    else out[key] = 'other';
  };
  walk(t.node.paths.home);
  walk(t.node.paths.root);
  for (const f of ['crontab', 'names']) if (existsSync(join(t.node.paths.state, f))) walk(join(t.node.paths.state, f));
  // logs grow with every run of the agent; their presence is the effect, not their timestamps
  for (const k of Object.keys(out)) if (/\.log$/.test(k)) out[k] = 'log';
  return out;
}

function lines(t: Twin): Line[] {
  const desired = buildDesired();
  const virtuoso = resolveNode(desired, seedNodes().find((n) => n.name === 'virtuoso')!);
  const heartbeatScript = renderHeartbeatScript({ node: virtuoso, settings: SETTINGS, home: t.node.paths.home, brewPrefix: '/opt/homebrew', registryUrl: t.fleet.registryUrl, ip: t.node.ip, registeredAt: '2026-01-15T00:00:00Z' });
  return allLines({ home: t.node.paths.home, marker, ollamaPort: 11434, heartbeatScript });
}

/** What may differ between the twins for reasons that have nothing to do with the shell. */
function normalize(t: Twin, text: string): string {
  return text
    .replaceAll(t.dir, '<STATE>')
    .replaceAll(t.fleet.registryUrl, '<BOB>')
    // each fleet has its own block of loopback addresses
    .replaceAll(t.node.ip, '<NODE-IP>')
    // two machines, two clocks and process ids
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, '<TIME>')
    .replace(/"PID" = \d+;/g, '"PID" = <PID>;');
}

/** Runs one line on both twins (zsh on the first, sh on the second); the difference, or undefined when they agree. */
async function compare(a: Line, b: Line): Promise<unknown> {
  const [z, s] = twins as [Twin, Twin];
  const run = (t: Twin, l: Line, shell: 'zsh' | 'sh'): ReturnType<SimNode['exec']> => t.node.exec(l.line, { shell, ...(l.stdin === undefined ? {} : { stdin: l.stdin }) });
  const [ra, rb] = await Promise.all([run(z, a, 'zsh'), run(s, b, 'sh')]);
  // the shells' own words for a missing command (zsh:1: command not found: x, sh: 1: x: not found) are theirs, not a difference
  const left = { code: ra.code, stdout: normalize(z, ra.stdout), stderr: normalize(z, ra.stderr).replace(/^zsh:\d+: (?:command not found|no such file or directory): (.*)$/gm, 'SHELL: not found: $1').replace(/^zsh:\d+: /gm, 'SHELL: ') };
  const right = { code: rb.code, stdout: normalize(s, rb.stdout), stderr: normalize(s, rb.stderr).replace(/^sh: \d+: (.*): not found$/gm, 'SHELL: not found: $1').replace(/^sh: \d+: /gm, 'SHELL: ') };
  const ea = effect(z);
  const eb = effect(s);
  if (JSON.stringify(left) === JSON.stringify(right) && JSON.stringify(ea) === JSON.stringify(eb)) return undefined;
  const changed = [...new Set([...Object.keys(ea), ...Object.keys(eb)])].filter((k) => ea[k] !== eb[k]);
  return { source: a.source, line: a.line.slice(0, 300), zsh: left, sh: right, files: Object.fromEntries(changed.map((k) => [k, { zsh: ea[k], sh: eb[k] }])) };
}

describe('zsh and POSIX sh on a simulated Mac', () => {
  it('differ where they really differ (so the comparison can fail)', async () => {
    // what write-file sent before: an unmatched glob aborts under zsh
    const glob: Line = { source: 'old write-file', line: 'rm -f "$HOME"/.nothing.tmp.* && echo ok' };
    expect(await compare(glob, glob)).toMatchObject({ zsh: { code: 1 }, sh: { code: 0, stdout: 'ok\n' } });
    const split: Line = { source: 'word splitting', line: 'x="a b"; for w in $x; do mkdir -p "$HOME/split-$w"; done' };
    expect(await compare(split, split)).toMatchObject({ files: { 'home/split-a b': { zsh: 'dir 755' } } });
    for (const t of twins) for (const d of ['split-a b', 'split-a', 'split-b']) rmSync(join(t.node.paths.home, d), { recursive: true, force: true });
  });

  it('agree on the exit status, output and effect of every line, in order', async () => {
    const [z, s] = twins as [Twin, Twin];
    const zl = lines(z);
    const sl = lines(s);
    expect(zl.length).toBe(sl.length);
    expect(zl.length).toBeGreaterThan(300);
    const differences: unknown[] = [];
    for (let i = 0; i < zl.length && differences.length < 5; i++) {
      const d = await compare(zl[i] as Line, sl[i] as Line);
      if (d !== undefined) differences.push(d);
    }
    expect(differences).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  }, 240_000);
});
