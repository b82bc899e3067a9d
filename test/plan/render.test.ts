// The three formats and the drift summary: what people and scripts read.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { describeStep, effectOf } from '../../reconciler/src/plan/describe-step.ts';
import { plan } from '../../reconciler/src/plan/plan.ts';
import { renderJson, toPlanJson } from '../../reconciler/src/plan/render-json.ts';
import { codeSpan, escapeMarkdown, renderMarkdown } from '../../reconciler/src/plan/render-markdown.ts';
import { renderDriftLines, renderText } from '../../reconciler/src/plan/render-text.ts';
import { STEP_KINDS, type Plan, type StepKind, type StepOf } from '../../reconciler/src/model/steps.ts';
import { planSchema } from '../../reconciler/src/schema/plan.ts';
import { buildDesired } from './build-desired.ts';
import { OPTIONS, fixture, provisioned } from './build-observed.ts';

const desired = buildDesired();
const base = { node: 'virtuoso', why: 'because', after: [] as string[] };

/** One step of every kind: a new kind is a compile error here until it has a sample. */
const SAMPLES: { [K in StepKind]: StepOf<K> } = {
  'set-hostname': { ...base, kind: 'set-hostname', id: 'v/1', computer_name: 'Virtuoso', host_name: 'virtuoso', local_host_name: 'virtuoso' },
  'install-homebrew': { ...base, kind: 'install-homebrew', id: 'v/2', prefix: '/opt/homebrew' },
  'install-package': { ...base, kind: 'install-package', id: 'v/3', package: 'cask', name: 'docker' },
  'uninstall-package': { ...base, kind: 'uninstall-package', id: 'v/4', package: 'formula', name: 'ollama' },
  'make-dirs': { ...base, kind: 'make-dirs', id: 'v/5', paths: ['/Users/s/.symphony'] },
  'write-file': { ...base, kind: 'write-file', id: 'v/6', file: 'ollama_env', path: '/Users/s/.ollama/ollama.env', content: 'A=1\n', mode: 0o644 },
  'install-secret': { ...base, kind: 'install-secret', id: 'v/6s', path: '/Users/s/.symphony/heartbeat.key', key_id: 'a'.repeat(64) },
  'stop-brew-service': { ...base, kind: 'stop-brew-service', id: 'v/7', name: 'ollama' },
  'load-agent': { ...base, kind: 'load-agent', id: 'v/8', label: 'com.symphony.ollama', plist_path: '/p', reload: true },
  'restart-agent': { ...base, kind: 'restart-agent', id: 'v/9', label: 'com.symphony.ollama' },
  'unload-agent': { ...base, kind: 'unload-agent', id: 'v/10', label: 'com.symphony.ollama', plist_path: '/p' },
  'pull-model': { ...base, kind: 'pull-model', id: 'v/11', model: 'llama3.1:8b', bytes: 4920753328, lan_targets: ['tempo'] },
  'copy-model': { ...base, kind: 'copy-model', id: 'v/11c', model: 'mistral:7b', bytes: 4113301824, source: 'maestro', peers: ['bob'], fallback: 'internet' },
  'remove-model': { ...base, kind: 'remove-model', id: 'v/12', model: 'phi3:mini', bytes: 2176178913 },
  'set-crontab': { ...base, kind: 'set-crontab', id: 'v/13', line: null, marker: '# m' },
  'register': { ...base, kind: 'register', id: 'v/14', url: 'http://b:8765/api/nodes/register', payload: { node_id: 'virtuoso' } },
  'write-generated': { ...base, node: null, kind: 'write-generated', id: 'fleet/write-generated', files: ['nodes_registry.json'] },
  'reload-openclaw': { ...base, node: null, kind: 'reload-openclaw', id: 'fleet/reload-openclaw' },
  'manual': { ...base, kind: 'manual', id: 'v/manual/harpa-setup', reason: 'harpa-setup', instructions: ['Open Chrome.'] },
};

/** A plan with every status in it. */
function mixedPlan(): Plan {
  const p = plan(desired, [
    fixture('fresh-m4-24gb'),
    fixture('host-key-changed', 'maestro'),
    fixture('unreachable-timeout', 'stagehand'),
    provisioned(desired, { ...fixture('fresh-m4-24gb', 'bob'), facts: { ...fixture('fresh-m4-24gb').facts!, hardware: { architecture: 'arm64', chip: 'Apple M4', ram_bytes: 16 * 2 ** 30, ncpu: 10, arm64_capable: true } } }),
  ], { ...OPTIONS, generated: { changed: ['openclaw_workers.json'] } });
  return p;
}

describe('describeStep', () => {
  it.each(STEP_KINDS)('%s: one sentence, and an effect', (kind) => {
    const step = SAMPLES[kind];
    expect(describeStep(step)).toMatch(/^[A-Z].*[.:] ?.*$/);
    expect(['add', 'change', 'remove', 'manual']).toContain(effectOf(step));
  });
});

describe('text', () => {
  const p = mixedPlan();

  it('has no escape codes unless colours are asked for', () => {
    const plain = renderText(p, { color: false });
    // eslint-disable-next-line no-control-regex
    expect(plain).not.toMatch(/\u001b/);
    expect(renderText(p, { color: true })).toContain('\u001b[33mdrifted\u001b[0m');
  });

  it('shows each node with its status, differences, numbered steps with why, and manual instructions', () => {
    const text = renderText(p, { color: false });
    expect(text.split('\n')[0]).toBe('fleet plan: 4 nodes: 1 refused, 1 drifted, 1 unreachable, 1 in-sync; 21 steps (2 manual)');
    expect(text).toContain('virtuoso  drifted  not provisioned yet: full provisioning');
    expect(text).toContain('    ~ hostnames.host_name: absent -> virtuoso');
    expect(text).toContain('    +  2. install-homebrew  Install Homebrew at /opt/homebrew.\n            why: Homebrew is not installed (no /opt/homebrew/bin/brew)\n');
    expect(text).toContain('!  1. manual (host-key)');
    expect(text).toContain('        - On Bob: fleet trust maestro');
    expect(text).toContain('fleet (Bob)');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Changes pending: run fleet apply to converge.');
  });

  it('never prints control characters from observed text', () => {
    const o = fixture('fresh-m4-24gb');
    o.facts!.hostnames.computer_name = 'evil\u001b[2J\u0007name';
    const text = renderText(plan(desired, [o], { ...OPTIONS, nodes: ['virtuoso'] }), { color: false });
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(text).toContain('evil\\u001b[2J\\u0007name');
  });

  it('drift: one line per node, worst first', () => {
    const lines = renderDriftLines(p, { color: false }).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^maestro\s+refused\s+refused: host key changed/);
    expect(lines[1]).toMatch(/^virtuoso\s+drifted\s+\d+ differences: hostnames\.computer_name, hostnames\.host_name/);
    expect(lines[3]).toMatch(/^bob\s+in-sync\s+in sync$/);
  });
});

describe('markdown', () => {
  const md = renderMarkdown(mixedPlan(), { header: '<!-- fleet-plan -->', source: 'offline' });

  it('has the marker, a summary table and a collapsible section per node', () => {
    expect(md.startsWith('<!-- fleet-plan -->\n### Fleet plan\n')).toBe(true);
    expect(md).toContain('| node | status | steps | manual | summary |');
    expect(md).toMatch(/\| virtuoso \| 🔧 drifted \| 18 \| 1 \|/);
    expect(md.match(/<details/g)).toHaveLength(4);
    expect(md.match(/<\/details>/g)).toHaveLength(4);
    expect(md).toContain('<details><summary><b>bob</b>: ✅ in-sync, 0 steps</summary>');
    expect(md).toContain('#### Fleet (Bob)');
  });

  it('escapes hostile text: it cannot close a section or add HTML', () => {
    const o = fixture('fresh-m4-24gb');
    o.facts!.hostnames.computer_name = '</details><script>alert(1)</script> | `x`';
    o.facts!.files.ollama_env = { sha256: 'a'.repeat(64), size: 10, content: '</summary>| ``' };
    const text = renderMarkdown(plan(desired, [o], { ...OPTIONS, nodes: ['virtuoso'] }));
    expect(text.match(/<\/details>/g)).toHaveLength(1);
    expect(text).not.toContain('<script>');
    expect(text).not.toContain('</summary>|');
    expect(escapeMarkdown('a|b<c>')).toBe('a\\|b&lt;c&gt;');
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('x|y')).toBe('`x\\|y`');
    expect(codeSpan('<b>')).toBe('&lt;b&gt;');
  });
});

describe('json', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  const validate = ajv.compile(planSchema);

  it('validates against schemas/plan (every step kind, every status)', () => {
    const doc = JSON.parse(renderJson(mixedPlan())) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const all: Plan = { nodes: [{ node: 'virtuoso', status: 'drifted', summary: 's', differences: [], steps: STEP_KINDS.filter((k) => SAMPLES[k].node !== null).map((k) => SAMPLES[k]) }], fleet: [SAMPLES['write-generated'], SAMPLES['reload-openclaw']] };
    expect(validate(toPlanJson(all)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects a step kind it does not know (the schema is not a blank cheque)', () => {
    const doc = toPlanJson(mixedPlan());
    const bad = { ...doc, fleet: [{ ...doc.fleet[0], kind: 'format-disk' }] };
    expect(validate(bad)).toBe(false);
  });

  it('lists exactly the step kinds of the Step union', () => {
    const kinds = planSchema.properties.fleet.items.oneOf.map((s) => s.properties.kind.const);
    expect([...kinds].sort()).toEqual([...STEP_KINDS].sort());
  });

  it('carries the exit code and a sentence per step', () => {
    const doc = toPlanJson(mixedPlan());
    expect(doc.summary.exit_code).toBe(2);
    expect(doc.nodes.find((n) => n.node === 'virtuoso')?.steps[0]?.description).toBe('Set ComputerName to Virtuoso, HostName to virtuoso and LocalHostName to virtuoso.');
  });
});
