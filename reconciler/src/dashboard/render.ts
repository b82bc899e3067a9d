// The dashboard's HTML, rendered on the server from a FleetView (pure). The
// page is complete without script; the script only swaps the parts marked
// data-live with the same renderers' output pushed over server-sent events,
// so there is one renderer, here.
import { describeSource, formatBytesPerSecond, formatEta, percentDone } from '../apply/progress.ts';
import type { RunningStep } from '../apply/progress.ts';
import { html, type Html } from './html.ts';
import type { CardState, FleetView, NodeCard, PendingStep, Severity } from './fleet-view.ts';
import type { FleetEvent } from './events.ts';

const GIB = 2 ** 30;

const STATE_LABEL: Readonly<Record<CardState, string>> = {
  'in-sync': 'in sync', drifted: 'drifted', converging: 'converging', away: 'away', unreachable: 'unreachable', refused: 'refused',
  'unknown-hardware': 'unknown hardware', planned: 'planned', retired: 'retired', error: 'error', unknown: 'not observed yet',
};

const SEVERITY_LABEL: Readonly<Record<Severity, string>> = { ok: 'in sync', busy: 'converging', warn: 'needs attention', bad: 'failing', idle: 'away, planned or retired' };

export function formatGb(bytes: number | null, unit: number = 1e9): string {
  return bytes === null ? '?' : `${(bytes / unit).toFixed(bytes / unit >= 100 ? 0 : 1)} GB`;
}

export function formatAge(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

function time(iso: string | null): Html {
  if (!iso) return html`-`;
  return html`<time datetime="${iso}">${iso.slice(11, 19)} UTC</time>`;
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

function shortRev(rev: string | null): string {
  return rev === null ? 'none valid yet' : rev.slice(0, 12);
}

/** One running step, with a progress bar for a transfer. */
function renderRunning(r: RunningStep): Html {
  const t = r.transfer;
  if (!t) return html`<li class="step"><span class="kind">${r.kind}</span> <code>${r.id}</code></li>`;
  const pct = percentDone(t);
  const label = `${t.model}: ${pct}%`;
  const lan = t.source?.startsWith('lan:') === true;
  return html`<li class="step pull" data-model="${t.model}">
    <span class="kind">${lan ? 'copy' : 'pull'}</span> <strong>${t.model}</strong>${t.source === undefined ? '' : html` <span class="muted">${describeSource(t.source)}</span>`}
    <progress max="${t.total}" value="${t.completed}" aria-label="${label}">${pct}%</progress>
    <span class="pull-figures"><span class="pct">${pct}%</span> · <span class="bytes">${formatGb(t.completed)} of ${formatGb(t.total)}</span> · <span class="rate">${formatBytesPerSecond(t.bytesPerSecond)}</span> · <span class="eta">${formatEta(t.etaSeconds)}</span></span>
  </li>`;
}

function renderModels(c: NodeCard): Html {
  if (c.models.wanted.length === 0 && c.models.present.length === 0) return html`<p class="muted">No models for this role.</p>`;
  const loaded = new Map(c.models.loaded.map((m) => [m.name, m]));
  const present = new Set(c.models.present.map((m) => m.name));
  const names = [...new Set([...c.models.wanted, ...c.models.present.map((m) => m.name)])].sort();
  const rows = names.map((name) => {
    const wanted = c.models.wanted.includes(name);
    const l = loaded.get(name);
    const state = c.observed_at === null ? 'unknown' : present.has(name) ? (wanted ? 'present' : 'extra') : 'missing';
    return html`<li class="model model-${state}"><code>${name}</code> <span class="tag">${state}</span>${l ? html` <span class="tag loaded">loaded, ${formatGb(l.size_vram)} VRAM</span>` : ''}</li>`;
  });
  return html`<ul class="models" aria-label="Models on ${c.node}">${rows}</ul>`;
}

function renderMemory(c: NodeCard): Html {
  const m = c.memory;
  if (m.usable_bytes === null) return html`<p class="muted">Memory: ${m.ram_bytes === null ? 'unknown' : formatGb(m.ram_bytes, GIB)} RAM${c.ollama.expected ? '' : ', no models'}</p>`;
  const worst = m.worst_case_bytes ?? 0;
  return html`<div class="bar-group">
    <div class="bar"><label for="mem-worst-${c.node}">Worst case</label>
      <meter id="mem-worst-${c.node}" min="0" max="${m.usable_bytes}" value="${Math.min(worst, m.usable_bytes)}" high="${m.usable_bytes * 0.9}" optimum="0">${formatGb(worst, GIB)}</meter>
      <span>${formatGb(worst, GIB)} of ${formatGb(m.usable_bytes, GIB)} usable</span></div>
    <div class="bar"><label for="mem-loaded-${c.node}">Loaded now</label>
      <meter id="mem-loaded-${c.node}" min="0" max="${m.usable_bytes}" value="${Math.min(m.loaded_bytes, m.usable_bytes)}" high="${m.usable_bytes * 0.9}" optimum="0">${formatGb(m.loaded_bytes, GIB)}</meter>
      <span>${formatGb(m.loaded_bytes, GIB)} in VRAM</span></div>
  </div>`;
}

function renderDisk(c: NodeCard): Html {
  const d = c.disk;
  if (d.total_bytes === null || d.available_bytes === null) return html`<p class="muted">Disk: not observed</p>`;
  const used = d.total_bytes - d.available_bytes;
  return html`<div class="bar"><label for="disk-${c.node}">Disk</label>
    <meter id="disk-${c.node}" min="0" max="${d.total_bytes}" value="${used}" high="${d.total_bytes * 0.9}" optimum="0">${formatGb(used)}</meter>
    <span>${formatGb(d.available_bytes)} free of ${formatGb(d.total_bytes)}${d.low ? html` <strong class="warn-text">low</strong>` : ''}</span></div>`;
}

function renderOllama(c: NodeCard): Html {
  if (!c.ollama.expected) return html`not used by this role`;
  if (c.ollama.up === null) return html`unknown`;
  if (c.ollama.up) return html`<span class="ok-text">up</span>${c.ollama.version ? html`, version ${c.ollama.version}` : ''}`;
  return html`<strong class="bad-text">down</strong>${c.ollama.error ? html`: ${c.ollama.error}` : ''}`;
}

/** One Mac: the region data-live="card-NODE". */
export function renderCard(c: NodeCard, options: { link: boolean } = { link: true }): Html {
  const title = options.link ? html`<a href="/nodes/${encodeURIComponent(c.node)}" data-focus-key="node-${c.node}">${c.display_name}</a>` : html`${c.display_name}`;
  return html`<article class="card sev-${c.severity}" data-live="card-${c.node}" data-node="${c.node}" data-state="${c.state}" data-severity="${c.severity}" aria-labelledby="title-${c.node}">
  <header class="card-head">
    <h3 id="title-${c.node}">${title}</h3>
    <span class="badge sev-${c.severity}">${STATE_LABEL[c.state]}</span>
  </header>
  <p class="summary">${c.summary}</p>
  <dl class="facts">
    <dt>Role</dt><dd>${c.role} · ${c.hardware}${c.presence === 'roaming' ? ' · roaming' : ''}</dd>
    <dt>Address</dt><dd>${c.address ?? 'none answered'}</dd>
    <dt>Ollama</dt><dd>${renderOllama(c)}</dd>
    <dt>Heartbeat</dt><dd class="${c.heartbeat.stale ? 'warn-text' : ''}">${formatAge(c.heartbeat.age_seconds)}</dd>
  </dl>
  ${renderModels(c)}
  ${renderMemory(c)}
  ${renderDisk(c)}
  ${c.running.length > 0 ? html`<section class="running" aria-label="Running on ${c.node}"><h4>Running now</h4><ul>${c.running.map(renderRunning)}</ul></section>` : ''}
</article>`;
}

/** Region "banner": an invalid revision and an unreachable origin. */
export function renderBanner(v: FleetView): Html {
  const parts: Html[] = [];
  if (v.invalid) {
    parts.push(html`<div class="banner bad" role="alert" id="invalid-revision">
      <h2>Revision ${shortRev(v.invalid.revision)} is invalid</h2>
      <p>The last good revision (${shortRev(v.revision)}) is still being reconciled; no node was touched for this one. Fix these and push:</p>
      <ul>${v.invalid.problems.map((p) => html`<li><code>${p.file}:${p.line}:${p.col}</code> <span class="rule">${p.rule}</span> ${p.message}</li>`)}</ul>
    </div>`);
  }
  if (!v.origin.reachable) {
    parts.push(html`<div class="banner warn" role="status"><h2>Origin unreachable</h2><p>Since ${time(v.origin.since)}: ${v.origin.error ?? ''}. The last good revision is reconciled meanwhile.</p></div>`);
  }
  return html`<div data-live="banner">${parts}</div>`;
}

function renderPending(steps: readonly PendingStep[], withNode: boolean): Html {
  if (steps.length === 0) return html`<p class="muted">Nothing pending.</p>`;
  return html`<table class="steps"><thead><tr>${withNode ? html`<th scope="col">Node</th>` : ''}<th scope="col">Step</th><th scope="col">Why</th></tr></thead>
    <tbody>${steps.map((s) => html`<tr>${withNode ? html`<td>${s.node ?? 'bob (fleet)'}</td>` : ''}<td><code>${s.kind}</code> ${s.id}</td><td>${s.why}</td></tr>`)}</tbody></table>`;
}

/** Region "header": revision, branch, the last reconciles, the pending plan. */
export function renderFleetHeader(v: FleetView): Html {
  const counts = (['bad', 'warn', 'busy', 'ok', 'idle'] as const).filter((s) => (v.counts[s] ?? 0) > 0)
    .map((s) => html`<li class="count sev-${s}"><strong>${v.counts[s] ?? 0}</strong> ${SEVERITY_LABEL[s]}</li>`);
  const last = v.reconciles.slice(0, 5);
  return html`<div data-live="header" class="fleet-header">
    <dl class="revision">
      <dt>Branch</dt><dd><code>${v.branch}</code></dd>
      <dt>Revision</dt><dd><code>${shortRev(v.revision)}</code>${v.head && v.head !== v.revision ? html` (branch head <code>${shortRev(v.head)}</code>)` : ''}</dd>
      <dt>Reconcile</dt><dd>${v.running ? html`<strong>running</strong>` : 'idle'}</dd>
    </dl>
    <ul class="counts" aria-label="Nodes by state">${counts}</ul>
    ${v.alerts.length > 0 ? html`<section aria-labelledby="h-alerts" class="alerts"><h2 id="h-alerts">Alerts firing</h2><ul>${v.alerts.map((a) => html`<li class="bad-text"><strong>${a.kind}</strong> ${a.node ?? 'fleet'} since ${time(a.since)}: ${a.detail}</li>`)}</ul></section>` : ''}
    <section aria-labelledby="h-reconciles"><h2 id="h-reconciles">Last reconciles</h2>
      ${last.length === 0 ? html`<p class="muted">None yet.</p>` : html`<table class="reconciles"><thead><tr><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Result</th><th scope="col">Duration</th></tr></thead>
      <tbody>${last.map((r) => html`<tr class="result-${r.result}"><td>${time(r.started_at)}</td><td>${r.reasons.join(', ')}</td><td>${r.result}${r.error ? html`: ${r.error}` : ''}</td><td>${duration(r.duration_ms)}</td></tr>`)}</tbody></table>`}
    </section>
    <section aria-labelledby="h-pending"><h2 id="h-pending">Pending plan</h2>
      ${v.pending.length === 0 ? renderPending([], true) : html`<details><summary>${v.pending_total} step${v.pending_total === 1 ? '' : 's'} ${v.running ? 'being applied' : 'left'}${v.pending_total > v.pending.length ? ` (the first ${v.pending.length} below)` : ''}</summary>${renderPending(v.pending, true)}</details>`}
    </section>
  </div>`;
}

function renderReconcileForm(v: FleetView): Html {
  if (!v.can_reconcile) return html``;
  return html`<form class="reconcile" method="post" action="/api/reconcile" id="reconcile-form">
    <label for="token">Local token</label>
    <input id="token" name="token" type="password" autocomplete="off" required aria-describedby="token-help">
    <button type="submit">Reconcile now</button>
    <p id="token-help" class="muted">Read-only without it. On Bob: <code>cat ~/.symphony/fleetd.token</code>.</p>
    <p id="reconcile-result" role="status"></p>
  </form>`;
}

function page(title: string, body: Html, view: FleetView, live: string): string {
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="/dashboard.css"><script src="/dashboard.js" defer></script></head>
<body data-events="${live}">
<a class="skip" href="#main">Skip to content</a>
${body}
<footer><p><span id="live-state" role="status">Live updates: connecting</span> · as of <time id="as-of" datetime="${view.now}">${view.now.slice(11, 19)} UTC</time> · <a href="/api/status">/api/status</a> · <a href="/metrics">/metrics</a></p></footer>
</body></html>`.text}\n`;
}

export function renderFleetPage(v: FleetView): string {
  const body = html`<header class="top"><h1>Symphony Fleet</h1>${renderReconcileForm(v)}</header>
${renderBanner(v)}
${renderFleetHeader(v)}
<main id="main"><h2>Nodes</h2><div class="cards" data-cards="${v.cards.map((c) => c.node).join(',')}">${v.cards.map((c) => renderCard(c))}</div></main>`;
  return page('Symphony Fleet', body, v, '/events');
}

function renderEvents(events: readonly FleetEvent[]): Html {
  if (events.length === 0) return html`<p class="muted">No events since the daemon started.</p>`;
  return html`<ol class="events" reversed>${events.map((e) => html`<li class="event-${e.level}">${time(e.at)} ${e.message}</li>`)}</ol>`;
}

/** Region "detail-NODE": drift, steps, events, workers. */
export function renderNodeDetail(v: FleetView, c: NodeCard): Html {
  const events = v.events.filter((e) => e.node === c.node).slice(0, 30);
  return html`<div data-live="detail-${c.node}" class="detail">
  <section aria-labelledby="h-drift"><h2 id="h-drift">Drift</h2>
    ${c.differences.length === 0 ? html`<p class="muted">${c.state === 'in-sync' ? 'None: observed matches desired.' : 'No differences known.'}</p>` : html`<table class="drift"><caption>Observed against desired</caption><thead><tr><th scope="col">Fact</th><th scope="col">Observed</th><th scope="col">Desired</th></tr></thead>
    <tbody>${c.differences.map((d) => html`<tr><th scope="row"><code>${d.field}</code></th><td>${d.observed ?? 'absent'}</td><td>${d.desired ?? 'absent'}</td></tr>`)}</tbody></table>`}
    <h3>Steps to converge</h3>${renderPending(c.pending, false)}
  </section>
  <section aria-labelledby="h-events"><h2 id="h-events">Recent events</h2>${renderEvents(events)}</section>
  <section aria-labelledby="h-workers"><h2 id="h-workers">Generated worker entries</h2>
    ${c.workers.length === 0 ? html`<p class="muted">None in openclaw_workers.json.</p>` : html`<table class="workers"><thead><tr><th scope="col">Worker</th><th scope="col">Type</th><th scope="col">Endpoint</th><th scope="col">Priority</th><th scope="col">Models</th><th scope="col">Enabled</th></tr></thead>
    <tbody>${c.workers.map((w) => html`<tr><th scope="row"><code>${w.worker_id}</code></th><td>${w.type}</td><td><code>${w.endpoint}</code></td><td>${w.priority}</td><td>${w.models_available.join(', ') || '-'}</td><td>${w.enabled ? 'yes' : 'no'}</td></tr>`)}</tbody></table>`}
  </section>
</div>`;
}

export function renderNodePage(v: FleetView, node: string): string | undefined {
  const c = v.cards.find((x) => x.node === node);
  if (!c) return undefined;
  const body = html`<header class="top"><p><a href="/">← All nodes</a></p><h1>${c.display_name} <span class="muted">(${c.node})</span></h1></header>
${renderBanner(v)}
<main id="main">${renderCard(c, { link: false })}${renderNodeDetail(v, c)}</main>`;
  return page(`${c.display_name}: Symphony Fleet`, body, v, `/events?node=${encodeURIComponent(node)}`);
}

/** What a live update carries: each region's HTML, keyed as data-live. */
export function renderRegions(v: FleetView, node?: string): { regions: Record<string, string>; cards: string[] } {
  const regions: Record<string, string> = { banner: renderBanner(v).text };
  if (node === undefined) {
    regions.header = renderFleetHeader(v).text;
    for (const c of v.cards) regions[`card-${c.node}`] = renderCard(c).text;
    return { regions, cards: v.cards.map((c) => c.node) };
  }
  const c = v.cards.find((x) => x.node === node);
  if (c) {
    regions[`card-${c.node}`] = renderCard(c, { link: false }).text;
    regions[`detail-${c.node}`] = renderNodeDetail(v, c).text;
  }
  return { regions, cards: c ? [c.node] : [] };
}
