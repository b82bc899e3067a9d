// "As if fresh": what a factory-fresh Mac with SSH bootstrapped would look like
// to observe. Offline plans use it for a node the snapshot has never seen, so a
// pull request that adds a node previews its whole provisioning.
import type { DesiredNode } from '../model/desired.ts';
import type { ObservedNode } from '../schema/observed.ts';

export function freshObservation(node: DesiredNode, observedAt: string): ObservedNode {
  const hw = node.hardware;
  return {
    node: node.name,
    observed_at: observedAt,
    reach: { status: 'ok', attempts: [], message: 'not observed yet: planned as if fresh' },
    facts: {
      hostnames: { computer_name: null, host_name: null, local_host_name: null },
      os: { product_version: null, build_version: null },
      hardware: {
        architecture: hw?.architecture ?? null,
        chip: hw?.chip ?? null,
        ram_bytes: hw === undefined ? null : hw.ram_gb * 2 ** 30,
        ncpu: hw?.ncpu ?? null,
      },
      // Free space is unknown: the pulls are planned, apply checks the disk before each.
      disk: { total_bytes: null, available_bytes: null },
      brew: { prefix: null, formulae: {}, casks: {}, services: {} },
      ollama: { cli_version: null, local: { up: false }, external: { up: false }, models: [], loaded: [] },
      files: { ollama_env: null, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null },
      launchd: { ollama: { loaded: false, pid: null, last_exit: null } },
      crontab: { lines: [] },
      // Optimistic: an admin account with passwordless sudo, as the bootstrap guide sets up.
      sudo: true,
      ip: null,
      home: null,
      dirs: {},
    },
  };
}
