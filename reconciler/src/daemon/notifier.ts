// Delivers alert notifications from Bob: a generic JSON webhook, an ntfy topic
// (the message as the body, title/priority/tags as headers) and a
// Slack-compatible incoming webhook ({"text": ...}). Targets are set in Bob's
// own fleetd.yaml, never in the repository; their URLs can hold secrets
// (a Slack hook's path is one), so they are never logged or shown: only
// their format and position.
import type { Notification } from './alerts.ts';
import type { NotifierTarget } from '../bob/alert-settings.ts';
import type { Log } from '../ports.ts';

export interface Delivery {
  /** e.g. "ntfy #1": never the URL. */
  target: string;
  key: string;
  ok: boolean;
  error: string | null;
}

type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ ok: boolean; status: number }>;

/** HTTP header values must be plain ASCII text. */
function headerText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 250);
}

/** The request a target gets for one notification. */
export function formatRequest(target: NotifierTarget, n: Notification): { headers: Record<string, string>; body: string } {
  switch (target.format) {
    case 'webhook':
      return {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'symphony-fleet', key: n.key, kind: n.kind, node: n.node, state: n.state, title: n.title, message: n.message, at: n.at }),
      };
    case 'ntfy':
      return {
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: headerText(n.title),
          priority: n.state === 'firing' ? 'high' : 'default',
          tags: n.state === 'firing' ? 'rotating_light' : 'white_check_mark',
        },
        body: n.message,
      };
    case 'slack':
      return {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `${n.state === 'firing' ? ':rotating_light:' : ':white_check_mark:'} *${n.title}*\n${n.message}` }),
      };
  }
}

export interface Notifier {
  /** Each notification to every target, in order; failures are logged and returned, never thrown. */
  send(notifications: readonly Notification[]): Promise<Delivery[]>;
  /** What the status may show: formats only. */
  describe(): string[];
}

export function createNotifier(targets: readonly NotifierTarget[], options: { fetch: Fetch; log?: Pick<Log, 'info' | 'warn'>; timeoutMs?: number }): Notifier {
  const names = targets.map((t, i) => `${t.format} #${i + 1}`);
  return {
    describe: () => [...names],
    async send(notifications) {
      const out: Delivery[] = [];
      for (const n of notifications) {
        for (const [i, target] of targets.entries()) {
          const name = names[i] ?? target.format;
          const { headers, body } = formatRequest(target, n);
          let error: string | null = null;
          try {
            const res = await options.fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
            if (!res.ok) error = `HTTP ${res.status}`;
          } catch (err) {
            // The cause, never the URL (fetch errors can repeat it).
            error = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'could not connect';
          }
          if (error === null) options.log?.info({ target: name, alert: n.key, state: n.state }, 'alert sent');
          else options.log?.warn({ target: name, alert: n.key, state: n.state, error }, 'alert delivery failed');
          out.push({ target: name, key: n.key, ok: error === null, error });
        }
      }
      return out;
    },
  };
}
