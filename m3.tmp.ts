const dir = process.argv[2] as string;
const { compileAllSchemas } = await import('./reconciler/src/load/check-schema.ts');
const { readFleetFiles, loadFleetFromFiles } = await import('./reconciler/src/load/load-fleet.ts');
compileAllSchemas();
const read = await readFleetFiles(dir);
for (let i = 0; i < 3; i++) loadFleetFromFiles(read.files, { root: read.root, today: '2026-11-24' });
