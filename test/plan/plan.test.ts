// Table-driven: one case per node status and per step kind, on fixture
// observations (test/fixtures/observed/) and on "provisioned like today"
// nodes with one drift each.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { FleetError } from '../../reconciler/src/errors.ts';
import { HEARTBEAT_CRON_LINE, renderCrontab } from '../../reconciler/src/plan/desired-files.ts';
import { plan, planExitCode, type PlanOptions } from '../../reconciler/src/plan/plan.ts';
import type { NodePlan, Step, StepKind, StepOf } from '../../reconciler/src/plan/steps.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { SETTINGS, TODAY, buildDesired, node, seedNodes } from './build-desired.ts';
import { OPTIONS, fixture, provisioned } from './build-observed.ts';
import { applyIdeal } from './ideal-apply.ts';

const desired = buildDesired();

function planOne(obs: ObservedNode, options: Partial<PlanOptions> = {}, d = desired): NodePlan {
  const p = plan(d, [obs], { ...OPTIONS, ...options, nodes: [obs.node] });
  const [np] = p.nodes;
  if (np === undefined) throw new Error('no node plan');
  return np;
}

const kinds = (np: NodePlan): string[] => np.steps.map((s) => (s.kind === 'manual' ? `manual/${s.reason}` : s.kind));
const ids = (np: NodePlan): string[] => np.steps.map((s) => s.id);
function stepOf<K extends StepKind>(np: NodePlan, kind: K): StepOf<K> {
  const s = np.steps.find((x): x is StepOf<K> => x.kind === kind);
  if (s === undefined) throw new Error(`no ${kind} step in ${ids(np).join(', ')}`);
  return s;
}

/** Every dependency comes earlier in the list: the order is topological. */
function expectTopological(steps: readonly Step[]): void {
  const seen = new Set<string>();
  for (const s of steps) {
    for (const a of s.after) expect(seen.has(a), `${s.id} after ${a}`).toBe(true);
    seen.add(s.id);
  }
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('fresh node (virtuoso, M4 24 GB full_worker)', () => {
  const np = planOne(fixture('fresh-m4-24gb'));

  it('gets the whole seed 4c provisioning, in dependency order', () => {
    expect(np.status).toBe('drifted');
    expect(np.summary).toMatch(/^not provisioned yet: full provisioning/);
    expect(ids(np)).toEqual([
      'virtuoso/set-hostname',
      'virtuoso/install-homebrew',
      'virtuoso/install-package/formula/ollama',
      'virtuoso/install-package/cask/docker',
      'virtuoso/install-package/cask/google-chrome',
      'virtuoso/make-dirs',
      'virtuoso/write-file/ollama_env',
      'virtuoso/write-file/launchd_plist',
      'virtuoso/write-file/heartbeat_script',
      'virtuoso/write-file/harpa_instructions',
      'virtuoso/write-file/self_registration',
      'virtuoso/load-agent',
      'virtuoso/pull-model/nomic-embed-text:latest',
      'virtuoso/pull-model/llama3.2:3b',
      'virtuoso/pull-model/llama3.1:8b',
      'virtuoso/set-crontab',
      'virtuoso/register',
      'virtuoso/manual/harpa-setup',
    ]);
    expectTopological(np.steps);
    expect(stepOf(np, 'install-homebrew').prefix).toBe('/opt/homebrew');
    expect(np.steps.filter((s) => s.kind === 'install-package').map((s) => s.id)).toEqual([
      'virtuoso/install-package/formula/ollama', 'virtuoso/install-package/cask/docker', 'virtuoso/install-package/cask/google-chrome',
    ]);
    expect(np.steps.filter((s): s is StepOf<'write-file'> => s.kind === 'write-file').map((s) => s.file).sort()).toEqual(
      ['harpa_instructions', 'heartbeat_script', 'launchd_plist', 'ollama_env', 'self_registration']);
  });

  it('sets all three names', () => {
    const s = stepOf(np, 'set-hostname');
    expect([s.computer_name, s.host_name, s.local_host_name]).toEqual(['Virtuoso', 'virtuoso', 'virtuoso']);
    expect(s.why).toContain('HostName is not set');
  });

  it('pulls the smallest model first, each after the agent and the previous pull', () => {
    const pulls = np.steps.filter((s): s is StepOf<'pull-model'> => s.kind === 'pull-model');
    expect(pulls.map((p) => p.model)).toEqual(['nomic-embed-text:latest', 'llama3.2:3b', 'llama3.1:8b']);
    expect(pulls[0]?.after).toContain('virtuoso/load-agent');
    expect(pulls[1]?.after).toContain(pulls[0]?.id);
    expect(pulls[2]?.after).toContain(pulls[1]?.id);
  });

  it('orders Homebrew before packages, the formula and files before the agent, dirs before files', () => {
    expect(stepOf(np, 'install-package').after).toEqual(['virtuoso/install-homebrew']);
    const load = stepOf(np, 'load-agent');
    expect(load.reload).toBe(false);
    expect(load.after).toEqual(expect.arrayContaining(['virtuoso/install-package/formula/ollama', 'virtuoso/write-file/launchd_plist', 'virtuoso/write-file/ollama_env', 'virtuoso/make-dirs']));
    for (const w of np.steps.filter((s) => s.kind === 'write-file')) expect(w.after).toEqual(['virtuoso/make-dirs']);
    expect(stepOf(np, 'set-crontab').after).toContain('virtuoso/write-file/heartbeat_script');
    expect(stepOf(np, 'register').after).toEqual(expect.arrayContaining(['virtuoso/write-file/self_registration', 'virtuoso/load-agent']));
    expect(stepOf(np, 'manual').after).toEqual(expect.arrayContaining(['virtuoso/write-file/harpa_instructions', 'virtuoso/install-package/cask/google-chrome']));
  });

  it('creates the managed directories that are missing, with absolute paths', () => {
    expect(stepOf(np, 'make-dirs').paths).toEqual(['/Users/symphony/.symphony', '/Users/symphony/.symphony/logs', '/Users/symphony/.symphony/registry', '/Users/symphony/.ollama']);
  });

  it('registers with Bob at the registry URL, with the interfaces payload', () => {
    const r = stepOf(np, 'register');
    expect(r.url).toBe('http://192.168.1.10:8765/api/nodes/register');
    expect(r.payload).toEqual({
      node_id: 'virtuoso', display_name: 'Virtuoso', role: 'full_worker', ip: '192.168.1.40', hostname: 'virtuoso.local',
      services: { ollama: true, ollama_port: 11434, docker: true, harpa: true }, registered_at: '2026-01-15T00:00:00Z',
    });
  });

  it('after a perfect apply, the next plan is empty and in sync (exit 0)', () => {
    const after = applyIdeal(desired, [fixture('fresh-m4-24gb')], plan(desired, [fixture('fresh-m4-24gb')], { ...OPTIONS, nodes: ['virtuoso'] }));
    const again = plan(desired, after, { ...OPTIONS, nodes: ['virtuoso'] });
    expect(again.nodes[0]?.status).toBe('in-sync');
    expect(again.nodes[0]?.steps).toEqual([]);
    expect(again.nodes[0]?.differences).toEqual([]);
    expect(planExitCode(again)).toBe(0);
  });
});

describe('statuses that plan nothing on the node', () => {
  it.each([
    ['unreachable-timeout', 'always_on', 'unreachable', /no answer from virtuoso.local:22/],
    ['unreachable-timeout', 'roaming', 'away', /away \(roaming, expected\)/],
    ['unreachable-refused', 'always_on', 'unreachable', /refused \(port 22 closed: Remote Login may be off\)/],
  ] as const)('%s (%s) is %s, never "everything missing"', (name, presence, status, summary) => {
    const d = buildDesired(seedNodes().map((n) => (n.name === 'virtuoso' ? { ...n, presence } : n)));
    const np = planOne(fixture(name), {}, d);
    expect(np.status).toBe(status);
    expect(np.summary).toMatch(summary);
    expect(np.steps).toEqual([]);
    expect(np.differences).toEqual([]);
  });

  it('auth failed: unreachable, with the key instructions only', () => {
    const np = planOne(fixture('auth-failed'));
    expect(np.status).toBe('unreachable');
    expect(kinds(np)).toEqual(['manual/ssh-bootstrap']);
    const text = stepOf(np, 'manual').instructions.join('\n');
    expect(text).toContain('ssh-copy-id -i ~/.ssh/id_ed25519.pub symphony@virtuoso.local');
    expect(text).toContain('fleet plan --node virtuoso');
  });

  it('host key changed: refused, one manual step with both fingerprints and `fleet trust`', () => {
    const np = planOne(fixture('host-key-changed'));
    expect(np.status).toBe('refused');
    expect(kinds(np)).toEqual(['manual/host-key']);
    const text = stepOf(np, 'manual').instructions.join('\n');
    expect(text).toContain('SHA256:oldoldoldoldoldoldoldoldoldoldoldoldoldold');
    expect(text).toContain('SHA256:newnewnewnewnewnewnewnewnewnewnewnewnewnew');
    expect(text).toContain('fleet trust virtuoso');
    expect(text).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(np.summary).toMatch(/nothing is run on it/);
  });

  it('host key unknown: refused, with `fleet trust` and the TOFU setting', () => {
    const np = planOne(fixture('host-key-unknown'));
    expect(np.status).toBe('refused');
    expect(stepOf(np, 'manual').instructions.join('\n')).toMatch(/fleet trust virtuoso[\s\S]*trust_on_first_use/);
  });

  it('hardware differs from the declared one: unknown-hardware, an error (exit 1), manual step only', () => {
    const p = plan(desired, [fixture('wrong-hardware-m2-16gb')], { ...OPTIONS, nodes: ['virtuoso'] });
    const np = p.nodes[0];
    expect(np?.status).toBe('unknown-hardware');
    expect(np?.summary).toContain('RAM 16 GB (declared 24 GB)');
    expect(np?.summary).toContain('chip Apple M2 (declared Apple M4)');
    expect(np && kinds(np)).toEqual(['manual/hardware-mismatch']);
    expect(planExitCode(p)).toBe(1);
  });

  it('an Intel brand string matches the catalog\'s short chip name', () => {
    const np = planOne(fixture('seed-provisioned-maestro'));
    expect(np.status).not.toBe('unknown-hardware');
  });

  it('planned: a manual SSH bootstrap with Remote Login and Bob\'s key', () => {
    const d = buildDesired(seedNodes().map((n) => (n.name === 'virtuoso' ? { ...n, status: 'planned' as const } : n)), {
      ...SETTINGS, ssh: { ...SETTINGS.ssh, public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBOBKEY bob@symphony' },
    });
    const np = planOne(fixture('unreachable-refused'), {}, d);
    expect(np.status).toBe('planned');
    expect(kinds(np)).toEqual(['manual/ssh-bootstrap']);
    const text = stepOf(np, 'manual').instructions.join('\n');
    expect(text).toContain('Remote Login');
    expect(text).toContain("'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBOBKEY bob@symphony' >> ~/.ssh/authorized_keys");
    expect(text).toContain('status: active');
  });

  it('error: reached but the probe failed', () => {
    const o = fixture('unreachable-timeout');
    const np = planOne({ ...o, reach: { status: 'error', message: 'the probe stopped early', attempts: [] } });
    expect(np.status).toBe('error');
    expect(np.steps).toEqual([]);
  });
});

describe('manual steps where root or disk are missing; the rest goes on', () => {
  it('no passwordless sudo: the exact scutil commands, Homebrew by hand, files still written', () => {
    const np = planOne(fixture('fresh-m4-24gb-no-sudo'));
    const hostname = np.steps.find((s) => s.id === 'virtuoso/manual/sudo-password/hostname');
    expect(hostname?.kind).toBe('manual');
    const text = hostname?.kind === 'manual' ? hostname.instructions : [];
    expect(text).toContain('sudo scutil --set ComputerName Virtuoso');
    expect(text).toContain('sudo scutil --set HostName virtuoso');
    expect(text).toContain('sudo scutil --set LocalHostName virtuoso');
    expect(ids(np)).not.toContain('virtuoso/set-hostname');
    expect(ids(np)).toContain('virtuoso/manual/sudo-password/homebrew');
    expect(stepOf(np, 'install-package').after).toEqual(['virtuoso/manual/sudo-password/homebrew']);
    expect(ids(np)).toEqual(expect.arrayContaining(['virtuoso/make-dirs', 'virtuoso/write-file/ollama_env', 'virtuoso/set-crontab']));
  });

  it('a model the disk cannot hold is a manual disk-space step; the smaller ones are pulled', () => {
    const np = planOne(fixture('fresh-m4-24gb-small-disk'));
    expect(np.steps.filter((s): s is StepOf<'pull-model'> => s.kind === 'pull-model').map((s) => s.model)).toEqual(['nomic-embed-text:latest', 'llama3.2:3b']);
    const m = np.steps.find((s) => s.id === 'virtuoso/manual/disk-space');
    expect(m?.kind === 'manual' && m.instructions[0]).toMatch(/llama3\.1:8b \(4\.9 GB\) will not fit/);
  });
});

describe('provisioned like today, one drift at a time', () => {
  const base = provisioned(desired, fixture('fresh-m4-24gb'));
  const drift = (mutate: (o: ObservedNode) => void): NodePlan => {
    const o = structuredClone(base);
    mutate(o);
    return planOne(o);
  };

  it('is in sync as it is', () => {
    const np = planOne(base);
    expect(np.status).toBe('in-sync');
    expect(np.steps).toEqual([]);
  });

  it.each<[string, (o: ObservedNode) => void, string[], string[]]>([
    ['a model deleted', (o) => { o.facts!.ollama.models = o.facts!.ollama.models.filter((m) => m.name !== 'llama3.1:8b'); }, ['virtuoso/pull-model/llama3.1:8b'], ['models.llama3.1:8b']],
    ['OLLAMA_HOST changed in ollama.env', (o) => {
      const content = o.facts!.files.ollama_env!.content!.replace('OLLAMA_HOST=0.0.0.0', 'OLLAMA_HOST=127.0.0.1');
      o.facts!.files.ollama_env = { sha256: sha(content), size: content.length, content };
    }, ['virtuoso/write-file/ollama_env', 'virtuoso/restart-agent'], ['files.ollama_env']],
    ['agent unloaded', (o) => { o.facts!.launchd.ollama = { loaded: false, pid: null, last_exit: null }; }, ['virtuoso/load-agent', 'virtuoso/register'], ['launchd.com.symphony.ollama']],
    ['crontab line removed', (o) => { o.facts!.crontab.lines = ['MAILTO=""']; }, ['virtuoso/set-crontab'], ['crontab.heartbeat']],
    ['crontab line duplicated', (o) => { o.facts!.crontab.lines.push(HEARTBEAT_CRON_LINE); }, ['virtuoso/set-crontab'], ['crontab.heartbeat']],
    ['hostname changed', (o) => { o.facts!.hostnames.host_name = 'Virtuosos-Mac-mini'; }, ['virtuoso/set-hostname'], ['hostnames.host_name']],
    ['brew services runs a second Ollama', (o) => { o.facts!.brew.services = { ollama: 'started' }; }, ['virtuoso/stop-brew-service/ollama', 'virtuoso/restart-agent'], ['brew.services.ollama']],
    ['agent crashed', (o) => { o.facts!.launchd.ollama = { loaded: true, pid: null, last_exit: 1, running: false }; o.facts!.ollama.local = { up: false }; }, ['virtuoso/restart-agent'], ['launchd.com.symphony.ollama.pid']],
    ['HARPA instructions deleted', (o) => { o.facts!.files.harpa_instructions = null; }, ['virtuoso/write-file/harpa_instructions', 'virtuoso/manual/harpa-setup'], ['files.harpa_instructions']],
    ['docker uninstalled by hand', (o) => { delete o.facts!.brew.casks.docker; }, ['virtuoso/install-package/cask/docker'], ['brew.casks.docker']],
    ['a log directory removed', (o) => { o.facts!.dirs = { ...o.facts!.dirs, '~/.symphony/logs': false }; }, ['virtuoso/make-dirs'], ['dirs.~/.symphony/logs']],
    ['the IP changed (DHCP)', (o) => { o.facts!.ip = '192.168.1.77'; }, ['virtuoso/write-file/self_registration', 'virtuoso/register'], ['files.self_registration']],
  ])('%s', (_name, mutate, expectedIds, fields) => {
    const np = drift(mutate);
    expect(np.status).toBe('drifted');
    expect(ids(np)).toEqual(expectedIds);
    expect(np.differences.map((d) => d.field)).toEqual(fields);
  });

  it('the OLLAMA_HOST drift says which line differs', () => {
    const np = drift((o) => {
      const content = o.facts!.files.ollama_env!.content!.replace('OLLAMA_HOST=0.0.0.0', 'OLLAMA_HOST=127.0.0.1');
      o.facts!.files.ollama_env = { sha256: sha(content), size: content.length, content };
    });
    expect(stepOf(np, 'write-file').why).toBe('~/.ollama/ollama.env differs, line 1: "OLLAMA_HOST=127.0.0.1" (want "OLLAMA_HOST=0.0.0.0")');
  });

  it('a desired env change rewrites env and plist and reloads the agent (no separate restart)', () => {
    const d = buildDesired(seedNodes(), { ...SETTINGS, ollama: { ...SETTINGS.ollama, env: { ...SETTINGS.ollama.env, OLLAMA_KEEP_ALIVE: '1h' } } });
    const np = planOne(base, {}, d);
    expect(ids(np)).toEqual(['virtuoso/write-file/ollama_env', 'virtuoso/write-file/launchd_plist', 'virtuoso/load-agent']);
    expect(stepOf(np, 'load-agent').reload).toBe(true);
  });

  it('an extra model is a note without prune, a remove-model step with it', () => {
    const o = structuredClone(base);
    o.facts!.ollama.models.push({ name: 'phi3:mini', digest: 'a'.repeat(64), size: 2_176_178_913 });
    const kept = planOne(o);
    expect(kept.status).toBe('in-sync');
    expect(kept.notes).toEqual(['extra model phi3:mini (2.2 GB) kept (prune is off)']);
    const pruned = planOne(o, { prune: true });
    expect(ids(pruned)).toEqual(['virtuoso/remove-model/phi3:mini']);
    expect(stepOf(pruned, 'remove-model').bytes).toBe(2_176_178_913);
  });

  it('a pinned digest that differs is pulled again', () => {
    const pinned = 'b'.repeat(64);
    const d = { ...buildDesired(), models: { ...buildDesired().models, 'llama3.1:8b': { ...buildDesired().models['llama3.1:8b']!, digest: pinned } } };
    const np = planOne(base, {}, d);
    expect(ids(np)).toEqual(['virtuoso/pull-model/llama3.1:8b']);
    expect(np.differences[0]?.field).toBe('models.llama3.1:8b.digest');
  });

  it('models unknown (no Ollama answered, no manifests): no model steps, a note', () => {
    const np = drift((o) => { o.facts!.ollama.models = []; o.facts!.ollama.models_source = 'none'; });
    expect(np.steps).toEqual([]);
    expect(np.notes?.[0]).toMatch(/models on the node are unknown/);
  });

  it('Ollama up on the node but not from Bob: a difference and a note, no blind restart', () => {
    const np = drift((o) => { o.facts!.ollama.external = { up: false, error: 'connect ECONNREFUSED' }; });
    expect(np.status).toBe('drifted');
    expect(np.steps).toEqual([]);
    expect(np.differences).toEqual([{ field: 'ollama.external', desired: 'up', observed: 'connect ECONNREFUSED' }]);
  });

  it('trusted on first use: a manual step to pin the key', () => {
    const o = structuredClone(base);
    o.reach.host_key = { fingerprint: 'SHA256:abc', line: 'virtuoso.local ssh-ed25519 AAAAKEY', trusted_on_first_use: true };
    const np = planOne(o);
    expect(ids(np)).toEqual(['virtuoso/manual/host-key/pin']);
    expect(stepOf(np, 'manual').instructions.join('\n')).toContain('virtuoso.local ssh-ed25519 AAAAKEY');
  });
});

describe('the seed-provisioned Maestro', () => {
  const np = planOne(fixture('seed-provisioned-maestro'));

  it('keeps its Homebrew (Intel prefix) and models, rewrites the seed files and fixes the crontab form', () => {
    expect(np.status).toBe('drifted');
    expect(ids(np)).toEqual([
      'maestro/write-file/ollama_env', 'maestro/write-file/launchd_plist', 'maestro/write-file/heartbeat_script',
      'maestro/write-file/harpa_instructions', 'maestro/write-file/self_registration',
      'maestro/load-agent', 'maestro/set-crontab', 'maestro/register',
    ]);
    expect(stepOf(np, 'load-agent').reload).toBe(true);
    expect(stepOf(np, 'set-crontab').why).toBe('the heartbeat line is "* * * * * bash /Users/symphony/.symphony/heartbeat.sh"');
    expect(np.notes).toContain('extra model phi3:mini (2.2 GB) kept (prune is off)');
  });

  it('the crontab edit keeps other lines and leaves one heartbeat line', () => {
    const lines = renderCrontab(['MAILTO=""', '* * * * * bash /Users/symphony/.symphony/heartbeat.sh'], HEARTBEAT_CRON_LINE);
    expect(lines.filter((l) => l.includes('heartbeat.sh') && !l.startsWith('#'))).toEqual([HEARTBEAT_CRON_LINE]);
    expect(lines[0]).toBe('MAILTO=""');
    expect(renderCrontab(lines, HEARTBEAT_CRON_LINE)).toEqual(lines);
  });
});

describe('retired nodes', () => {
  const d = buildDesired(seedNodes().map((n) => (n.name === 'virtuoso' ? { ...n, status: 'retired' as const, retired: '2026-11-01' } : n)));
  const live = provisioned(desired, fixture('fresh-m4-24gb'));

  it('lose their models (without --prune), agent and heartbeat', () => {
    const np = planOne(live, { prune: false }, d);
    expect(np.status).toBe('retired');
    expect(kinds(np)).toEqual(['remove-model', 'remove-model', 'remove-model', 'unload-agent', 'set-crontab']);
    expect(stepOf(np, 'set-crontab').line).toBeNull();
    expect(stepOf(np, 'unload-agent').after).toHaveLength(3);
    expect(np.summary).toBe('retired: removing 3 models, the Ollama agent, the heartbeat');
  });

  it('have nothing left to remove after that', () => {
    const p = plan(d, [live], { ...OPTIONS, nodes: ['virtuoso'] });
    const after = applyIdeal(d, [live], p);
    const np = planOne(after[0]!, {}, d);
    expect(np.status).toBe('retired');
    expect(np.steps).toEqual([]);
    expect(np.summary).toBe('retired on 2026-11-01: nothing left to remove');
  });

  it('unreachable is fine: nothing to remove now', () => {
    const np = planOne(fixture('unreachable-timeout'), {}, d);
    expect(np.status).toBe('retired');
    expect(np.steps).toEqual([]);
  });
});

describe('fleet steps, filters, exit codes, dates', () => {
  it('write-generated then reload-openclaw when the workers file changes', () => {
    const p = plan(desired, [], { ...OPTIONS, nodes: [], generated: { changed: ['openclaw_workers.json', 'nodes_registry.json'] } });
    expect(p.fleet.map((s) => s.id)).toEqual(['fleet/write-generated', 'fleet/reload-openclaw']);
    expect(p.fleet[0]?.kind === 'write-generated' && p.fleet[0].files).toEqual(['nodes_registry.json', 'openclaw_workers.json']);
    expect(p.fleet[1]?.after).toEqual(['fleet/write-generated']);
    expect(planExitCode(p)).toBe(2);
    const registryOnly = plan(desired, [], { ...OPTIONS, nodes: [], generated: { changed: ['nodes_registry.json'] } });
    expect(registryOnly.fleet.map((s) => s.kind)).toEqual(['write-generated']);
  });

  it('an unknown --node is an error naming the known ones', () => {
    expect(() => plan(desired, [], { ...OPTIONS, nodes: ['virtuosso'] })).toThrow(FleetError);
    expect(() => plan(desired, [], { ...OPTIONS, nodes: ['virtuosso'] })).toThrow(/unknown node virtuosso: fleet\/nodes\/ has bob, maestro, stagehand, virtuoso/);
  });

  it('a node missing from the observations is planned as if fresh, nodes sorted', () => {
    const p = plan(desired, [], OPTIONS);
    expect(p.nodes.map((n) => n.node)).toEqual(['bob', 'maestro', 'stagehand', 'virtuoso']);
    for (const n of p.nodes) {
      expect(n.summary).toMatch(/^not observed yet: planned as if fresh/);
      expect(n.notes?.[0]).toMatch(/planned as if it were a factory-fresh Mac/);
    }
    // Intel nodes get the Intel prefix; a browser node gets no Ollama.
    const maestro = p.nodes.find((n) => n.node === 'maestro')!;
    expect(stepOf(maestro, 'install-homebrew').prefix).toBe('/usr/local');
    const stagehand = p.nodes.find((n) => n.node === 'stagehand')!;
    expect(kinds(stagehand)).not.toContain('load-agent');
    expect(kinds(stagehand)).not.toContain('pull-model');
    expect(stagehand.steps.filter((s): s is StepOf<'write-file'> => s.kind === 'write-file').map((s) => s.file)).toEqual(['heartbeat_script', 'harpa_instructions', 'self_registration']);
  });

  it('registered_at: the added date, else what the node has, else today', () => {
    const noAdded = buildDesired(seedNodes().map((n) => {
      if (n.name !== 'virtuoso') return n;
      const { added: _added, ...rest } = n;
      return rest;
    }));
    expect(stepOf(planOne(fixture('fresh-m4-24gb'), {}, noAdded), 'register').payload.registered_at).toBe(`${TODAY}T00:00:00Z`);
    const o = fixture('fresh-m4-24gb');
    const content = '{"registered_at": "2025-05-05T12:00:00Z"}';
    o.facts!.files.self_registration = { sha256: sha(content), size: content.length, content };
    expect(stepOf(planOne(o, {}, noAdded), 'register').payload.registered_at).toBe('2025-05-05T12:00:00Z');
  });

  it('a node without an `added` date and no tool other than today still gives a stable plan on a later day', () => {
    const later = provisioned(desired, fixture('fresh-m4-24gb'));
    expect(planOne(later, { today: '2027-01-01' }).steps).toEqual([]);
  });

  it('hardware id unknown to the catalog: error', () => {
    const d = buildDesired([node('virtuoso', 'full_worker', 'mac-mini-m9')]);
    expect(planOne(fixture('fresh-m4-24gb'), {}, d).status).toBe('error');
  });
});
