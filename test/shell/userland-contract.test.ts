// Every command line the product can send, held to the BSD userland contract
// (reconciler/src/shell/commands.ts): each utility listed, each option listed
// with what macOS's man page says. GNU-only flags are the usual trap.
import { describe, expect, it } from 'vitest';
import { resolveNode } from '../../reconciler/src/model/desired.ts';
import { renderHeartbeatScript } from '../../reconciler/src/plan/desired-files.ts';
import { MAC_UTILITIES, type MacUtility } from '../../reconciler/src/shell/commands.ts';
import { SETTINGS, buildDesired, seedNodes } from '../plan/build-desired.ts';
import { checkLine } from './check-contract.ts';
import { allLines, REMOTE_STEP_KINDS, type Refusal } from './command-lines.ts';

const desired = buildDesired();
const virtuoso = resolveNode(desired, seedNodes().find((n) => n.name === 'virtuoso')!);
const home = '/Users/o\'brien $(x)';
const heartbeatScript = renderHeartbeatScript({ node: virtuoso, settings: SETTINGS, home, brewPrefix: '/opt/homebrew', registryUrl: 'http://192.168.1.10:8765', ip: null, registeredAt: '2026-01-15T00:00:00Z' });
const refused: Refusal[] = [];
const lines = allLines({ home, marker: '/tmp/PWNED', ollamaPort: 11434, heartbeatScript }, refused);
/** The probe runs whichever ollama binary it found: `"$_fo" --version`. */
const DYNAMIC = { '\u0000': 'ollama' };

describe('the BSD userland contract', () => {
  it('covers every step kind that sends commands, the probe and the heartbeat', () => {
    const sources = new Set(lines.map((l) => l.source));
    for (const kind of REMOTE_STEP_KINDS) expect(sources).toContain(kind);
    for (const other of ['probe', 'probe (kept-open connection)', 'heartbeat.sh', 'cron', 'verify']) expect(sources).toContain(other);
  });

  it('every command line uses only listed utilities and options', () => {
    const problems = lines.flatMap((l) => checkLine(l.line, DYNAMIC).map((v) => ({ source: l.source, ...v })));
    expect(problems).toEqual([]);
  });

  it('a value that would read as an option, or as no name, never reaches a line: the builder refuses it', () => {
    const optionLike = [...new Set(refused.map((r) => r.value))].sort();
    expect(optionLike).toEqual(['', '--version', '-n', '-rf *']);
    expect(new Set(refused.map((r) => r.source))).toEqual(new Set(['set-hostname', 'install-package', 'uninstall-package', 'stop-brew-service', 'copy-model']));
    for (const r of refused) expect(r.message).toMatch(/starts with "-": a command on the node would read it as an option|is empty: a command on the node would read it as no name at all/);
  });

  it('every utility the contract lists is run by some line (the list names nothing that nothing runs)', () => {
    const used = new Set<string>();
    for (const l of lines) checkLine(l.line, DYNAMIC, used);
    const unused = (MAC_UTILITIES as readonly MacUtility[]).map((u) => u.name).filter((n) => !used.has(n));
    expect(unused).toEqual([]);
  });

  it('catches what a Mac would refuse or not have (so the check above can fail)', () => {
    const caught = (line: string): string[] => checkLine(line).map((v) => v.problem);
    expect(caught('rm --force x')).toEqual([expect.stringMatching(/^rm: the option --force is not in the contract/)]);
    expect(caught('date -d @1700000000')).toEqual([expect.stringMatching(/^date: the option -d/)]);
    expect(caught('find . -printf x')).toEqual([expect.stringMatching(/^find: the primary -printf/)]);
    expect(caught('wc -L x')).toEqual([expect.stringMatching(/^wc: the option -L/)]);
    expect(caught('stat -c %s x')).toEqual([expect.stringMatching(/^stat: the option -c is not in the contract/)]);
    expect(caught('tr -s a b')).toEqual([expect.stringMatching(/^tr: the option -s/)]);
    expect(caught('brew install x')).toEqual([expect.stringMatching(/^brew is not on a Mac's PATH/)]);
    expect(caught('sudo -n sha256sum x')).toEqual([expect.stringMatching(/^sha256sum is not in the contract/)]);
    expect(caught('x=$(timeout 5 true)')).toEqual([expect.stringMatching(/^timeout is not in the contract/)]);
    expect(caught('launchctl load -w x.plist')).toEqual([expect.stringMatching(/^launchctl: the subcommand "load"/)]);
    expect(caught("find . -type f -exec sed -i '' s/a/b/ {} +")).toEqual([expect.stringMatching(/^sed: the option -i is not in the contract/)]);
    expect(caught('"$x" --version')).toEqual([expect.stringMatching(/^a command name known only at run time/)]);
    expect(caught('f() { printf x; }; f; cd /; test -x y && [ -d z ]')).toEqual([]);
  });
});
