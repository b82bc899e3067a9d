// fast-check arbitraries: any state a node might be found in (partly
// provisioned, hand-edited, hostile names and model tags), and fleets of them.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { resolveNode, type Desired } from '../../reconciler/src/model/desired.ts';
import type { NodeDoc } from '../../reconciler/src/schema/fleet.ts';
import { MANAGED_FILES, type ObservedFacts, type ObservedNode, type ReachStatus } from '../../reconciler/src/schema/observed.ts';
import { HARDWARE, ROLES, buildDesired } from './build-desired.ts';
import { HEARTBEAT_CRON_LINE } from '../../reconciler/src/model/mac-layout.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Strings that would do harm if they ever reached a shell unquoted. */
export const hostileString = fc.oneof(
  fc.constantFrom("x'; touch /tmp/pwned; echo '", '$(touch /tmp/pwned)', '`touch /tmp/pwned`', 'a\nb', 'Bob\'s "Mac"', '--help', '-rf /', '*', '~root', '| rm -rf ~', '</details><script>x</script>', '\u001b[31mred'),
  fc.string({ maxLength: 20 }),
);

const fileArb = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 40 }).map((content) => ({ sha256: sha(content), size: content.length, content })),
);

/** Any observed state of a node that logged in fine. */
export function factsArb(desired: Desired, doc: NodeDoc): fc.Arbitrary<ObservedFacts> {
  const node = resolveNode(desired, doc);
  const hw = HARDWARE[doc.hardware];
  const modelNames = [...Object.keys(desired.models), 'phi3:mini', 'llama3.1:8b-instruct-q8_0'];
  const prefix = hw?.architecture === 'x86_64' ? '/usr/local' : '/opt/homebrew';
  const known = [...new Set(Object.values(ROLES).flatMap((r) => [...r.software.formulae, ...r.software.casks]))];
  return fc.record({
    names: fc.record({
      computer_name: fc.oneof(fc.constant(null), fc.constant(node.display_name), hostileString),
      host_name: fc.oneof(fc.constant(null), fc.constant(node.name), hostileString),
      local_host_name: fc.oneof(fc.constant(null), fc.constant(node.name), hostileString),
    }),
    brewPrefix: fc.constantFrom(null, prefix, prefix === '/usr/local' ? '/opt/homebrew' : '/usr/local'),
    formulae: fc.subarray(known),
    casks: fc.subarray(known),
    service: fc.constantFrom(undefined, 'started', 'stopped', 'none', 'error'),
    files: fc.record(Object.fromEntries(MANAGED_FILES.map((f) => [f, fileArb])) as Record<(typeof MANAGED_FILES)[number], typeof fileArb>),
    loaded: fc.boolean(),
    running: fc.boolean(),
    models: fc.uniqueArray(fc.oneof(fc.constantFrom(...modelNames), hostileString.map((s) => `evil${s}`)), { maxLength: 6 }),
    modelsSource: fc.constantFrom('local-api', 'local-api', 'external-api', 'disk', 'none'),
    cron: fc.array(fc.oneof(fc.constant(HEARTBEAT_CRON_LINE), fc.constant('* * * * * bash /Users/symphony/.symphony/heartbeat.sh'), fc.constant('MAILTO=""'), hostileString), { maxLength: 4 }),
    sudo: fc.boolean(),
    ip: fc.constantFrom(null, '192.168.1.50', '10.0.0.7'),
    home: fc.constantFrom(null, '/Users/symphony', "/Users/o'brien $(x)"),
    disk: fc.constantFrom(null, 1e12, 50e9, 10e9),
    dirs: fc.dictionary(fc.constantFrom('~/.ollama', '~/.symphony', '~/.symphony/logs', '~/.symphony/registry', '~/Library/LaunchAgents'), fc.boolean()),
  }).map((r): ObservedFacts => {
    const up = r.loaded && r.running;
    return {
      hostnames: r.names,
      os: { product_version: '15.1', build_version: '24B83' },
      hardware: { architecture: hw?.architecture ?? 'arm64', chip: hw?.chip ?? 'Apple M4', ram_bytes: (hw?.ram_gb ?? 16) * 2 ** 30, ncpu: 8, arm64_capable: hw?.architecture !== 'x86_64' },
      disk: { total_bytes: 2e12, available_bytes: r.disk },
      brew: {
        prefix: r.brewPrefix,
        formulae: Object.fromEntries(r.formulae.map((n) => [n, '1.0'])),
        casks: Object.fromEntries(r.casks.map((n) => [n, '1.0'])),
        services: r.service === undefined ? {} : { ollama: r.service },
      },
      ollama: {
        cli_version: r.formulae.includes('ollama') ? '0.12.6' : null,
        local: { up },
        external: { up: up && !node.ollama_env.OLLAMA_HOST.startsWith('127.') },
        models: r.modelsSource === 'none' ? [] : r.models.map((name) => ({ name, digest: sha(name), size: desired.models[name]?.size_bytes ?? 1_000_000 })),
        loaded: [],
        models_source: r.modelsSource,
      },
      files: r.files,
      launchd: { ollama: { loaded: r.loaded, pid: up ? 100 : null, last_exit: up ? null : 1, running: up } },
      crontab: { lines: r.cron },
      sudo: r.sudo,
      ip: r.ip,
      home: r.home,
      dirs: r.dirs,
    };
  });
}

const reachArb: fc.Arbitrary<ReachStatus> = fc.constantFrom('ok', 'ok', 'ok', 'ok', 'unreachable', 'timeout', 'auth-failed', 'host-key-changed', 'host-key-unknown', 'error');

export function observedArb(desired: Desired, doc: NodeDoc, reach: fc.Arbitrary<ReachStatus> = reachArb): fc.Arbitrary<ObservedNode> {
  return fc.tuple(reach, factsArb(desired, doc)).map(([status, facts]): ObservedNode => (status === 'ok'
    ? { node: doc.name, observed_at: '2026-11-24T10:00:00Z', reach: { status, address: doc.addresses[0] ?? doc.name, attempts: [] }, facts }
    : { node: doc.name, observed_at: '2026-11-24T10:00:00Z', reach: { status, attempts: [], host_key: { fingerprint: 'SHA256:new', expected: 'SHA256:old', line: 'x ssh-ed25519 AAAA' } } }));
}

/** A fleet: the seed nodes with random status, presence and extra models, plus an observation of each (or none). */
export const fleetArb = fc.record({
  statuses: fc.array(fc.constantFrom<'active' | 'planned' | 'retired'>('active', 'active', 'active', 'planned', 'retired'), { minLength: 4, maxLength: 4 }),
  presence: fc.array(fc.constantFrom<'always_on' | 'roaming'>('always_on', 'roaming'), { minLength: 4, maxLength: 4 }),
  extraModels: fc.subarray(['codestral:22b', 'mistral:7b']),
}).chain(({ statuses, presence, extraModels }) => {
  const base = buildDesired();
  const nodes = base.nodes.map((n, i) => ({
    ...n,
    status: statuses[i] ?? 'active',
    presence: presence[i] ?? 'always_on',
    ...(n.role === 'full_worker' ? { models: extraModels } : {}),
    ...(statuses[i] === 'retired' ? { retired: '2026-11-01' } : {}),
  }));
  const desired = buildDesired(nodes);
  return fc.tuple(fc.constant(desired), fc.tuple(...nodes.map((n) => fc.option(observedArb(desired, n), { nil: undefined }))))
    .map(([d, obs]) => ({ desired: d, observed: obs.filter((o): o is ObservedNode => o !== undefined) }));
});
