// What Bob's own settings add to every SSH connection: the private key it
// uses (when fleetd.yaml names one) and, only when its owner turned trust on
// first use on there, the store where first-seen host keys are pinned.
import type { BobConfig } from '../daemon/bob-config.ts';
import { openTofuStore, type TofuStore } from '../net/tofu-store.ts';

export interface LocalConnectOptions {
  /** Overrides fleet.yaml's ssh.key_path. */
  keyPath?: string;
  /** Present only when trust on first use is on. */
  tofu?: TofuStore;
}

export async function localConnectOptions(config: BobConfig): Promise<LocalConnectOptions> {
  return {
    ...(config.ssh.keyPath !== null ? { keyPath: config.ssh.keyPath } : {}),
    ...(config.ssh.trustOnFirstUse ? { tofu: await openTofuStore(config.ssh.tofuKnownHosts) } : {}),
  };
}
