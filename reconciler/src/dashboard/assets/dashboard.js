// Live updates for the dashboard page. The page is complete without this
// script; with it, one EventSource receives the server-rendered parts of the
// page that changed (elements marked data-live) and swaps them in, keeping
// keyboard focus and open <details>. "Reconcile now" is sent with fetch.
(() => {
  'use strict';
  const status = document.getElementById('live-state');
  const say = (text) => {
    if (status) status.textContent = `Live updates: ${text}`;
  };
  const source = document.body.dataset.events;

  function swap(key, text) {
    const el = document.querySelector(`[data-live="${CSS.escape(key)}"]`);
    if (!el) return;
    const template = document.createElement('template');
    template.innerHTML = text;
    const next = template.content.firstElementChild;
    if (!next) return;
    const focused = document.activeElement;
    const focusKey = focused && el.contains(focused) ? focused.getAttribute('data-focus-key') : null;
    const open = new Set([...el.querySelectorAll('details[open]')].map((d, i) => i));
    [...next.querySelectorAll('details')].forEach((d, i) => {
      if (open.has(i)) d.setAttribute('open', '');
    });
    el.replaceWith(next);
    if (focusKey) {
      const again = document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      if (again instanceof HTMLElement) again.focus();
    }
  }

  if (source && 'EventSource' in window) {
    const events = new EventSource(source);
    events.addEventListener('open', () => say('on'));
    events.addEventListener('error', () => say('reconnecting'));
    events.addEventListener('update', (event) => {
      const message = JSON.parse(event.data);
      const grid = document.querySelector('[data-cards]');
      if (grid && Array.isArray(message.cards) && grid.getAttribute('data-cards') !== message.cards.join(',')) {
        // A node was added or removed: the page's structure changed.
        window.location.reload();
        return;
      }
      for (const [key, text] of Object.entries(message.regions)) swap(key, text);
      document.body.setAttribute('data-updated', message.now);
      const asOf = document.getElementById('as-of');
      if (asOf) {
        asOf.setAttribute('datetime', message.now);
        asOf.textContent = `${String(message.now).slice(11, 19)} UTC`;
      }
      say('on');
    });
  } else {
    say('off in this browser; reload the page for news');
  }

  const form = document.getElementById('reconcile-form');
  if (form instanceof HTMLFormElement) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const out = document.getElementById('reconcile-result');
      const token = new FormData(form).get('token');
      fetch('/api/reconcile', { method: 'POST', headers: { authorization: `Bearer ${String(token ?? '')}` } })
        .then(async (res) => {
          const body = await res.json().catch(() => ({}));
          if (out) out.textContent = res.ok ? 'Reconcile queued.' : (body.error ?? `Refused (${res.status}).`);
        })
        .catch(() => {
          if (out) out.textContent = 'The daemon did not answer.';
        });
    });
  }
})();
