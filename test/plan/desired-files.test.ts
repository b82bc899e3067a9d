// The managed files, byte for byte where the interfaces fix them, and the
// scripts run for real (bash, with ipconfig and curl stubbed) with hostile
// values: a name or path from a pull request never runs as a command.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { heartbeatRequestSchema, registerRequestSchema } from '../../reconciler/src/schema/registry-api.ts';
import { parse as parsePlist } from 'plist';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveNode, type DesiredNode } from '../../reconciler/src/model/desired.ts';
import { crontabInSync, renderCrontab, renderDesiredFiles, renderHeartbeatScript, renderLaunchdPlist, renderOllamaEnv, renderSelfRegistration, type FileContext } from '../../reconciler/src/plan/desired-files.ts';
import { plan } from '../../reconciler/src/plan/plan.ts';
import { SETTINGS, buildDesired, node, seedNodes } from './build-desired.ts';
import { OPTIONS, fixture } from './build-observed.ts';
import { hostileString } from './arbitrary-observed.ts';
import { HEARTBEAT_CRON_LINE, HEARTBEAT_MARKER } from '../../reconciler/src/model/mac-layout.ts';

const desired = buildDesired();
const virtuoso = resolveNode(desired, seedNodes().find((n) => n.name === 'virtuoso')!);
const work = mkdtempSync(join(tmpdir(), 'fleet-plan-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function ctx(over: Partial<FileContext> = {}, n: DesiredNode = virtuoso): FileContext {
  return { node: n, settings: SETTINGS, home: '/Users/symphony', brewPrefix: '/opt/homebrew', registryUrl: 'http://192.168.1.10:8765', ip: '192.168.1.40', registeredAt: '2026-01-15T00:00:00Z', ...over };
}

describe('ollama.env', () => {
  it('starts with the seed\'s three lines, then the pinned memory settings', () => {
    expect(renderOllamaEnv(virtuoso.ollama_env)).toBe('OLLAMA_HOST=0.0.0.0\nOLLAMA_KEEP_ALIVE=24h\nOLLAMA_MAX_LOADED_MODELS=2\nOLLAMA_CONTEXT_LENGTH=4096\nOLLAMA_NUM_PARALLEL=1\n');
  });

  it('quotes hostile values: sourcing it sets them and runs nothing', () => {
    const evil = `$(touch ${join(work, 'pwned-env')})'"\``;
    const text = renderOllamaEnv({ ...virtuoso.ollama_env, OLLAMA_HOST: evil });
    const out = execFileSync('sh', ['-c', `${text}\nprintf '%s' "$OLLAMA_HOST"`], { encoding: 'utf8' });
    expect(out).toBe(evil);
    expect(existsSync(join(work, 'pwned-env'))).toBe(false);
  });
});

describe('the launchd plist', () => {
  it('has the seed\'s keys, absolute paths under the node\'s home, and the env as strings', () => {
    const doc = parsePlist(renderLaunchdPlist(ctx())) as Record<string, unknown>;
    expect(doc).toEqual({
      Label: 'com.symphony.ollama',
      ProgramArguments: ['/opt/homebrew/bin/ollama', 'serve'],
      EnvironmentVariables: { OLLAMA_HOST: '0.0.0.0', OLLAMA_KEEP_ALIVE: '24h', OLLAMA_MAX_LOADED_MODELS: '2', OLLAMA_CONTEXT_LENGTH: '4096', OLLAMA_NUM_PARALLEL: '1' },
      RunAtLoad: true,
      KeepAlive: true,
      StandardOutPath: '/Users/symphony/.symphony/logs/ollama.log',
      StandardErrorPath: '/Users/symphony/.symphony/logs/ollama_error.log',
    });
  });

  it('uses the Intel prefix on Intel, and escapes XML in a strange home', () => {
    const doc = parsePlist(renderLaunchdPlist(ctx({ brewPrefix: '/usr/local', home: '/Users/a<b>&c' }))) as Record<string, unknown>;
    expect(doc.ProgramArguments).toEqual(['/usr/local/bin/ollama', 'serve']);
    expect(doc.StandardOutPath).toBe('/Users/a<b>&c/.symphony/logs/ollama.log');
  });
});

describe('the self-registration payload', () => {
  it('has exactly the fields of POST /api/nodes/register', () => {
    expect(JSON.parse(renderSelfRegistration(ctx()))).toEqual({
      node_id: 'virtuoso', display_name: 'Virtuoso', role: 'full_worker', ip: '192.168.1.40', hostname: 'virtuoso.local',
      services: { ollama: true, ollama_port: 11434, docker: true, harpa: true }, registered_at: '2026-01-15T00:00:00Z',
    });
    expect(JSON.parse(renderSelfRegistration(ctx({ ip: null }))).ip).toBe('UNKNOWN');
  });

  it('is what Bob\'s registry API accepts (its request schema), also with an odd observed address', () => {
    const validate = new Ajv2020({ strict: false }).compile(registerRequestSchema);
    for (const ip of ['192.168.1.40', null, 'fe80::1', '']) {
      const payload = JSON.parse(renderSelfRegistration(ctx({ ip }))) as unknown;
      expect(validate(payload), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('files per role: a browser node has no Ollama files, a llm_worker no HARPA-less gap', () => {
    const stagehand = resolveNode(desired, seedNodes().find((n) => n.name === 'stagehand')!);
    expect(renderDesiredFiles(ctx({}, stagehand)).map((f) => f.file)).toEqual(['heartbeat_script', 'harpa_instructions', 'self_registration']);
    expect(renderDesiredFiles(ctx()).map((f) => [f.file, f.path, f.mode.toString(8)])).toEqual([
      ['ollama_env', '/Users/symphony/.ollama/ollama.env', '644'],
      ['launchd_plist', '/Users/symphony/Library/LaunchAgents/com.symphony.ollama.plist', '644'],
      ['heartbeat_script', '/Users/symphony/.symphony/heartbeat.sh', '755'],
      ['harpa_instructions', '/Users/symphony/.symphony/harpa_setup_instructions.txt', '644'],
      ['self_registration', '/Users/symphony/.symphony/registry/self_registration.json', '644'],
    ]);
  });
});

/** Runs the heartbeat script with ipconfig and curl replaced by bash functions; returns curl's arguments and the log. */
function runHeartbeat(script: string, home: string, ip: string): { curlArgs: string[]; log: string } {
  mkdirSync(join(home, '.symphony', 'logs'), { recursive: true });
  const calls = join(work, `calls-${Math.random().toString(36).slice(2)}`);
  const file = join(work, `hb-${Math.random().toString(36).slice(2)}.sh`);
  execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: script });
  execFileSync('bash', ['-c', [
    `ipconfig() { if [ "$2" = en0 ] && [ -n "$FAKE_IP" ]; then echo "$FAKE_IP"; else return 1; fi; }`,
    `curl() { printf '%s\\0' "$@" > "$CALLS"; printf 200; }`,
    'export -f ipconfig curl',
    'bash "$1"',
  ].join('\n'), 'bash', file], { env: { ...process.env, FAKE_IP: ip, CALLS: calls } });
  const curlArgs = readFileSync(calls, 'utf8').split('\0').slice(0, -1);
  return { curlArgs, log: readFileSync(join(home, '.symphony', 'logs', 'heartbeat.log'), 'utf8') };
}

describe('heartbeat.sh', () => {
  it('POSTs {node_id, ip, timestamp} to Bob each run and logs it', () => {
    const home = join(work, 'home-plain');
    const { curlArgs, log } = runHeartbeat(renderHeartbeatScript(ctx({ home })), home, '192.168.1.40');
    expect(curlArgs.at(-1)).toBe('http://192.168.1.10:8765/api/heartbeat');
    const body = JSON.parse(curlArgs[curlArgs.indexOf('-d') + 1] ?? '{}') as Record<string, string>;
    expect(Object.keys(body)).toEqual(['node_id', 'ip', 'timestamp']);
    expect(body.node_id).toBe('virtuoso');
    expect(body.ip).toBe('192.168.1.40');
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(log).toMatch(/ 192\.168\.1\.40 HTTP 200\n$/);
    const validate = new Ajv2020({ strict: false }).compile(heartbeatRequestSchema);
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  });

  it('sends UNKNOWN when no interface has an address, and never a non-address', () => {
    const home = join(work, 'home-unknown');
    const none = runHeartbeat(renderHeartbeatScript(ctx({ home })), home, '');
    expect(JSON.parse(none.curlArgs[none.curlArgs.indexOf('-d') + 1] ?? '{}')).toMatchObject({ ip: 'UNKNOWN' });
    for (const odd of ['1.2.3.4","x":"y', '1.2.3', '1..2.3', '1.2.3.4.5', '.1.2.3']) {
      const r = runHeartbeat(renderHeartbeatScript(ctx({ home })), home, odd);
      expect(JSON.parse(r.curlArgs[r.curlArgs.indexOf('-d') + 1] ?? '{}'), odd).toEqual(expect.objectContaining({ ip: 'UNKNOWN' }));
    }
  });

  it('hostile home, node name and registry URL stay data', () => {
    const home = join(work, `o'brien $(touch ${join(work, 'pwned-hb')}) \`id\``);
    const n = { ...virtuoso, name: `v'; touch ${join(work, 'pwned-name')}; '` };
    const url = `http://x/$(touch ${join(work, 'pwned-url')})`;
    const { curlArgs } = runHeartbeat(renderHeartbeatScript(ctx({ home, registryUrl: url }, n)), home, '10.0.0.1');
    expect(curlArgs.at(-1)).toBe(`${url}/api/heartbeat`);
    expect(readdirSync(work).filter((f) => f.startsWith('pwned'))).toEqual([]);
  });

  it('property: any node name, home or URL is assigned verbatim (quoted) in the script', () => {
    fc.assert(fc.property(hostileString, hostileString, hostileString, (name, homeTail, url) => {
      fc.pre(!name.includes('\0') && !homeTail.includes('\0') && !url.includes('\0'));
      const script = renderHeartbeatScript(ctx({ home: `/Users/${homeTail}`, registryUrl: url }, { ...virtuoso, name }));
      // The assignments sit between the PATH line and the ipconfig call; a value may span lines.
      const assignments = script.slice(script.indexOf('\nnode_id=') + 1, script.indexOf('\nip=$(ipconfig'));
      const out = execFileSync('sh', ['-c', `${assignments}\nprintf '%s\\0' "$node_id" "$url" "$log"`], { encoding: 'utf8' });
      expect(out.split('\0').slice(0, 3)).toEqual([name, `${url}/api/heartbeat`, `/Users/${homeTail}/.symphony/logs/heartbeat.log`]);
    }), { numRuns: 60 });
    expect(readdirSync('/tmp').filter((f) => f === 'pwned')).toEqual([]);
  });
});

describe('the heartbeat crontab line', () => {
  it('is replaced, never duplicated, and other lines are kept in order', () => {
    const before = ['MAILTO=""', '* * * * * bash ~/.symphony/heartbeat.sh', '0 3 * * * /usr/local/bin/backup', '* * * * * bash /Users/x/.symphony/heartbeat.sh'];
    const after = renderCrontab(before, HEARTBEAT_CRON_LINE);
    expect(after).toEqual(['MAILTO=""', '0 3 * * * /usr/local/bin/backup', HEARTBEAT_MARKER, HEARTBEAT_CRON_LINE]);
    expect(renderCrontab(after, HEARTBEAT_CRON_LINE)).toEqual(after);
    expect(crontabInSync(after, HEARTBEAT_CRON_LINE)).toBe(true);
    expect(crontabInSync(before, HEARTBEAT_CRON_LINE)).toBe(false);
    expect(renderCrontab(after, null)).toEqual(['MAILTO=""', '0 3 * * * /usr/local/bin/backup']);
    expect(crontabInSync([], null)).toBe(true);
  });

  it('property: rendering twice changes nothing, and there is exactly one heartbeat line', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.constant(HEARTBEAT_CRON_LINE), fc.constant(HEARTBEAT_MARKER), hostileString)), (lines) => {
      const once = renderCrontab(lines, HEARTBEAT_CRON_LINE);
      expect(renderCrontab(once, HEARTBEAT_CRON_LINE)).toEqual(once);
      expect(once.filter((l) => l === HEARTBEAT_CRON_LINE)).toHaveLength(1);
      expect(crontabInSync(once, HEARTBEAT_CRON_LINE)).toBe(true);
    }));
  });
});

describe('manual commands with hostile names run as data', () => {
  it('the sudo scutil commands pass the display name as one argument', () => {
    const evilName = `Bob's "Mac" $(touch ${join(work, 'pwned-scutil')}) \`id\``;
    const d = buildDesired([node('virtuoso', 'full_worker', 'mac-mini-m4-24gb', { display_name: evilName })]);
    const o = fixture('fresh-m4-24gb-no-sudo');
    const np = plan(d, [o], OPTIONS).nodes[0]!;
    const manual = np.steps.find((s) => s.id === 'virtuoso/manual/sudo-password/hostname');
    if (manual?.kind !== 'manual') throw new Error('no manual hostname step');
    const commands = manual.instructions.filter((l) => l.startsWith('sudo scutil'));
    expect(commands).toHaveLength(3);
    const out = execFileSync('sh', ['-c', `sudo() { printf '%s\\0' "$@"; printf '\\n'; }\n${commands.join('\n')}`], { encoding: 'utf8' });
    const argv = out.split('\n').filter((l) => l !== '').map((l) => l.split('\0').slice(0, -1));
    expect(argv).toEqual([
      ['scutil', '--set', 'ComputerName', evilName],
      ['scutil', '--set', 'HostName', 'virtuoso'],
      ['scutil', '--set', 'LocalHostName', 'virtuoso'],
    ]);
    expect(existsSync(join(work, 'pwned-scutil'))).toBe(false);
  });
});
