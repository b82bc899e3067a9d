// `fleet secret`: the nodes' heartbeat keys on Bob. `list` shows each key's
// public id and whether its node holds it; `rotate NODE` makes a new key,
// which the next `fleet apply` (or the daemon's next reconcile) installs on
// the node. Bob accepts the old key until then, so no heartbeat is refused
// in between. A key itself is never printed.
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import { bobHomeFor, loadBobConfig } from '../../daemon/bob-config.ts';
import { openNodeSecrets } from '../../daemon/node-secrets.ts';
import { NODE_NAME } from '../../schema/common.ts';

interface SecretFlags {
  config?: string;
  targets?: string;
}

async function openStore(flags: SecretFlags) {
  const home = bobHomeFor(flags.targets, homedir());
  const config = await loadBobConfig(home, flags.config);
  return openNodeSecrets(config.secretsDir);
}

export function register(program: Command): void {
  const secret = program
    .command('secret')
    .description('the nodes\' heartbeat keys on Bob (never printed): list them, rotate one');

  secret
    .command('list')
    .description('each node\'s key id and whether the node holds it')
    .option('--config <file>', 'Bob\'s settings (default ~/.symphony/fleetd.yaml)')
    .option('--targets <file>', 'a simulated fleet\'s targets.json (Bob\'s home is beside it)')
    .action(async (flags: SecretFlags) => {
      const store = await openStore(flags);
      const { readdir } = await import('node:fs/promises');
      const names = (await readdir(store.dir).catch(() => [] as string[])).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4)).sort();
      for (const [node, s] of Object.entries(store.planInput(names))) {
        process.stdout.write(`${node.padEnd(16)} key ${s.key_id.slice(0, 12)}  ${s.installed === s.key_id ? 'installed' : s.installed === null ? 'not installed yet' : `node holds ${s.installed.slice(0, 12)} (rotation pending)`}\n`);
      }
      if (names.length === 0) process.stdout.write(`no keys in ${store.dir} yet: \`fleet apply\` creates one per active node\n`);
    });

  secret
    .command('rotate')
    .description('make a new heartbeat key for NODE; the next apply installs it (the old one is accepted until then)')
    .argument('<node>', 'node name')
    .option('--config <file>', 'Bob\'s settings (default ~/.symphony/fleetd.yaml)')
    .option('--targets <file>', 'a simulated fleet\'s targets.json (Bob\'s home is beside it)')
    .action(async (node: string, flags: SecretFlags) => {
      if (!new RegExp(NODE_NAME).test(node)) throw new FleetError('invalid-input', `${JSON.stringify(node)} is not a node name`);
      const store = await openStore(flags);
      const id = await store.rotate(node);
      process.stdout.write(`${node}: new heartbeat key ${id.slice(0, 12)} in ${store.dir}\nThe daemon installs it on ${node} at its next reconcile (or run \`fleet apply --node ${node}\`); until then the old key is still accepted.\n`);
    });
}
