// The SSH face of a simulated node, through ssh2's client and the stock
// OpenSSH client, as the seed's "Verify from Bob" section does it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetsSchema } from '../../reconciler/src/schema/targets.ts';
import { generateEd25519KeyPair } from '../../reconciler/src/net/ssh-keys.ts';
import type { SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { REPO_FLEET_DIR, run, ssh2Exec, startTestFleet, stockSshArgs } from './fleet-fixture.ts';

let sim: { fleet: SimFleet; dir: string; cleanup: () => Promise<void> };
let knownHosts: string;

function targetOf(name: string): { host: string; port: number; user: string; keyPath: string; hostKey: string } {
  const t = sim.fleet.targets.nodes[name];
  if (!t) throw new Error(`no target ${name}`);
  return { host: t.addresses[0] ?? '', port: t.ssh_port, user: t.user, keyPath: t.key_path, hostKey: t.host_key ?? '' };
}

beforeAll(async () => {
  sim = await startTestFleet({ fromDir: REPO_FLEET_DIR, preset: 'provisioned' });
  knownHosts = join(sim.dir, 'known_hosts');
});
afterAll(async () => {
  await sim.cleanup();
});

describe('targets.json', () => {
  it('matches the targets schema and names every node with its host key and Ollama URL', async () => {
    const { readTargets } = await import('../../reconciler/src/observe/read-targets.ts');
    const targets = await readTargets(sim.fleet.targetsPath);
    const validate = new Ajv2020({ strict: false }).compile(targetsSchema);
    expect(validate(targets)).toBe(true);
    expect(Object.keys(targets.nodes).sort()).toEqual(['bob', 'maestro', 'stagehand']);
    for (const t of Object.values(targets.nodes)) {
      expect(t.addresses[0]).toMatch(/^127\./);
      expect(t.host_key).toMatch(/^ssh-ed25519 AAAA/);
      expect(t.ollama_url).toMatch(/^http:\/\/127\.[0-9.]+:\d+$/);
    }
  });
});

describe('ssh2 client', () => {
  it('passes stdout, stderr and the exit code through', async () => {
    const r = await ssh2Exec(targetOf('bob'), 'echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('runs the command as macOS does: zsh -c in the node home, macOS\'s PATH, brew and ollama off it', async () => {
    const r = await ssh2Exec(targetOf('maestro'), 'pwd; echo "$0 $ZSH_VERSION"; echo "$PATH"; hostname; command -v brew ollama; echo "rc=$?"');
    const lines = r.stdout.split('\n');
    const root = sim.fleet.node('maestro').paths.root;
    expect(lines[0]).toBe(sim.fleet.node('maestro').paths.home);
    expect(lines[1]).toMatch(/^zsh 5\.\d/);
    expect(lines[2]).toBe(['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${root}${d}`).join(':'));
    expect(lines[3]).toBe('maestro');
    expect(lines[4]).toMatch(/^rc=[1-9]/);
  });

  it('fails as zsh fails: unmatched globs, missing commands, and GNU-only options', async () => {
    expect(await ssh2Exec(targetOf('bob'), 'rm -f /tmp/no-such-dir/x.tmp.*')).toMatchObject({ code: 1, stderr: 'zsh:1: no matches found: /tmp/no-such-dir/x.tmp.*\n' });
    expect(await ssh2Exec(targetOf('bob'), 'ollama list')).toMatchObject({ code: 127, stderr: 'zsh:1: command not found: ollama\n' });
    expect(await ssh2Exec(targetOf('bob'), 'mkdir --parents x')).toMatchObject({ code: 64, stderr: 'mkdir: illegal option -- -\nusage: mkdir [-pv] [-m mode] directory_name ...\n' });
    const split = await ssh2Exec(targetOf('bob'), 'x="a b"; for w in $x; do echo "[$w]"; done');
    expect(split.stdout).toBe('[a b]\n');
  });

  it('quotes behave as in a real shell: an injected value stays one word', async () => {
    const r = await ssh2Exec(targetOf('bob'), `printf '%s\\n' 'a b; rm -rf ~' "$(echo x)"`);
    expect(r.stdout).toBe('a b; rm -rf ~\nx\n');
  });

  it('pipes stdin, so cat > file and crontab - work', async () => {
    const w = await ssh2Exec(targetOf('bob'), 'mkdir -p ~/.symphony && cat > ~/.symphony/note.txt && wc -c < ~/.symphony/note.txt', { stdin: 'hello\nworld\n' });
    // macOS's wc pads its count: " %7d"
    expect(w).toMatchObject({ code: 0, stdout: '      12\n' });
    const c = await ssh2Exec(targetOf('bob'), 'crontab - && crontab -l', { stdin: '* * * * * bash ~/.symphony/heartbeat.sh\n*/5 * * * * echo hi\n' });
    expect(c.stdout).toBe('* * * * * bash ~/.symphony/heartbeat.sh\n*/5 * * * * echo hi\n');
  });

  it('reports a command killed by a signal as the signal', async () => {
    const r = await ssh2Exec(targetOf('bob'), 'kill -TERM $$');
    expect(r.code).toBeNull();
    // the server sends RFC 4254's "TERM"; ssh2's client reports it as SIGTERM
    expect(r.signal).toBe('SIGTERM');
  });

  it('accepts LANG and LC_* from the client, as macOS sshd does, and ignores the rest', async () => {
    const r = await ssh2Exec(targetOf('bob'), 'echo "$LANG|${FOO-unset}"', { env: { LANG: 'en_US.UTF-8', FOO: 'x' } });
    expect(r.stdout).toBe('en_US.UTF-8|unset\n');
  });

  it('logs every command line per node', async () => {
    await ssh2Exec(targetOf('stagehand'), 'sw_vers -productVersion');
    expect(sim.fleet.commandLog('stagehand')).toContain('sw_vers -productVersion');
  });

  it('refuses a key other than the fleet client key, and an unknown user', async () => {
    const other = generateEd25519KeyPair();
    const otherKey = join(sim.dir, 'other_key');
    writeFileSync(otherKey, other.private, { mode: 0o600 });
    await expect(ssh2Exec({ ...targetOf('bob'), keyPath: otherKey }, 'true')).rejects.toThrow(/authentication methods failed/);
    await expect(ssh2Exec({ ...targetOf('bob'), user: 'root' }, 'true')).rejects.toThrow(/authentication methods failed/);
  });
});

describe('stock OpenSSH client', () => {
  it('logs in with StrictHostKeyChecking=yes and runs hostname && ollama list', async () => {
    const t = targetOf('bob');
    const r = await run('ssh', [...stockSshArgs({ knownHostsFile: knownHosts, keyPath: t.keyPath, port: t.port, user: t.user, host: t.host }), 'hostname && "${FLEET_ROOT-}"/opt/homebrew/bin/ollama list']);
    expect(r.code).toBe(0);
    const [host, header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(host).toBe('bob');
    expect(header).toMatch(/^NAME\s+ID\s+SIZE\s+MODIFIED\s*$/);
    expect(rows.map((row) => row.split(/\s+/)[0]).sort()).toEqual(['llama3.2:3b', 'nomic-embed-text:latest']);
  });

  it('like macOS, plain `ollama list` is not found on the non-login PATH', async () => {
    const t = targetOf('bob');
    const r = await run('ssh', [...stockSshArgs({ knownHostsFile: knownHosts, keyPath: t.keyPath, port: t.port, user: t.user, host: t.host }), 'hostname && ollama list']);
    expect(r.code).toBe(127);
    expect(r.stdout).toBe('bob\n');
  });

  it('refuses a node whose host key is not in known_hosts', async () => {
    const t = targetOf('bob');
    const empty = join(sim.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await run('ssh', [...stockSshArgs({ knownHostsFile: empty, keyPath: t.keyPath, port: t.port, user: t.user, host: t.host }), 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
  });

  it('runs a shell request fed on stdin', async () => {
    const t = targetOf('maestro');
    const r = await run('ssh', ['-T', ...stockSshArgs({ knownHostsFile: knownHosts, keyPath: t.keyPath, port: t.port, user: t.user, host: t.host })], 'uname -m\nid -un\n');
    expect(r.stdout).toBe('x86_64\nsymphony\n');
  });

  it('curl on the Ollama URL gets /api/tags, as from Bob', async () => {
    const url = sim.fleet.targets.nodes.maestro?.ollama_url ?? '';
    const r = await run('curl', ['-s', '--max-time', '10', `${url}/api/tags`]);
    const names = (JSON.parse(r.stdout) as { models: { name: string }[] }).models.map((m) => m.name).sort();
    expect(names).toEqual(['llama3.1:70b', 'llama3.1:8b', 'mistral:7b', 'nomic-embed-text:latest']);
  });
});
