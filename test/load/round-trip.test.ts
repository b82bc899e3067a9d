// "Valid files stay valid after a round trip": a node file rendered the way
// `fleet add-node` writes it reads back as the same node, and every fleet
// file re-serialised by the YAML library loads as the same fleet.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkSchema } from '../../reconciler/src/load/check-schema.ts';
import { loadFleetFromFiles, readFleetFiles } from '../../reconciler/src/load/load-fleet.ts';
import type { FleetFile } from '../../reconciler/src/load/load-fleet.ts';
import { renderNodeFile } from '../../reconciler/src/load/node-file.ts';
import { parseYamlFile } from '../../reconciler/src/load/parse-yaml.ts';
import type { NodeDoc } from '../../reconciler/src/schema/fleet.ts';

const repo = `${import.meta.dirname}/../..`;
let files: FleetFile[];
beforeAll(async () => {
  files = (await readFleetFiles('fleet', { cwd: repo })).files;
});

const hostname = fc.stringMatching(/^[a-z]([a-z0-9-]{0,19}[a-z0-9])?$/);
// Node names and DNS labels do not end in "-".
const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/);
const address = fc.oneof(
  label.map((h) => `${h}.local`),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
  fc.tuple(label, label).map(([a, b]) => `${a}.${b}.ts.net`),
);
const modelRef = fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/), fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/), { nil: undefined }))
  .map(([n, t]) => (t === undefined ? n : `${n}:${t}`));
const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
// eslint-disable-next-line no-control-regex -- notes may not hold control characters
const oneLine = fc.string({ maxLength: 60 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));

const nodeDoc: fc.Arbitrary<NodeDoc> = fc.record({
  name: hostname,
  display_name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 '._-]{0,20}$/),
  role: fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
  hardware: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
  addresses: fc.uniqueArray(address, { minLength: 1, maxLength: 4 }),
  presence: fc.constantFrom('always_on' as const, 'roaming' as const),
  status: fc.constantFrom('planned' as const, 'active' as const, 'retired' as const),
  added: date,
  retired: date,
  models: fc.uniqueArray(modelRef, { maxLength: 4 }),
  ollama_env: fc.record({ OLLAMA_MAX_LOADED_MODELS: fc.integer({ min: 1, max: 8 }), OLLAMA_CONTEXT_LENGTH: fc.integer({ min: 512, max: 131072 }), OLLAMA_KV_CACHE_TYPE: fc.constantFrom('f16' as const, 'q8_0' as const) }, { requiredKeys: [] }),
  openclaw: fc.record({ priority: fc.integer({ min: 0, max: 100 }), enabled: fc.boolean(), task_types: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), { maxLength: 3 }) }, { requiredKeys: [] }),
  notes: oneLine,
}, { requiredKeys: ['name', 'role', 'hardware', 'addresses', 'status', 'presence'] });

describe('round trips', () => {
  it('a node file written like add-node writes it reads back as the same node', () => {
    fc.assert(fc.property(nodeDoc, (doc) => {
      const parsed = parseYamlFile(`fleet/nodes/${doc.name}.yaml`, renderNodeFile(doc));
      expect(parsed.problems).toEqual([]);
      if (!parsed.source) throw new Error('no source');
      expect(checkSchema('node', parsed.source)).toEqual([]);
      expect(parsed.source.data).toEqual(doc);
    }), { numRuns: 300 });
  });

  it('every file of fleet/ re-serialised by the YAML library loads as the same fleet', () => {
    const original = loadFleetFromFiles(files, { today: '2026-11-24' });
    const rewritten = files.map((f) => {
      if (!f.path.endsWith('.yaml')) return f;
      const parsed = parseYamlFile(f.path, f.text);
      return { path: f.path, text: stringify(parsed.source?.data) };
    });
    const again = loadFleetFromFiles(rewritten, { today: '2026-11-24' });
    expect(again.desired).not.toBeNull();
    expect(again.desired).toEqual(original.desired);
  });
});
