// The compiled validators are cached on disk as ajv standalone code; the
// cached ones must judge exactly like freshly compiled ones.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createValidators } from '../../reconciler/src/load/check-schema.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'fleet-ajv-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const samples: unknown[] = [
  { name: 'virtuoso', role: 'full_worker', hardware: 'mac-mini-m4-24gb', addresses: ['virtuoso.local'], status: 'active' },
  { name: 'Virtuoso', role: 'x', hardware: 'y', addresses: [], status: 'gone', modles: [], models: ['a; b', 'a; b'] },
  { name: 'x', openclaw: { enabled: 'yes', priority: 500 } },
  null,
  [],
];

function judge(validators: ReturnType<typeof createValidators>): unknown[] {
  return samples.map((s) => {
    const data = structuredClone(s);
    const ok = validators.node(data);
    return { ok, data, errors: (validators.node.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`) };
  });
}

describe('createValidators', () => {
  it('writes a cache file, loads it on the next call, and both judge alike (defaults included)', () => {
    const fresh = judge(createValidators(null));
    const first = judge(createValidators(cacheDir));
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^fleet-validators-[0-9a-f]{16}\.cjs$/);
    const cached = judge(createValidators(cacheDir));
    expect(first).toEqual(fresh);
    expect(cached).toEqual(fresh);
    expect((fresh[0] as { data: { presence: string } }).data.presence).toBe('always_on');
  });

  it('recompiles over a damaged cache file', () => {
    const dir = mkdtempSync(join(cacheDir, 'damaged-'));
    createValidators(dir);
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file as string), 'module.exports = { node: 42 };');
    expect(judge(createValidators(dir))).toEqual(judge(createValidators(null)));
  });
});
