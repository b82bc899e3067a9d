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
  checkTransfer(ctx);
  // Loopback is fine here: a lab fleet's Bob may be this machine.
  const bob = unicastProblem(settings.network.bob_address, { allowLoopback: true });
  if (bob !== null) {
    ctx.error(doc, ['network', 'bob_address'], 'bob-address', `network.bob_address: ${bob}; nodes could not send their heartbeats there. Put Bob's LAN address (\`ipconfig getifaddr en0\` on Bob).`);
  }
}

/** transfer.internet_nodes and cache_node name active nodes that run Ollama; the cap needs the line's rate. */
function checkTransfer(ctx: RuleContext): void {
  const transfer = ctx.fleet.settings?.transfer;
  if (!transfer) return;
  const doc = { kind: 'settings' } as const;
  const ollamaNodes = ctx.fleet.nodes.filter((n) => n.status === 'active' && ctx.fleet.roles[n.role]?.services.ollama === true).map((n) => n.name);
  const named = (name: string, path: (string | number)[], what: string): void => {
    if (ollamaNodes.includes(name)) return;
    ctx.error(doc, path, 'transfer-node', `transfer.${what} names ${name}, which is not an active node running Ollama (${ollamaNodes.join(', ') || 'none'}): it could not pull or serve models. Name one of those.`);
  };
  (transfer.internet_nodes ?? []).forEach((n, i) => named(n, ['transfer', 'internet_nodes', i], 'internet_nodes'));
  if (transfer.cache_node !== undefined) named(transfer.cache_node, ['transfer', 'cache_node'], 'cache_node');
  if (transfer.internet_nodes !== undefined && transfer.internet_nodes.length === 0) {
    ctx.error(doc, ['transfer', 'internet_nodes'], 'transfer-node', 'transfer.internet_nodes is empty: no node may pull a model the fleet lacks. List at least one node, or remove the setting (every node may).');
  }
  if (transfer.internet?.cap_percent !== undefined && transfer.internet.line_mbps === undefined) {
    ctx.error(doc, ['transfer', 'internet', 'cap_percent'], 'transfer-cap', 'transfer.internet.cap_percent needs line_mbps, the line\'s rate it is a share of: add it (measured, or from the contract).');
  }
}
