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
import type { LocalConnectOptions } from './local-connect.ts';
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
  /** Bob's own settings: its key and, when its owner turned it on, trust on first use. */
  local?: LocalConnectOptions;
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
  // Always fleet/known_hosts: the repository cannot move the pins.
  const knownHostsName = isAbsolute(desired.dir) ? join(desired.dir, 'known_hosts') : `${desired.dir.replace(/\/+$/, '')}/known_hosts`;
  const pins = parseKnownHosts(desired.knownHosts);
  const tofu = options.local?.tofu;
  /** The repository's pins, else (with TOFU on) the key pinned on first use; TOFU only for a node with neither. */
  const trustFor = (node: string, pinned: string[]): { knownHostKeys: string[]; trustOnFirstUse: boolean } => {
    if (pinned.length > 0 || tofu === undefined) return { knownHostKeys: pinned, trustOnFirstUse: false };
    const first = tofu.pinned(node);
    return first !== undefined ? { knownHostKeys: [first], trustOnFirstUse: false } : { knownHostKeys: [], trustOnFirstUse: true };
  };
  const common = {
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
        ...trustFor(node.name, [...new Set([...(t.host_key ? [t.host_key] : []), ...pinned.trusted])]),
        revokedHostKeys: pinned.revoked,
        ...common,
        ollamaUrl: t.ollama_url.replace(/\/+$/, ''),
        ollamaPort: t.ollama_port ?? desired.settings.ollama.port,
        ollamaUrlFollowsSsh: false,
      });
      continue;
    }
    const keyPath = options.local?.keyPath ?? expandHome(ssh.key_path, home);
    const pinned = findHostKeys(pins, knownHostsNames({ node: node.name, addresses: node.addresses, port: 22 }));
    out.set(node.name, {
      node: node.name,
      addresses: [...node.addresses],
      port: 22,
      user: ssh.user,
      privateKey: keyFor(keyPath),
      keyPath,
      ...trustFor(node.name, pinned.trusted),
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

export function createConnectionPool(desired: Desired, options: { targets?: Targets; guard: ConnectionGuard; resolve?: ResolveOptions; local?: LocalConnectOptions }): ConnectionPool {
  const local = options.local ?? options.resolve?.local;
  const targets = resolveTargets(desired, options.targets, { ...options.resolve, ...(local ? { local } : {}) });
  const live = new Map<string, Promise<ConnectResult>>();
  let closed = false;

  /** A key accepted on first use becomes a pin, here and on disk, before the session is used. */
  const pinFirstUse = async (node: string, target: NodeTarget, result: ConnectResult): Promise<ConnectResult> => {
    if (!result.ok || !result.hostKey.trustedOnFirstUse || local?.tofu === undefined) return result;
    const keyText = `${result.hostKey.keyType} ${result.hostKey.key}`;
    const outcome = await local.tofu.pin(node, keyText);
    if (outcome === 'conflict') {
      result.session.close();
      const message = `host key changed: ${node} presented ${result.hostKey.fingerprint}, but another key was trusted on first use in ${local.tofu.file}. Nothing was run on it. If the Mac was reinstalled on purpose, remove its line there (or pin the new key with \`fleet trust ${node}\`).`;
      return { ok: false, reach: { status: 'host-key-changed', address: result.session.address, message, attempts: [...result.reach.attempts.slice(0, -1), { address: result.session.address, result: 'host-key-changed', message }] } };
    }
    target.knownHostKeys = [keyText];
    target.trustOnFirstUse = false;
    return { ...result, reach: { ...result.reach, message: `trusted the host key ${result.hostKey.fingerprint} on first use and pinned it in ${local.tofu.file}; any other key will be refused. To review it, add this line to fleet/known_hosts: ${result.hostKey.line}` } };
  };

  const connect = (node: string, target: NodeTarget): Promise<ConnectResult> => {
    const pending = connectNode(target, options.guard).then((r) => pinFirstUse(node, target, r)).then((result) => {
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
