// Recent events: a bounded list, newest first, per node; and which log lines
// become events, as people read them on a node's page.
import { describe, expect, it } from 'vitest';
import { createEventLog, eventFromLog } from '../../reconciler/src/dashboard/events.ts';

const AT = new Date('2026-11-24T10:00:00Z');

describe('events', () => {
  it('keeps the newest, at most its capacity, newest first, filtered by node', () => {
    const log = createEventLog(3);
    for (const [i, node] of ['a', 'b', 'a', 'a', null].entries()) log.add({ at: `t${i}`, node, level: 'info', message: `m${i}` });
    expect(log.list().map((e) => e.message)).toEqual(['m4', 'm3', 'm2']);
    expect(log.list('a').map((e) => e.message)).toEqual(['m3', 'm2']);
    expect(log.list('a', 1).map((e) => e.message)).toEqual(['m3']);
  });

  it('turns step and pull log lines about a node into events; other lines, or lines about no node, are not', () => {
    expect(eventFromLog('info', { node: 'maestro', step: 'maestro/pull-model/llama3.1:8b', detail: 'llama3.1:8b 5e9b (4.9 GB)' }, 'step done', AT)).toEqual({ at: AT.toISOString(), node: 'maestro', level: 'info', message: 'maestro/pull-model/llama3.1:8b done: llama3.1:8b 5e9b (4.9 GB)' });
    expect(eventFromLog('error', { node: 'maestro', step: 'maestro/load-agent', error: 'launchctl: 5' }, 'step failed', AT)?.message).toBe('maestro/load-agent FAILED: launchctl: 5');
    expect(eventFromLog('info', { node: 'maestro', step: 'maestro/make-dirs', changed: false }, 'step done', AT)?.message).toBe('maestro/make-dirs done (already done)');
    expect(eventFromLog('info', { node: 'maestro', model: 'mistral:7b' }, 'pull started', AT)?.message).toBe('pull of mistral:7b started');
    expect(eventFromLog('info', { node: 'maestro' }, 'reconcile started', AT)).toBeUndefined();
    expect(eventFromLog('info', { node: null, step: 'fleet/write-generated' }, 'step done', AT)).toBeUndefined();
  });
});
