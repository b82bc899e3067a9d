// validateFleet on plain data (no files): one rule at a time, then the
// guarantees every rule shares (all problems reported, input untouched).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Desired } from '../../reconciler/src/load/desired.ts';
import { loadFleet } from '../../reconciler/src/load/load-fleet.ts';
import type { NodeDoc } from '../../reconciler/src/schema/fleet.ts';
import type { FleetModel } from '../../reconciler/src/validate/context.ts';
import type { Problem } from '../../reconciler/src/validate/problem.ts';
import { validateFleet } from '../../reconciler/src/validate/validate-fleet.ts';
import { declaredWorkers } from '../../reconciler/src/validate/worker-ids.ts';

const repo = `${import.meta.dirname}/../..`;
const TODAY = '2026-11-24';
let base: Desired;

beforeAll(async () => {
  const loaded = await loadFleet('fleet', { cwd: repo, today: TODAY });
  if (!loaded.desired) throw new Error('fleet/ must be valid');
  base = loaded.desired;
});

function node(name: string, extra: Partial<NodeDoc> = {}): NodeDoc {
  return { name, role: 'full_worker', hardware: 'mac-mini-m4-24gb', addresses: [`${name}.local`], presence: 'always_on', status: 'active', ...extra };
}

function fleetWith(change: (f: FleetModel & { nodes: NodeDoc[] }) => void): FleetModel {
  const f = structuredClone({ ...base, nodes: [...base.nodes] }) as FleetModel & { nodes: NodeDoc[] };
  change(f);
  return f;
}

function rulesOf(problems: Problem[], severity?: 'error' | 'warning'): string[] {
  return problems.filter((p) => severity === undefined || p.severity === severity).map((p) => p.rule).sort();
}

describe('the fleets in the repository', () => {
  it('fleet/ has no errors; its one warning is Maestro on Intel', () => {
    const problems = validateFleet(base, { today: TODAY });
    expect(rulesOf(problems)).toEqual(['intel-llm']);
  });

  it('the grown fleet (roaming MacBook with Tailscale, retired iMac) validates clean', async () => {
    const loaded = await loadFleet('test/fixtures/fleets/grown', { cwd: repo, today: TODAY });
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(loaded.desired?.nodes.find((n) => n.name === 'cadence')?.presence).toBe('roaming');
    expect(loaded.desired?.nodes.find((n) => n.name === 'stagehand')?.status).toBe('retired');
  });
});

describe('name reuse (6 months after retirement)', () => {
  const retiredOn = (date: string): FleetModel => fleetWith((f) => {
    f.retired = [{ name: 'virtuoso', retired: date }];
    f.nodes.push(node('virtuoso'));
  });
  it('refuses the name the day before six months have passed', () => {
    expect(rulesOf(validateFleet(retiredOn('2026-05-25'), { today: TODAY }), 'error')).toEqual(['name-reuse']);
  });
  it('allows it from the day six months have passed', () => {
    expect(rulesOf(validateFleet(retiredOn('2026-05-24'), { today: TODAY }), 'error')).toEqual([]);
  });
  it('counts from the latest retirement of the name and clamps month ends', () => {
    const f = fleetWith((x) => {
      x.retired = [{ name: 'virtuoso', retired: '2025-01-01' }, { name: 'virtuoso', retired: '2026-08-31' }];
      x.nodes.push(node('virtuoso'));
    });
    const [p] = validateFleet(f, { today: '2027-02-27' }).filter((x) => x.rule === 'name-reuse');
    expect(p?.message).toContain('from 2027-02-28');
    expect(validateFleet(f, { today: '2027-02-28' }).filter((x) => x.rule === 'name-reuse')).toEqual([]);
  });
  it('does not apply to the retired node itself', () => {
    const f = fleetWith((x) => {
      x.retired = [{ name: 'tempo', retired: '2026-11-01' }];
      x.nodes.push(node('tempo', { status: 'retired', retired: '2026-11-01' }));
    });
    expect(rulesOf(validateFleet(f, { today: TODAY }), 'error')).toEqual([]);
  });
});

describe('naming warnings', () => {
  it('warns when a name is not orchestral and suggests a free one from the seed list', () => {
    const problems = validateFleet(fleetWith((f) => f.nodes.push(node('node-7'))), { today: TODAY });
    const warn = problems.find((p) => p.rule === 'orchestral-name');
    expect(warn?.severity).toBe('warning');
    expect(warn?.message).toContain('virtuoso');
    expect(validateFleet(fleetWith((f) => f.nodes.push(node('cello'))), { today: TODAY }).some((p) => p.rule === 'orchestral-name')).toBe(false);
  });
  it('warns when the display name is not the hostname', () => {
    const problems = validateFleet(fleetWith((f) => f.nodes.push(node('tempo', { display_name: 'Speedy' }))), { today: TODAY });
    expect(rulesOf(problems, 'warning')).toContain('display-name');
    const ok = validateFleet(fleetWith((f) => f.nodes.push(node('tempo', { display_name: 'TEMPO' }))), { today: TODAY });
    expect(rulesOf(ok, 'warning')).not.toContain('display-name');
  });
  it('warns when a .local address is another name', () => {
    const problems = validateFleet(fleetWith((f) => f.nodes.push(node('tempo', { addresses: ['cadence.local'] }))), { today: TODAY });
    expect(rulesOf(problems, 'warning')).toContain('local-address');
  });
});

describe('OpenClaw', () => {
  it('derives worker ids per role: Bob local, others ollama, HARPA where the role routes browser work', () => {
    const ids = (name: string, role: string): string[] => declaredWorkers({ name }, base.roles[role] as Desired['roles'][string]).map((w) => w.worker_id);
    expect(ids('bob', 'hq')).toEqual(['bob_local']);
    expect(ids('maestro', 'llm_worker')).toEqual(['maestro_ollama']);
    expect(ids('grand-piano', 'full_worker')).toEqual(['grand_piano_ollama', 'grand_piano_harpa']);
    expect(ids('stagehand', 'browser_node')).toEqual(['stagehand_harpa']);
  });
  it('warns when the cloud worker is not the last fallback', () => {
    const f = fleetWith((x) => {
      const settings = x.settings;
      if (!settings) return;
      const rule = settings.openclaw.routing_rules[0];
      if (rule) rule.fallback = ['openai_fallback', 'maestro_ollama'];
    });
    expect(rulesOf(validateFleet(f, { today: TODAY }), 'warning')).toContain('cloud-fallback-last');
  });
  it('refuses a second conductor and a Bob that is not hq', () => {
    const f = fleetWith((x) => {
      x.nodes.push(node('harmony', { role: 'hq' }));
      x.nodes[0] = { ...(x.nodes[0] as NodeDoc), role: 'full_worker' };
    });
    expect(rulesOf(validateFleet(f, { today: TODAY }), 'error')).toEqual(expect.arrayContaining(['bob-node']));
  });
});

describe('Ollama settings', () => {
  it('warns about a quantized KV cache without flash attention and an Ollama Bob cannot reach', () => {
    const f = fleetWith((x) => x.nodes.push(node('tempo', { ollama_env: { OLLAMA_KV_CACHE_TYPE: 'q8_0', OLLAMA_HOST: '127.0.0.1' } })));
    expect(rulesOf(validateFleet(f, { today: TODAY }), 'warning')).toEqual(expect.arrayContaining(['kv-cache-type', 'ollama-host']));
  });
  it('uses a node\'s own context for the fit: a 128k context does not fit 24 GB', () => {
    const f = fleetWith((x) => x.nodes.push(node('tempo', { ollama_env: { OLLAMA_CONTEXT_LENGTH: 131072 } })));
    const fit = validateFleet(f, { today: TODAY }).find((p) => p.rule === 'model-fit');
    expect(fit?.message).toMatch(/need ~\d+\.\d GB/);
  });
});

describe('every rule', () => {
  it('reports all problems at once, each with a location and a sentence', () => {
    const f = fleetWith((x) => {
      x.nodes.push(node('tempo', { role: 'gpu_worker' }));
      x.nodes.push(node('cadence', { hardware: 'mac-mini-m9' }));
      x.nodes.push(node('soloist', { models: ['llama9:1t'], addresses: ['192.168.1.20'] }));
    });
    const problems = validateFleet(f, { today: TODAY });
    expect(rulesOf(problems, 'error')).toEqual(['duplicate-address', 'unknown-hardware', 'unknown-model', 'unknown-role']);
    for (const p of problems) {
      expect(p.file).toMatch(/^fleet\//);
      expect(p.message).toMatch(/\.$|\)$/);
    }
  });
  it('does not change its input', () => {
    const f = fleetWith((x) => x.nodes.push(node('tempo', { models: ['llama3.1:70b'] })));
    const before = structuredClone(f);
    validateFleet(f, { today: TODAY });
    expect(f).toEqual(before);
  });
  it('skips what depends on files that did not load instead of reporting noise', () => {
    const f: FleetModel = { ...base, settings: null, hardware: null, models: null, roles: {} };
    const problems = validateFleet(f, { today: TODAY, brokenRoles: new Set(['hq', 'llm_worker', 'browser_node']) });
    expect(rulesOf(problems, 'error')).toEqual([]);
  });
});
