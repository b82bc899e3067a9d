// Where and how to reach each node (fleet addresses + ssh settings + pinned
// host keys, or a targets file's entries for the simulator), and the pool
// that keeps one SSH connection per node alive across observe, apply and the
// daemon's runs.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Desired } from '../load/desired.ts';
import type { ConnectionGuard } from '../net/guard.ts';
import { findHostKeys, parseKnownHosts } from '../net/known-hosts.ts';
import { connectNode, knownHostsNames } from '../net/ssh.ts';
import type { ConnectResult, ConnectTarget } from '../net/ssh.ts';
import type { Targets } from '../schema/targets.ts';

export interface NodeTarget extends ConnectTarget {
  /** Bob's URL for the node's Ollama. */
  ollamaUrl: string;
  /** Ollama's port inside the node (what `curl 127.0.0.1:PORT` reaches there). */
  ollamaPort: number;
  /** true: the URL's host is whichever address answered SSH (a roaming node's Tailscale address). */
  ollamaUrlFollowsSsh: boolean;
}

export interface ResolveOptions {
  /** Reads a private key file; tests replace it. */
  readKey?: (path: string) => Buffer;
  /** For `~/` in key paths. */
  home?: string;
}

function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** The URL of an Ollama at `address`: `http://maestro.local:11434`. */
export function ollamaUrlFor(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Connection settings per node. With `targets` (the simulator, a lab) only
 * the nodes it lists are reachable and their addresses come from it: a
 * targets run never falls back to a real address.
 */
export function resolveTargets(desired: Desired, targets?: Targets, options: ResolveOptions = {}): Map<string, NodeTarget> {
  const home = options.home ?? homedir();
  const readKey = options.readKey ?? ((p: string): Buffer => readFileSync(p));
  const keys = new Map<string, Buffer>();
  const keyFor = (path: string): Buffer => {
    let key = keys.get(path);
    if (!key) {
      try {
        key = readKey(path);
      } catch {
        // An unreadable key becomes an actionable per-node error at connect time.
        key = Buffer.alloc(0);
      }
      keys.set(path, key);
    }
    return key;
  };
  const ssh = desired.settings.ssh;
  const knownHostsFile = ssh.known_hosts ?? 'known_hosts';
  const knownHostsName = isAbsolute(desired.dir) ? join(desired.dir, knownHostsFile) : `${desired.dir.replace(/\/+$/, '')}/${knownHostsFile}`;
  const pins = parseKnownHosts(desired.knownHosts);
  const common = {
    trustOnFirstUse: ssh.trust_on_first_use ?? false,
    connectTimeoutMs: (ssh.connect_timeout_s ?? 5) * 1000,
    commandTimeoutMs: (ssh.command_timeout_s ?? 30) * 1000,
    knownHostsName,
  };
  const out = new Map<string, NodeTarget>();
  for (const node of desired.nodes) {
    if (targets) {
      const t = targets.nodes[node.name];
      if (!t) continue;
      const keyPath = expandHome(t.key_path, home);
      const pinned = findHostKeys(pins, knownHostsNames({ node: node.name, addresses: t.addresses, port: t.ssh_port }));
      out.set(node.name, {
        node: node.name,
        addresses: [...t.addresses],
        port: t.ssh_port,
        user: t.user,
        privateKey: keyFor(keyPath),
        keyPath,
        knownHostKeys: [...new Set([...(t.host_key ? [t.host_key] : []), ...pinned.trusted])],
        revokedHostKeys: pinned.revoked,
        ...common,
        ollamaUrl: t.ollama_url.replace(/\/+$/, ''),
        ollamaPort: t.ollama_port ?? desired.settings.ollama.port,
        ollamaUrlFollowsSsh: false,
      });
      continue;
    }
    const keyPath = expandHome(ssh.key_path, home);
    const pinned = findHostKeys(pins, knownHostsNames({ node: node.name, addresses: node.addresses, port: 22 }));
    out.set(node.name, {
      node: node.name,
      addresses: [...node.addresses],
      port: 22,
      user: ssh.user,
      privateKey: keyFor(keyPath),
      keyPath,
      knownHostKeys: pinned.trusted,
      revokedHostKeys: pinned.revoked,
      ...common,
      ollamaUrl: ollamaUrlFor(node.addresses[0] ?? node.name, desired.settings.ollama.port),
      ollamaPort: desired.settings.ollama.port,
      ollamaUrlFollowsSsh: true,
    });
  }
  return out;
}

export interface ConnectionPool {
  /** The node's session: reused while its connection is open, reconnected when it closed. Failures are not cached. */
  session(node: string): Promise<ConnectResult>;
  /** How the node is reached; undefined when it has no settings (e.g. missing from the targets file). */
  target(node: string): NodeTarget | undefined;
  /** Drops a node's connection (e.g. after its host key was re-trusted). */
  forget(node: string): void;
  close(): void;
}

export function createConnectionPool(desired: Desired, options: { targets?: Targets; guard: ConnectionGuard; resolve?: ResolveOptions }): ConnectionPool {
  const targets = resolveTargets(desired, options.targets, options.resolve);
  const live = new Map<string, Promise<ConnectResult>>();
  let closed = false;

  const connect = (node: string, target: NodeTarget): Promise<ConnectResult> => {
    const pending = connectNode(target, options.guard).then((result) => {
      if (!result.ok) {
        if (live.get(node) === pending) live.delete(node);
      } else if (closed) {
        result.session.close();
      }
      return result;
    });
    live.set(node, pending);
    return pending;
  };

  return {
    async session(node: string): Promise<ConnectResult> {
      const target = targets.get(node);
      if (!target) {
        const why = options.targets ? `${node} is not in the targets file` : `${node} is not a node of this fleet`;
        return { ok: false, reach: { status: 'error', message: `${why}: no address to connect to`, attempts: [] } };
      }
      const current = live.get(node);
      if (current) {
        const result = await current;
        if (!result.ok || !result.session.closed) return result;
        if (live.get(node) === current) live.delete(node);
      }
      return live.get(node) ?? connect(node, target);
    },
    target: (node) => targets.get(node),
    forget(node: string): void {
      const current = live.get(node);
      live.delete(node);
      void current?.then((r) => { if (r.ok) r.session.close(); });
    },
    close(): void {
      closed = true;
      for (const p of live.values()) void p.then((r) => { if (r.ok) r.session.close(); });
      live.clear();
    },
  };
}
