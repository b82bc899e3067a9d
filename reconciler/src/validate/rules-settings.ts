// Rules about fleet.yaml's settings that a schema cannot say: the drift
// schedule is parsed with bounds (node-cron never sees a value the daemon
// could not run), and Bob's address must be one nodes can reach.
import { unicastProblem } from '../net/ipv4.ts';
import type { RuleContext } from './context.ts';
import { parseCron } from './cron-expression.ts';

export function checkSettings(ctx: RuleContext): void {
  const settings = ctx.fleet.settings;
  if (!settings) return;
  const doc = { kind: 'settings' } as const;
  const cron = parseCron(settings.reconcile.drift_cron);
  if (!cron.ok) {
    ctx.error(doc, ['reconcile', 'drift_cron'], 'drift-cron', `reconcile.drift_cron ${JSON.stringify(settings.reconcile.drift_cron)} cannot run: ${cron.message}. Use 5 fields of numbers, *, ranges and steps, e.g. "*/15 * * * *" (every 15 minutes).`);
  }
  // Loopback is fine here: a lab fleet's Bob may be this machine.
  const bob = unicastProblem(settings.network.bob_address, { allowLoopback: true });
  if (bob !== null) {
    ctx.error(doc, ['network', 'bob_address'], 'bob-address', `network.bob_address: ${bob}; nodes could not send their heartbeats there. Put Bob's LAN address (\`ipconfig getifaddr en0\` on Bob).`);
  }
}
