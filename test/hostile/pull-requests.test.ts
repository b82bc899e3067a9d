// Hostile corpus, group 1 of 4: pull requests (issue 11). Each case is one
// change a contributor could merge, applied to the repository's own fleet/,
// with the outcome `fleet validate` must give: refused (with the rule, the
// file and words that tell the person what to do) or accepted. A refused
// revision is never promoted by the daemon (test/hostile/faults.test.ts).
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFleet, loadFleetFromFiles, readFleetFiles, type FleetFile } from '../../reconciler/src/load/load-fleet.ts';
import { parseCron } from '../../reconciler/src/validate/cron-expression.ts';

const repo = join(import.meta.dirname, '..', '..');
const base = (await readFleetFiles('fleet', { cwd: repo })).files;
const text = (f: FleetFile): string => (typeof f.text === 'string' ? f.text : Buffer.from(f.text).toString('utf8'));

type Edit = (files: Map<string, string>) => void;
type Expect = { accepted: true } | { rule: string; file: string; message?: RegExp };
interface Case { id: string; edit: Edit; expect: Expect }

/** Replaces `from` with `to` in one file (the case fails loudly if `from` is not there). */
const sub = (path: string, from: string | RegExp, to: string): Edit => (files) => {
  const t = files.get(path);
  if (t === undefined || !(typeof from === 'string' ? t.includes(from) : from.test(t))) throw new Error(`${path} has no ${String(from)}`);
  files.set(path, t.replace(from, to));
};
/** Adds `line` under the top-level `section:` of fleet.yaml (indented two spaces). */
const under = (section: string, line: string): Edit => sub('fleet/fleet.yaml', new RegExp(`^${section}:\\n`, 'm'), `${section}:\n  ${line}\n`);
const setKey = (section: string, key: string, value: string): Edit => (files) => {
  const t = files.get('fleet/fleet.yaml') ?? '';
  const re = new RegExp(`^(  ${key}:).*$`, 'm');
  const start = t.indexOf(`\n${section}:\n`);
  const end = t.indexOf('\n\n', start + 1);
  const block = t.slice(start, end === -1 ? undefined : end);
  const next = re.test(block) ? block.replace(re, `$1 ${value}`) : block.replace(`${section}:\n`, `${section}:\n  ${key}: ${value}\n`);
  files.set('fleet/fleet.yaml', t.slice(0, start) + next + (end === -1 ? '' : t.slice(end)));
};
const node = (key: string, value: string): Edit => sub('fleet/nodes/maestro.yaml', /^notes:.*$/m, `notes: placeholder\n${key}: ${value}`);
const notes = (value: string): Edit => sub('fleet/nodes/maestro.yaml', /^notes:.*$/m, `notes: ${JSON.stringify(value)}`);
const address = (value: string): Edit => sub('fleet/nodes/maestro.yaml', '  - 192.168.1.20\n', `  - ${JSON.stringify(value)}\n`);
const cron = (value: string): Edit => setKey('reconcile', 'drift_cron', JSON.stringify(value));

const refused = (rule: string, file: string, message?: RegExp): Expect => ({ rule, file, ...(message ? { message } : {}) });
const ok: Expect = { accepted: true };
const SETTINGS = 'fleet/fleet.yaml';
const MAESTRO = 'fleet/nodes/maestro.yaml';
const WRITES = /a pull request cannot choose where Bob writes/;
const SIGNALS = /a pull request cannot choose what Bob signals/;

const CASES: Case[] = [
  // Where Bob writes (finding: registry_path/workers_path chose files on Bob).
  { id: 'registry_path in /tmp', edit: under('bob', 'registry_path: /tmp/x/registry.json'), expect: refused('schema', SETTINGS, WRITES) },
  { id: 'workers_path climbing out of home into .bashrc', edit: under('bob', 'workers_path: ~/../../../../tmp/x/.bashrc'), expect: refused('schema', SETTINGS, WRITES) },
  { id: 'registry_path /etc/passwd', edit: under('bob', 'registry_path: /etc/passwd'), expect: refused('schema', SETTINGS, WRITES) },
  { id: 'registry_path through $HOME', edit: under('bob', 'registry_path: $HOME/.bashrc'), expect: refused('schema', SETTINGS, WRITES) },
  { id: 'workers_path a launchd agent', edit: under('bob', 'workers_path: ~/Library/LaunchAgents/evil.plist'), expect: refused('schema', SETTINGS, WRITES) },
  { id: 'registry_path the fixed default (old files keep validating)', edit: under('bob', 'registry_path: ~/.symphony/registry/nodes_registry.json'), expect: ok },
  { id: 'workers_path the fixed default', edit: under('bob', 'workers_path: ~/.symphony/openclaw_workers.json'), expect: ok },
  // What Bob signals.
  { id: 'openclaw_pid_file naming init', edit: under('bob', 'openclaw_pid_file: /run/init.pid'), expect: refused('schema', SETTINGS, SIGNALS) },
  { id: 'openclaw_pid_file another pid file', edit: under('bob', 'openclaw_pid_file: ~/.symphony/other.pid'), expect: refused('schema', SETTINGS, SIGNALS) },
  { id: 'openclaw_process_name sshd', edit: under('bob', 'openclaw_process_name: sshd'), expect: refused('schema', SETTINGS, SIGNALS) },
  { id: 'openclaw_process_name ollama', edit: under('bob', 'openclaw_process_name: ollama'), expect: refused('schema', SETTINGS, SIGNALS) },
  { id: 'openclaw_process_name the fixed default', edit: under('bob', 'openclaw_process_name: openclaw'), expect: ok },
  { id: 'openclaw_pid_file the fixed default', edit: under('bob', 'openclaw_pid_file: ~/.symphony/openclaw.pid'), expect: ok },
  // Host keys (findings: TOFU from the repository; fleet trust writing outside it).
  { id: 'trust_on_first_use true', edit: under('ssh', 'trust_on_first_use: true'), expect: refused('schema', SETTINGS, /only on Bob, in ~\/\.symphony\/fleetd\.yaml/) },
  { id: 'trust_on_first_use "yes"', edit: under('ssh', 'trust_on_first_use: "yes"'), expect: refused('schema', SETTINGS) },
  { id: 'trust_on_first_use false', edit: under('ssh', 'trust_on_first_use: false'), expect: ok },
  { id: 'known_hosts climbing to /etc', edit: under('ssh', 'known_hosts: ../../../../etc/ssh/ssh_known_hosts'), expect: refused('schema', SETTINGS, /always fleet\/known_hosts/) },
  { id: 'known_hosts absolute', edit: under('ssh', 'known_hosts: /etc/ssh/ssh_known_hosts'), expect: refused('schema', SETTINGS) },
  { id: 'known_hosts another file in fleet/', edit: under('ssh', 'known_hosts: pinned'), expect: refused('schema', SETTINGS) },
  { id: 'known_hosts the fixed default', edit: under('ssh', 'known_hosts: known_hosts'), expect: ok },
  { id: 'key_path /etc/shadow', edit: setKey('ssh', 'key_path', '/etc/shadow'), expect: refused('schema', SETTINGS, /a file in ~\/\.ssh\//) },
  { id: 'key_path out of ~/.ssh', edit: setKey('ssh', 'key_path', '~/.ssh/../.aws/credentials'), expect: refused('schema', SETTINGS) },
  { id: 'key_path ~/.ssh/..', edit: setKey('ssh', 'key_path', '~/.ssh/..'), expect: refused('schema', SETTINGS) },
  { id: 'key_path ~/.ssh/id_rsa', edit: setKey('ssh', 'key_path', '~/.ssh/id_rsa'), expect: ok },
  // Drift schedule (findings: "99 99 99 99 99" stopped the daemon; "1-50000000" blocked it for a minute).
  { id: 'cron 99 99 99 99 99', edit: cron('99 99 99 99 99'), expect: refused('drift-cron', SETTINGS, /outside the minute field's range 0-59/) },
  { id: 'cron 1-50000000 * * * *', edit: cron('1-50000000 * * * *'), expect: refused('drift-cron', SETTINGS, /not a number from 0 to 59/) },
  { id: 'cron step zero', edit: cron('*/0 * * * *'), expect: refused('drift-cron', SETTINGS, /step/) },
  { id: 'cron step past the range', edit: cron('*/61 * * * *'), expect: refused('drift-cron', SETTINGS, /step/) },
  { id: 'cron every second', edit: cron('* * * * * *'), expect: refused('drift-cron', SETTINGS, /at most once a minute/) },
  { id: 'cron seconds list', edit: cron('0,30 * * * * *'), expect: refused('drift-cron', SETTINGS, /at most once a minute/) },
  { id: 'cron six fields, one second', edit: cron('0 */15 * * * *'), expect: ok },
  { id: 'cron every 15 minutes', edit: cron('*/15 * * * *'), expect: ok },
  { id: 'cron February 31st never runs', edit: cron('0 0 31 2 *'), expect: refused('drift-cron', SETTINGS, /never run/) },
  { id: 'cron February 30th never runs', edit: cron('0 0 30 2 *'), expect: refused('drift-cron', SETTINGS, /never run/) },
  { id: 'cron February 29th (leap years)', edit: cron('0 0 29 2 *'), expect: ok },
  { id: 'cron minute 60', edit: cron('60 * * * *'), expect: refused('drift-cron', SETTINGS) },
  { id: 'cron hour 24', edit: cron('0 24 * * *'), expect: refused('drift-cron', SETTINGS) },
  { id: 'cron day 0', edit: cron('0 0 0 * *'), expect: refused('drift-cron', SETTINGS) },
  { id: 'cron month 13', edit: cron('0 0 1 13 *'), expect: refused('drift-cron', SETTINGS) },
  { id: 'cron weekday 8', edit: cron('0 0 * * 8'), expect: refused('drift-cron', SETTINGS) },
  { id: 'cron backwards range', edit: cron('5-1 * * * *'), expect: refused('drift-cron', SETTINGS, /runs backwards/) },
  { id: 'cron list of 61 items (longer than the schema allows)', edit: cron(`${Array.from({ length: 61 }, (_, i) => i % 60).join(',')} * * * *`), expect: refused('schema', SETTINGS, /at most 100/) },
  { id: 'cron step without a range', edit: cron('5/15 * * * *'), expect: refused('drift-cron', SETTINGS, /needs \* or a range/) },
  { id: 'cron four fields', edit: cron('*/15 * * *'), expect: refused('schema', SETTINGS) },
  { id: 'cron 200 characters', edit: cron(`${'1,'.repeat(99)}1 * * * *`), expect: refused('schema', SETTINGS, /at most 100/) },
  { id: 'cron @daily', edit: cron('@daily'), expect: refused('schema', SETTINGS) },
  { id: 'cron names (mon-fri)', edit: cron('0 0 * * mon-fri'), expect: refused('schema', SETTINGS) },
  { id: 'cron weekdays 1-5', edit: cron('0 9 * * 1-5'), expect: ok },
  { id: 'cron Sunday as 7', edit: cron('0 0 * * 7'), expect: ok },
  // Every other setting has bounds.
  { id: 'poll_interval_s 0', edit: setKey('reconcile', 'poll_interval_s', '0'), expect: refused('schema', SETTINGS, /at least 1/) },
  { id: 'poll_interval_s a billion', edit: setKey('reconcile', 'poll_interval_s', '1000000000'), expect: refused('schema', SETTINGS, /at most 86400/) },
  { id: 'step_timeout_s 1e12', edit: setKey('reconcile', 'step_timeout_s', '1000000000000'), expect: refused('schema', SETTINGS, /at most/) },
  { id: 'pull_timeout_s negative', edit: setKey('reconcile', 'pull_timeout_s', '-1'), expect: refused('schema', SETTINGS) },
  { id: 'backoff_max_s a billion', edit: setKey('reconcile', 'backoff_max_s', '1000000000'), expect: refused('schema', SETTINGS, /at most 86400/) },
  { id: 'concurrency 100000', edit: setKey('reconcile', 'concurrency', '100000'), expect: refused('schema', SETTINGS) },
  { id: 'retries 1000', edit: setKey('reconcile', 'retries', '1000'), expect: refused('schema', SETTINGS) },
  { id: 'connect_timeout_s 0', edit: setKey('ssh', 'connect_timeout_s', '0'), expect: refused('schema', SETTINGS) },
  { id: 'command_timeout_s a million', edit: setKey('ssh', 'command_timeout_s', '1000000'), expect: refused('schema', SETTINGS) },
  { id: 'bob_address 0.0.0.0', edit: setKey('network', 'bob_address', '0.0.0.0'), expect: refused('bob-address', SETTINGS, /this network/) },
  { id: 'bob_address broadcast', edit: setKey('network', 'bob_address', '255.255.255.255'), expect: refused('bob-address', SETTINGS, /broadcast/) },
  { id: 'bob_address multicast', edit: setKey('network', 'bob_address', '224.0.0.1'), expect: refused('bob-address', SETTINGS, /multicast/) },
  { id: 'bob_address as one number', edit: setKey('network', 'bob_address', '"3232235786"'), expect: refused('schema', SETTINGS, /without leading zeros/) },
  { id: 'git_author_email with a newline', edit: setKey('bob', 'git_author_email', '"a\\nb@c"'), expect: refused('schema', SETTINGS) },
  { id: 'git_author_name with U+2028', edit: setKey('bob', 'git_author_name', '"Fleet\\u2028Evil"'), expect: refused('schema', SETTINGS) },
  // One-line fields (finding: U+2028, U+2029, U+0085 and bidi controls were accepted).
  { id: 'notes with U+2028', edit: notes('a\u2028b'), expect: refused('schema', MAESTRO, /U\+2028/) },
  { id: 'notes with U+2029', edit: notes('a\u2029b'), expect: refused('schema', MAESTRO) },
  { id: 'notes with U+0085', edit: notes('a\u0085b'), expect: refused('schema', MAESTRO) },
  { id: 'notes with U+202E (right-to-left override)', edit: notes('safe\u202Eexe.txt'), expect: refused('schema', MAESTRO, /bidirectional/) },
  { id: 'notes with U+2066 (left-to-right isolate)', edit: notes('a\u2066b'), expect: refused('schema', MAESTRO) },
  { id: 'notes with U+200F (right-to-left mark)', edit: notes('a\u200Fb'), expect: refused('schema', MAESTRO) },
  { id: 'notes with U+061C (Arabic letter mark)', edit: notes('a\u061Cb'), expect: refused('schema', MAESTRO) },
  { id: 'notes with accents and emoji', edit: notes('Café – 64 GB 🎻'), expect: ok },
  { id: 'role description with U+2028', edit: sub('fleet/roles/llm_worker.yaml', /^description:.*$/m, 'description: "a\\u2028b"'), expect: refused('schema', 'fleet/roles/llm_worker.yaml') },
  // Addresses compared as text (finding: non-canonical IPv4 forms name the same machine).
  { id: 'address as one number (3232235796)', edit: address('3232235796'), expect: refused('schema', MAESTRO, /in disguise/) },
  { id: 'address in octal (0300.0250.1.20)', edit: address('0300.0250.1.20'), expect: refused('schema', MAESTRO) },
  { id: 'address with three parts (192.168.276)', edit: address('192.168.276'), expect: refused('schema', MAESTRO) },
  { id: 'address in hex (0xc0a80114)', edit: address('0xc0a80114'), expect: refused('schema', MAESTRO) },
  { id: 'address with leading zeros (192.168.001.020)', edit: address('192.168.001.020'), expect: refused('schema', MAESTRO) },
  { id: 'address with a hex last part (maestro.0x14)', edit: address('maestro.0x14'), expect: refused('schema', MAESTRO) },
  { id: 'address a hostname with digits (maestro-2.local)', edit: address('maestro-2.local'), expect: ok },
  { id: 'OLLAMA_HOST in octal', edit: node('ollama_env', '{ OLLAMA_HOST: "0300.0.0.0" }'), expect: refused('schema', MAESTRO) },
  { id: 'OLLAMA_HOST with a port', edit: node('ollama_env', '{ OLLAMA_HOST: "0.0.0.0:11434" }'), expect: ok },
];

describe('hostile pull requests: fleet validate refuses what Bob must not do, accepts the fixed safe forms', () => {
  it.each(CASES.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const files = new Map(base.map((f) => [f.path, text(f)]));
    c.edit(files);
    const result = loadFleetFromFiles([...files].map(([path, t]) => ({ path, text: t })), { today: '2026-11-24' });
    const errors = result.problems.filter((p) => p.severity === 'error');
    if ('accepted' in c.expect) {
      expect(errors).toEqual([]);
      return;
    }
    const want = c.expect;
    const hit = errors.find((p) => p.rule === want.rule && p.file === want.file);
    expect(hit, JSON.stringify(errors, null, 1)).toBeDefined();
    if (want.message) expect(hit?.message).toMatch(want.message);
    expect(result.desired).toBeNull();
  });

  it('a bounded cron is parsed in bounded time: the 50-million range is refused before anything is expanded', () => {
    // The parser never builds more than 60 values per field; no timing, just what it returns.
    const r = parseCron('1-50000000 * * * *');
    expect(r.ok).toBe(false);
  });
});

describe('hostile pull requests: symbolic links in or as fleet/ are refused, never followed', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'fleet-hostile-links-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const copy = (name: string): string => {
    const dir = join(tmp, name);
    cpSync(join(repo, 'fleet'), dir, { recursive: true });
    return dir;
  };

  it('fleet/ itself a link to /etc (finding: 140 of Bob\'s file names on /api/status)', async () => {
    symlinkSync('/etc', join(tmp, 'fleet-link'));
    await expect(loadFleet(join(tmp, 'fleet-link'))).rejects.toThrow(/is a symbolic link/);
  });

  it.each([
    ['a node file linked to /etc/passwd', 'nodes/evil.yaml', '/etc/passwd'],
    ['known_hosts linked to /etc/ssh/ssh_known_hosts', 'known_hosts', '/etc/ssh/ssh_known_hosts'],
    ['nodes/ linked to /etc', 'nodes-link', '/etc'],
  ])('%s', async (_what, rel, target) => {
    const dir = copy(rel.replace(/\W/g, '_'));
    if (rel === 'nodes-link') {
      rmSync(join(dir, 'nodes'), { recursive: true });
      symlinkSync(target, join(dir, 'nodes'));
    } else {
      rmSync(join(dir, rel), { force: true });
      symlinkSync(target, join(dir, rel));
    }
    const r = await loadFleet(dir);
    expect(r.desired).toBeNull();
    expect(r.problems.some((p) => /Symbolic links are not followed/.test(p.message))).toBe(true);
  });

  it('the same directory without links validates (the cases above can fail)', async () => {
    const dir = copy('plain');
    writeFileSync(join(dir, '.DS_Store'), '');
    const r = await loadFleet(dir);
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
