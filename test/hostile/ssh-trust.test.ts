// Hostile corpus, group 4 of 4: SSH trust (issue 11). Real ssh2 servers on
// loopback play a node whose host key is unknown, pinned, rotated or
// revoked; Bob's trust on first use is on only where its own fleetd.yaml
// says so, pins the first key and refuses every later change. `fleet trust`
// writes only fleet/known_hosts, never through a link.
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBobConfig, parseBobConfig } from '../../reconciler/src/daemon/bob-config.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import type { Desired } from '../../reconciler/src/load/desired.ts';
import { createGuard } from '../../reconciler/src/net/guard.ts';
import { fingerprint } from '../../reconciler/src/net/known-hosts.ts';
import { openTofuStore } from '../../reconciler/src/net/tofu-store.ts';
import { createConnectionPool } from '../../reconciler/src/observe/connections.ts';
import { localConnectOptions } from '../../reconciler/src/observe/local-connect.ts';
import type { Targets } from '../../reconciler/src/schema/targets.ts';
import { runFleet } from '../cli/run-fleet.ts';
import { makeKeyPair, startSshServer, type KeyPair, type TestSshServer } from '../observe/helpers/ssh-server.ts';

const repo = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'fleet-hostile-ssh-'));
const client = makeKeyPair();
const guard = createGuard({ loopbackOnly: true });
let desired: Desired;
const servers: TestSshServer[] = [];

beforeAll(async () => {
  const loaded = await loadFleet(join(repo, 'fleet'));
  if (!loaded.desired) throw new Error('the repository fleet must validate');
  desired = loaded.desired;
});
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(root, { recursive: true, force: true });
});

async function node(hostKey: KeyPair = makeKeyPair()): Promise<TestSshServer> {
  const s = await startSshServer({ clientPublicKey: client.public, hostKey });
  servers.push(s);
  return s;
}

const targetsFor = (nodes: Record<string, TestSshServer>): Targets => ({
  nodes: Object.fromEntries(Object.entries(nodes).map(([name, s]) => [name, { addresses: ['127.0.0.1'], ssh_port: s.port, user: 'symphony', key_path: '/unused', ollama_url: 'http://127.0.0.1:1' }])),
});

/** One connection attempt the way observe and apply make it, with Bob's local settings. */
async function connect(nodes: Record<string, TestSshServer>, name: string, options: { tofu?: string | null; knownHosts?: string; trustFromRepo?: boolean } = {}): Promise<{ ok: boolean; status: string; message: string; execs: number }> {
  const config = { ...defaultBobConfig(root), ssh: { keyPath: null, trustOnFirstUse: options.tofu !== undefined && options.tofu !== null, tofuKnownHosts: options.tofu ?? join(root, 'unused.tofu') } };
  const d: Desired = { ...desired, knownHosts: options.knownHosts ?? '', settings: { ...desired.settings, ssh: { ...desired.settings.ssh, ...(options.trustFromRepo ? { trust_on_first_use: false as const } : {}) } } };
  if (options.trustFromRepo) (d.settings.ssh as Record<string, unknown>).trust_on_first_use = true;
  const pool = createConnectionPool(d, { targets: targetsFor(nodes), guard, local: await localConnectOptions(config), resolve: { readKey: () => Buffer.from(client.private) } });
  const before = nodes[name]?.stats.execs.length ?? 0;
  try {
    const r = await pool.session(name);
    if (r.ok) await r.session.exec({ __shell: 'true' });
    return { ok: r.ok, status: r.reach.status, message: r.reach.message ?? '', execs: (nodes[name]?.stats.execs.length ?? 0) - before };
  } finally {
    pool.close();
  }
}

const line = (name: string, s: TestSshServer, marker = ''): string => `${marker}${name} ${s.hostKey.publicLine}\n`;

describe('hostile SSH trust: host keys', () => {
  it('TOFU off (the default): an unknown key is refused and nothing runs', async () => {
    const s = await node();
    const r = await connect({ maestro: s }, 'maestro');
    expect(r).toMatchObject({ ok: false, status: 'host-key-unknown', execs: 0 });
    expect(r.message).toMatch(/fleet trust maestro/);
  });

  it('a repository that sets trust_on_first_use cannot turn it on (the value is ignored even if validation were bypassed)', async () => {
    const s = await node();
    expect(await connect({ maestro: s }, 'maestro', { trustFromRepo: true })).toMatchObject({ ok: false, status: 'host-key-unknown', execs: 0 });
  });

  it('TOFU on in fleetd.yaml: the first key is accepted and pinned in Bob\'s store, 0600', async () => {
    const s = await node();
    const store = join(root, 'first.tofu');
    const r = await connect({ maestro: s }, 'maestro', { tofu: store });
    expect(r).toMatchObject({ ok: true, execs: 1 });
    expect(r.message).toMatch(/pinned it in .*first\.tofu; any other key will be refused/);
    expect(readFileSync(store, 'utf8')).toContain(`maestro ${s.hostKey.publicLine}`);
    expect(statSync(store).mode & 0o777).toBe(0o600);
  });

  it('TOFU on: the same key next time is a pin, not a new first use', async () => {
    const s = await node();
    const store = join(root, 'again.tofu');
    await connect({ maestro: s }, 'maestro', { tofu: store });
    const r = await connect({ maestro: s }, 'maestro', { tofu: store });
    expect(r.ok).toBe(true);
    expect(r.message).not.toMatch(/first use/);
  });

  it('TOFU on: a rotated key on a node pinned on first use is refused, every time (finding: "first use" was every use)', async () => {
    const store = join(root, 'rotated.tofu');
    await connect({ maestro: await node() }, 'maestro', { tofu: store });
    const impostor = await node();
    for (let i = 0; i < 2; i++) {
      expect(await connect({ maestro: impostor }, 'maestro', { tofu: store })).toMatchObject({ ok: false, status: 'host-key-changed', execs: 0 });
    }
    expect(readFileSync(store, 'utf8')).not.toContain(impostor.hostKey.publicLine);
  });

  it('TOFU on: a key pinned in fleet/known_hosts wins; a different key is refused, not trusted', async () => {
    const pinned = await node();
    const other = await node();
    const r = await connect({ maestro: other }, 'maestro', { tofu: join(root, 'repo-pin.tofu'), knownHosts: line(`maestro,[127.0.0.1]:${other.port}`, pinned) });
    expect(r).toMatchObject({ ok: false, status: 'host-key-changed', execs: 0 });
  });

  it('TOFU on: a key fleet/known_hosts marks @revoked is refused', async () => {
    const s = await node();
    const r = await connect({ maestro: s }, 'maestro', { tofu: join(root, 'revoked.tofu'), knownHosts: line('*', s, '@revoked ') });
    expect(r).toMatchObject({ ok: false, execs: 0 });
  });

  it('TOFU on: a store line for the node holding another key (tampered or stale) is a pin: refused', async () => {
    const store = join(root, 'tampered.tofu');
    writeFileSync(store, `maestro ${makeKeyPair().publicLine}\n`);
    expect(await connect({ maestro: await node() }, 'maestro', { tofu: store })).toMatchObject({ ok: false, status: 'host-key-changed', execs: 0 });
  });

  it('TOFU on: each node gets its own pin', async () => {
    const store = join(root, 'two.tofu');
    const a = await node();
    const b = await node();
    expect((await connect({ maestro: a, stagehand: b }, 'maestro', { tofu: store })).ok).toBe(true);
    expect((await connect({ maestro: a, stagehand: b }, 'stagehand', { tofu: store })).ok).toBe(true);
    const text = readFileSync(store, 'utf8');
    expect(text).toContain(`maestro ${a.hostKey.publicLine}`);
    expect(text).toContain(`stagehand ${b.hostKey.publicLine}`);
  });

  it('two first uses racing with different keys: one pins, the other is a conflict', async () => {
    const store = await openTofuStore(join(root, 'race.tofu'));
    const outcomes = await Promise.all([store.pin('maestro', makeKeyPair().publicLine), store.pin('maestro', makeKeyPair().publicLine)]);
    expect(outcomes.sort()).toEqual(['conflict', 'pinned']);
  });

  it('a store line that is not a key is never trusted', async () => {
    const file = join(root, 'garbage.tofu');
    writeFileSync(file, 'maestro not-a-key\n# comment\n@revoked maestro ssh-ed25519 AAAA\n');
    const store = await openTofuStore(file);
    expect(store.pinned('maestro')).toBeUndefined();
  });
});

describe('hostile SSH trust: fleet trust writes only fleet/known_hosts', () => {
  const fleetCopy = (name: string): string => {
    const dir = join(root, name);
    cpSync(join(repo, 'fleet'), dir, { recursive: true });
    return dir;
  };
  const targetsFile = (name: string, s: TestSshServer): string => {
    const file = join(root, `${name}.targets.json`);
    writeFileSync(file, JSON.stringify(targetsFor({ maestro: s })));
    return file;
  };

  it('pins the key it read in fleet/known_hosts', async () => {
    const s = await node();
    const dir = fleetCopy('trust-ok');
    const r = await runFleet(['trust', 'maestro', '--fleet', dir, '--targets', targetsFile('ok', s), '--pin-in-fleet']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'known_hosts'), 'utf8')).toContain(s.hostKey.publicLine);
  });

  it('refuses a fleet whose known_hosts is a link (write-file-atomic would follow it): nothing read or written', async () => {
    const s = await node();
    const dir = fleetCopy('trust-link');
    const victim = join(root, 'victim');
    writeFileSync(victim, 'precious\n');
    rmSync(join(dir, 'known_hosts'));
    symlinkSync(victim, join(dir, 'known_hosts'));
    const r = await runFleet(['trust', 'maestro', '--fleet', dir, '--targets', targetsFile('link', s), '--pin-in-fleet']);
    expect(r.code).toBe(1);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, 'known_hosts')).isSymbolicLink()).toBe(true);
    expect(s.stats.connections).toBe(0);
  });

  it('refuses a fleet.yaml that moves known_hosts (finding: ../../../../etc/...): the fleet is invalid, no node contacted', async () => {
    const s = await node();
    const dir = fleetCopy('trust-moved');
    const yaml = join(dir, 'fleet.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  key_path:', '  known_hosts: ../../../../tmp/evil\n  key_path:'));
    const r = await runFleet(['trust', 'maestro', '--fleet', dir, '--targets', targetsFile('moved', s)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ssh\.known_hosts .* the only value accepted is "known_hosts"/);
    expect(s.stats.connections).toBe(0);
  });

  it('--expect with another fingerprint writes nothing', async () => {
    const s = await node();
    const dir = fleetCopy('trust-expect');
    const before = readFileSync(join(dir, 'known_hosts'), 'utf8');
    const r = await runFleet(['trust', 'maestro', '--fleet', dir, '--targets', targetsFile('expect', s), '--pin-in-fleet', '--expect', fingerprint(makeKeyPair().publicLine)]);
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, 'known_hosts'), 'utf8')).toBe(before);
  });
});

describe('hostile SSH trust: Bob\'s fleetd.yaml is checked like fleet files', () => {
  const parse = (text: string) => () => parseBobConfig('/home/bob/.symphony/fleetd.yaml', text, '/home/bob');
  it.each([
    ['trust_on_first_use as text', 'ssh:\n  trust_on_first_use: "yes"\n', /ssh\.trust_on_first_use must be boolean/],
    ['a relative registry path', 'registry_path: registry.json\n', /registry_path must match pattern/],
    ['an unknown key', 'trust_everyone: true\n', /unknown key "trust_everyone"/],
    ['a process name with a space', 'openclaw:\n  process_name: "open claw"\n', /openclaw\.process_name/],
    ['a path with a newline', 'workers_path: "/tmp/a\\nb"\n', /workers_path must match pattern/],
    ['YAML that does not parse', 'ssh: [\n', /fleetd\.yaml:/],
  ])('refuses %s with file:line:col', (_what, text, message) => {
    expect(parse(text)).toThrow(message);
  });

  it('an empty file is every default: TOFU off, files under ~/.symphony', () => {
    const c = parseBobConfig('/home/bob/.symphony/fleetd.yaml', '', '/home/bob');
    expect(c).toMatchObject({ registryPath: '/home/bob/.symphony/registry/nodes_registry.json', workersPath: '/home/bob/.symphony/openclaw_workers.json', ssh: { trustOnFirstUse: false, keyPath: null }, openclaw: { pidFile: '/home/bob/.symphony/openclaw.pid', processName: 'openclaw' } });
  });

  it('the owner turns TOFU on and moves the files; null turns the pid file off', () => {
    const c = parseBobConfig('/f', 'registry_path: /srv/registry.json\nopenclaw:\n  pid_file: null\nssh:\n  trust_on_first_use: true\n  tofu_known_hosts: ~/tofu\n', '/home/bob');
    expect(c).toMatchObject({ registryPath: '/srv/registry.json', openclaw: { pidFile: null }, ssh: { trustOnFirstUse: true, tofuKnownHosts: '/home/bob/tofu' } });
  });
});
