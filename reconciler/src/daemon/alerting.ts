// The daemon's alerts over time: judged after every reconcile and on a timer
// (so "unreachable for N minutes" fires while nothing else happens), sent one
// batch at a time, in order. The judging itself is alerts.ts, pure; the
// sending is notifier.ts.
import type { BobConfig } from '../bob/bob-config.ts';
import type { FleetEvent } from '../dashboard/events.ts';
import type { FleetView } from '../dashboard/view.ts';
import type { Log } from '../ports.ts';
import { emptyAlertState, evaluateAlerts, observeForAlerts } from './alerts.ts';
import type { createNotifier } from './notifier.ts';
import type { DaemonStatus } from './status.ts';

export interface AlertingOptions {
  rules: BobConfig['alerts']['rules'];
  notifier: ReturnType<typeof createNotifier>;
  intervalMs: number;
  log: Pick<Log, 'error'>;
  /** The fleet as the dashboard draws it, now. */
  view(): FleetView;
  /** Pulls that failed in the last reconcile, per node. */
  failedPulls(): ReadonlyMap<string, readonly { model: string; message: string }[]>;
  /** Each notification is also a recent event on the dashboard. */
  addEvent(event: FleetEvent): void;
  /** The alerts part of the daemon's status changed. */
  onStatus(alerts: DaemonStatus['alerts']): void;
}

export interface Alerting {
  /** Judge again; `afterReconcile` counts a finished run (a failed one can alert). */
  judge(afterReconcile: boolean): void;
  /** Stops the timer and waits for the batch being sent. */
  stop(): Promise<void>;
}

export function startAlerting(options: AlertingOptions): Alerting {
  const { notifier } = options;
  let state = emptyAlertState();
  let lastError: string | null = null;
  let queue: Promise<void> = Promise.resolve();
  const report = (): void => options.onStatus({
    targets: notifier.describe(),
    firing: Object.entries(state.firing).map(([key, f]) => ({ key, kind: f.kind, node: f.node, since: new Date(f.since).toISOString(), detail: f.detail })),
    suppressed: state.suppressed,
    last_error: lastError,
  });
  const judge = (afterReconcile: boolean): void => {
    queue = queue.then(async () => {
      const judged = evaluateAlerts(state, observeForAlerts(options.view(), Date.now(), afterReconcile, options.failedPulls()), options.rules);
      state = judged.state;
      for (const n of judged.notifications) options.addEvent({ at: n.at, node: n.node, level: n.state === 'firing' ? 'error' : 'info', message: `${n.title}: ${n.message}` });
      report();
      if (judged.notifications.length === 0) return;
      const failed = (await notifier.send(judged.notifications)).filter((d) => !d.ok);
      lastError = failed.length > 0 ? failed.map((d) => `${d.target}: ${d.error ?? ''}`).join('; ') : null;
      report();
    }).catch((err: unknown) => options.log.error({ err }, 'alerts not judged'));
  };
  const timer = setInterval(() => judge(false), options.intervalMs);
  timer.unref();
  return {
    judge,
    async stop() {
      clearInterval(timer);
      await queue;
    },
  };
}
