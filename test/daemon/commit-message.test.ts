// The daemon's commit messages: what changed in the registry, and a node that
// moved named in the subject; a node's first address is news for the body.
import { describe, expect, it } from 'vitest';
import { commitMessageFor, describeGeneratedChange } from '../../reconciler/src/daemon/commit-message.ts';
import type { NodesRegistry } from '../../reconciler/src/schema/generated.ts';

const entry = (node_id: string, status: string, models: string[]): NodesRegistry['nodes'][number] =>
  ({ node_id, status, models_loaded: models } as unknown as NodesRegistry['nodes'][number]);
const registry = (...nodes: NodesRegistry['nodes']): NodesRegistry => ({ _meta: {}, nodes } as unknown as NodesRegistry);

describe('commit messages', () => {
  it('names the nodes whose entries changed, and what they serve', () => {
    const before = registry(entry('bob', 'active', ['llama3.2:3b']));
    const after = registry(entry('bob', 'active', ['llama3.2:3b']), entry('virtuoso', 'active', ['llama3.1:8b']));
    expect(describeGeneratedChange(before, after)).toBe('generated: virtuoso active, models llama3.1:8b');
    expect(describeGeneratedChange(after, registry(entry('bob', 'active', ['llama3.2:3b'])))).toBe('generated: virtuoso removed');
  });

  it('puts a move in the subject and the registry change in the body', () => {
    const moved = new Map([['bob', { from: '192.168.1.10', to: '192.168.1.189' }]]);
    expect(commitMessageFor(moved, 'generated: bob active')).toBe('bob: IP 192.168.1.10 -> 192.168.1.189\n\ngenerated: bob active');
  });

  it("keeps a node's first address out of the subject", () => {
    const first = new Map([['virtuoso', { from: null, to: '192.168.1.42' }]]);
    expect(commitMessageFor(first, 'generated: virtuoso active')).toBe('generated: virtuoso active\n\nvirtuoso: first heard at 192.168.1.42');
    expect(commitMessageFor(new Map(), 'generated: virtuoso active')).toBe('generated: virtuoso active');
  });
});
