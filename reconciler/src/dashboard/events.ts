// Recent events for the dashboard: a bounded list, newest last. The daemon
// records what it logs about a node (steps, pulls, alerts) and about the
// fleet (reconciles, revisions); the node page shows that node's.
export interface FleetEvent {
  at: string;
  /** null: about the fleet. */
  node: string | null;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface EventLog {
  add(event: FleetEvent): void;
  /** Newest first; the fleet's and every node's when `node` is undefined. */
  list(node?: string, limit?: number): FleetEvent[];
}

export function createEventLog(capacity = 500): EventLog {
  const events: FleetEvent[] = [];
  return {
    add(event) {
      events.push(event);
      if (events.length > capacity) events.splice(0, events.length - capacity);
    },
    list(node, limit = 50) {
      const out: FleetEvent[] = [];
      for (let i = events.length - 1; i >= 0 && out.length < limit; i--) {
        const e = events[i];
        if (e && (node === undefined || e.node === node)) out.push(e);
      }
      return out;
    },
  };
}

/** Log messages worth a line on the dashboard, and how they read there. */
const EVENT_MESSAGES: Readonly<Record<string, (f: Record<string, unknown>) => string>> = {
  'step done': (f) => `${str(f.step)} done${f.detail ? `: ${str(f.detail)}` : f.changed === false ? ' (already done)' : ''}`,
  'step done with a warning': (f) => `${str(f.step)} done with a warning: ${str(f.warning)}`,
  'step failed': (f) => `${str(f.step)} FAILED: ${str(f.error)}`,
  'step failed, retrying': (f) => `${str(f.step)} failed (attempt ${str(f.attempt)}), retrying: ${str(f.error)}`,
  'step needs a person': (f) => `${str(f.step)} needs a person (${str(f.reason)})`,
  'step skipped': (f) => `${str(f.step)} skipped: ${str(f.why)}`,
  'pull started': (f) => `pull of ${str(f.model)} started`,
};

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** A log line about a node, as an event (undefined: not one the dashboard shows). */
export function eventFromLog(level: FleetEvent['level'], fields: Record<string, unknown>, message: string, at: Date): FleetEvent | undefined {
  const render = EVENT_MESSAGES[message];
  const node = typeof fields.node === 'string' ? fields.node : null;
  if (!render || node === null) return undefined;
  return { at: at.toISOString(), node, level, message: render(fields) };
}
