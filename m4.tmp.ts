const dir = process.argv[2] as string;
const cpu = () => process.cpuUsage().user / 1000;
const { compileAllSchemas, checkSchema } = await import('./reconciler/src/load/check-schema.ts');
const { parseYamlFile } = await import('./reconciler/src/load/parse-yaml.ts');
const { readFleetFiles, loadFleetFromFiles } = await import('./reconciler/src/load/load-fleet.ts');
let t = cpu(); compileAllSchemas(); console.log('compile', (cpu() - t).toFixed(0));
t = cpu(); const read = await readFleetFiles(dir); console.log('read', (cpu() - t).toFixed(0));
const nodes = read.files.filter((f) => f.path.includes('/nodes/'));
for (let r = 0; r < 2; r++) {
  t = cpu(); const parsed = nodes.map((f) => parseYamlFile(f.path, f.text)); const p = cpu() - t;
  t = cpu(); for (const x of parsed) checkSchema('node', x.source!); const s = cpu() - t;
  t = cpu(); loadFleetFromFiles(read.files, { root: read.root, today: '2026-11-24' }); const all = cpu() - t;
  console.log({ parse: p.toFixed(0), schema: s.toFixed(0), all: all.toFixed(0) });
}
