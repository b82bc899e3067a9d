// The text of `fleet observe`: why a node was not observed, the facts of one
// that was, the line to add after trust on first use.
import { describe, expect, it } from 'vitest';
import { renderObservedText } from '../../reconciler/src/observe/render-observed.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';

const ok: ObservedNode = {
  node: 'virtuoso',
  observed_at: '2026-11-24T10:00:00.000Z',
  duration_ms: 140,
  reach: { status: 'ok', address: '192.168.1.40', attempts: [], host_key: { fingerprint: 'SHA256:abc', line: 'virtuoso,virtuoso.local ssh-ed25519 AAAA', trusted_on_first_use: true }, message: 'trusted the host key SHA256:abc on first use: add this line to fleet/known_hosts: virtuoso,virtuoso.local ssh-ed25519 AAAA' },
  facts: {
    hostnames: { computer_name: 'Virtuoso', host_name: null, local_host_name: 'virtuoso' },
    os: { product_version: '14.5', build_version: '23F79', product_name: 'macOS', product_version_extra: '(a)' },
    hardware: { architecture: 'x86_64', chip: 'Apple M4', ram_bytes: 24 * 2 ** 30, ncpu: 10, arm64_capable: true },
    disk: { total_bytes: 494e9, available_bytes: 265e9, models_bytes: 7.2e9 },
    brew: { prefix: null, formulae: {}, casks: {} },
    ollama: { cli_version: null, local: { up: false, error: 'curl exit 7: connection refused (Ollama not running)' }, external: { up: false, url: 'http://192.168.1.40:11434', error: 'connection refused' }, models: [], loaded: [], models_source: 'none' },
    files: { ollama_env: { sha256: 'a'.repeat(64), size: 69 }, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null },
    launchd: { ollama: { loaded: true, pid: null, last_exit: 78 } },
    crontab: { lines: [] },
    sudo: false,
    ip: null,
    warnings: ['launchctl: exit 5'],
  },
};

const down: ObservedNode = {
  node: 'maestro',
  observed_at: '2026-11-24T10:00:00.000Z',
  reach: { status: 'host-key-changed', address: 'maestro.local', message: 'host key changed: maestro at maestro.local presented SHA256:new, expected SHA256:old', attempts: [] },
};

describe('renderObservedText', () => {
  const text = renderObservedText([down, ok]);
  it('says why a node was not observed, with no facts under it', () => {
    expect(text).toContain('maestro: host-key-changed at maestro.local\n  host key changed: maestro at maestro.local presented SHA256:new, expected SHA256:old\n\n');
  });
  it('shows the facts of an observed node, and what is odd about them', () => {
    expect(text).toContain('virtuoso: ok at 192.168.1.40 in 140 ms');
    expect(text).toContain('names     Virtuoso / (HostName not set) / virtuoso');
    expect(text).toContain('macOS 14.5 (a) (23F79), x86_64 under Rosetta, Apple M4, 24 GB RAM');
    expect(text).toContain('homebrew  not installed');
    expect(text).toContain('models    none (unknown: no Ollama answered)');
    expect(text).toContain('agent     loaded, not running (last exit 78)');
    expect(text).toContain('sudo needs a password');
    expect(text).toContain('warning   launchctl: exit 5');
  });
  it('prints the known_hosts line after trust on first use', () => {
    expect(text).toContain('add this line to fleet/known_hosts: virtuoso,virtuoso.local ssh-ed25519 AAAA');
  });
  it('ends with a count', () => {
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 of 2 nodes observed');
  });
});
