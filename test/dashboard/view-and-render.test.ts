// The dashboard's view model (pure) and its HTML: states and colours per
// card, the numbers on the bars, live steps, and text from nodes and pull
// requests that can never become markup.
import { describe, expect, it } from 'vitest';
import type { RunningStep } from '../../reconciler/src/apply/progress.ts';
import type { DaemonStatus } from '../../reconciler/src/daemon/run-daemon.ts';
import { buildFleetView, type FleetViewInput } from '../../reconciler/src/dashboard/fleet-view.ts';
import { escapeHtml, html } from '../../reconciler/src/dashboard/html.ts';
import { renderFleetPage, renderNodePage, renderRegions } from '../../reconciler/src/dashboard/render.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import { buildDesired } from '../plan/build-desired.ts';
import { freshAs, provisioned } from '../plan/build-observed.ts';

const HOSTILE = '</li><script>alert(1)</script><img src=x onerror=alert(2)>';
const desired = buildDesired();
const NOW = new Date('2026-11-24T10:00:00Z');

function observedFleet(): ObservedNode[] {
  const bob = provisioned(desired, freshAs(desired, 'bob'));
  const maestro = provisioned(desired, freshAs(desired, 'maestro'));
  const virtuoso = provisioned(desired, freshAs(desired, 'virtuoso'));
  bob.reach.address = 'bob.local';
  maestro.reach.address = '192.168.1.20';
  if (maestro.facts) {
    maestro.facts.ollama.models.push({ name: HOSTILE, digest: 'd', size: 1 });
    maestro.facts.ollama.loaded = [{ name: 'llama3.1:8b', size: 6e9, size_vram: 5.5e9 }];
    maestro.facts.disk = { total_bytes: 2000e9, available_bytes: 4e9 };
  }
  if (virtuoso.facts) virtuoso.facts.ollama.external = { up: false, error: `connect ECONNREFUSED ${HOSTILE}` };
  const stagehand: ObservedNode = { node: 'stagehand', observed_at: NOW.toISOString(), reach: { status: 'unreachable', attempts: [], message: 'connection refused' } };
  return [bob, maestro, stagehand, virtuoso];
}

function status(running: RunningStep[] = []): DaemonStatus {
  const line = (node: string, s: DaemonStatus['nodes'][number]['status'], summary: string): DaemonStatus['nodes'][number] => ({ node, status: s, summary, address: null, differences: [], pending_steps: 0, backoff_until: null });
  return {
    repo: 'origin', branch: 'main', origin: { reachable: true, since: null, error: null }, rewritten: null, pending_registrations: [],
    heartbeats: { nodes: 0, write: { pending: false, error: null, failing_since: null, writes: 0, failures: 0 } },
    head: 'a'.repeat(40), revision: 'a'.repeat(40),
    invalid: { revision: 'b'.repeat(40), problems: [{ file: 'fleet/nodes/x.yaml', line: 3, col: 7, severity: 'error', rule: 'unknown-role', message: HOSTILE }] },
    last: null, reconciles: 2,
    history: [{ reasons: ['drift'], started_at: NOW.toISOString(), finished_at: NOW.toISOString(), result: 'failed', duration_ms: 1234, error: HOSTILE }],
    nodes: [
      line('bob', 'in-sync', 'in sync'),
      { ...line('maestro', 'drifted', HOSTILE), differences: [{ field: 'models.llama3.1:70b', desired: 'present', observed: null }] },
      line('stagehand', 'unreachable', 'unreachable: connection refused'),
      line('virtuoso', 'in-sync', 'in sync'),
    ],
    running,
    alerts: { targets: ['ntfy #1'], firing: [{ key: 'ollama-down:virtuoso', kind: 'ollama-down', node: 'virtuoso', since: NOW.toISOString(), detail: `Ollama on virtuoso does not answer Bob ${HOSTILE}` }], suppressed: 0, last_error: null },
    pending: [{ node: 'maestro', id: 'maestro/pull-model/llama3.1:70b', kind: 'pull-model', why: `missing ${HOSTILE}` }],
    pending_total: 1,
  };
}

function input(over: Partial<FleetViewInput> = {}): FleetViewInput {
  return {
    now: NOW, status: status(), desired, observed: observedFleet(),
    heartbeats: [{ node_id: 'bob', ip: '192.168.1.10', last_seen: '2026-11-24T09:59:30Z' }, { node_id: 'maestro', ip: '192.168.1.20', last_seen: '2026-11-24T09:50:00Z' }],
    workers: [], history: status().history, events: [{ at: NOW.toISOString(), node: 'maestro', level: 'error', message: HOSTILE }], canReconcile: true, ...over,
  };
}

describe('buildFleetView', () => {
  it('gives each node a state and a severity: green in sync, red unreachable or Ollama down, converging while steps run', () => {
    const running: RunningStep[] = [{ node: 'maestro', id: 'maestro/pull-model/llama3.1:70b', kind: 'pull-model', model: 'llama3.1:70b', started_at: NOW.toISOString(), transfer: { node: 'maestro', model: 'llama3.1:70b', status: 'pulling', completed: 1e9, total: 40e9, bytesPerSecond: 50e6, etaSeconds: 780 } }];
    const view = buildFleetView(input({ status: status(running) }));
    expect(view.cards.map((c) => [c.node, c.state, c.severity])).toEqual([
      ['bob', 'in-sync', 'ok'], ['maestro', 'converging', 'busy'], ['stagehand', 'unreachable', 'bad'], ['virtuoso', 'in-sync', 'bad'],
    ]);
    expect(view.cards.find((c) => c.node === 'virtuoso')?.summary).toMatch(/^Ollama is down: connect ECONNREFUSED/);
    expect(view.cards.find((c) => c.node === 'maestro')?.running).toHaveLength(1);
    expect(view.cards.find((c) => c.node === 'bob')?.running).toHaveLength(0);
    expect(view.counts).toEqual({ ok: 1, busy: 1, bad: 2 });
  });

  it('reads the memory bar from the fit estimate and /api/ps, the disk bar from df, the heartbeat age from the registry', () => {
    const maestro = buildFleetView(input()).cards.find((c) => c.node === 'maestro');
    expect(maestro?.address).toBe('192.168.1.20');
    expect((maestro?.memory.usable_bytes ?? 0) / 2 ** 30).toBeCloseTo(56, 0);
    expect((maestro?.memory.worst_case_bytes ?? 0) / 2 ** 30).toBeGreaterThan(40);
    expect(maestro?.memory.loaded_bytes).toBe(5.5e9);
    expect(maestro?.models.loaded).toEqual([{ name: 'llama3.1:8b', size: 6e9, size_vram: 5.5e9 }]);
    expect(maestro?.disk).toEqual({ total_bytes: 2000e9, available_bytes: 4e9, low: true });
    expect(maestro?.heartbeat).toEqual({ last_seen: '2026-11-24T09:50:00Z', age_seconds: 600, stale: true });
    const bob = buildFleetView(input()).cards.find((c) => c.node === 'bob');
    expect(bob?.heartbeat).toMatchObject({ age_seconds: 30, stale: false });
    expect(buildFleetView(input()).cards.find((c) => c.node === 'stagehand')?.ollama).toEqual({ expected: false, up: null, version: null, error: null });
  });
});

describe('rendering', () => {
  it('escapes every value: text from nodes and pull requests never becomes markup', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(html`<p>${HOSTILE}</p>${html`<b>${'<i>'}</b>`}`.text).toBe(`<p>${escapeHtml(HOSTILE)}</p><b>&lt;i&gt;</b>`);
    const view = buildFleetView(input());
    for (const page of [renderFleetPage(view), renderNodePage(view, 'maestro') ?? '', ...Object.values(renderRegions(view).regions), ...Object.values(renderRegions(view, 'maestro').regions)]) {
      expect(page).not.toContain('<script>');
      expect(page).not.toContain('<img');
    }
    const fleet = renderFleetPage(view);
    expect(fleet.match(/<script/g)).toEqual(['<script']);
    expect(fleet).toContain('src="/dashboard.js"');
    expect(fleet).toContain(escapeHtml(HOSTILE));
  });

  it('draws the invalid revision as an alert, the cards as articles with labelled bars, and a node page with its drift', () => {
    const view = buildFleetView(input());
    const fleet = renderFleetPage(view);
    expect(fleet).toMatch(/<div class="banner bad" role="alert" id="invalid-revision">\s*<h2>Revision bbbbbbbbbbbb is invalid<\/h2>/);
    expect(fleet).toContain('<code>fleet/nodes/x.yaml:3:7</code>');
    expect(fleet.match(/<article class="card/g)).toHaveLength(4);
    expect(fleet).toMatch(/<label for="mem-worst-maestro">Worst case<\/label>\s*<meter id="mem-worst-maestro"/);
    expect(fleet).toContain('<html lang="en">');
    const node = renderNodePage(view, 'maestro') ?? '';
    expect(node).toMatch(/<table class="drift"><caption>Observed against desired<\/caption>/);
    expect(node).toContain('<th scope="row"><code>models.llama3.1:70b</code></th><td>absent</td><td>present</td>');
    expect(node).toContain('maestro/pull-model/llama3.1:70b');
    expect(renderNodePage(view, 'nobody')).toBeUndefined();
    // Without a token nothing can be done from the page.
    expect(renderFleetPage(buildFleetView(input({ canReconcile: false })))).not.toContain('Reconcile now');
  });

  it('pushes regions keyed as the page marks them', () => {
    const view = buildFleetView(input());
    const fleet = renderFleetPage(view);
    const { regions, cards } = renderRegions(view);
    expect(cards).toEqual(['bob', 'maestro', 'stagehand', 'virtuoso']);
    for (const key of Object.keys(regions)) expect(fleet).toContain(`data-live="${key}"`);
    expect(Object.keys(renderRegions(view, 'maestro').regions)).toEqual(['banner', 'card-maestro', 'detail-maestro']);
  });
});
