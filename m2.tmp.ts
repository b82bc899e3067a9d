import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
const dir = mkdtempSync('/tmp/fb-') + '/fleet';
cpSync('fleet', dir, { recursive: true });
for (let i = 0; i < 1000; i++) {
  const name = `cello-${String(i).padStart(4, '0')}`;
  writeFileSync(`${dir}/nodes/${name}.yaml`, `name: ${name}\nrole: full_worker\nhardware: mac-mini-m4-24gb\naddresses:\n  - ${name}.local\n  - 10.0.${i >> 8}.${i & 255}\nstatus: active\nmodels:\n  - mistral:7b\n`);
}
const cpu = () => process.cpuUsage().user / 1000;
const { compileAllSchemas } = await import('./reconciler/src/load/check-schema.ts');
const { loadFleet, readFleetFiles, loadFleetFromFiles } = await import('./reconciler/src/load/load-fleet.ts');
let t = cpu(); compileAllSchemas(); console.log('compile', cpu() - t);
t = cpu(); const read = await readFleetFiles(dir); console.log('read', cpu() - t);
t = cpu(); const r = loadFleetFromFiles(read.files, { root: read.root, today: '2026-11-24' }); console.log('loadFromFiles', cpu() - t, r.problems.length);
t = cpu(); const r2 = loadFleetFromFiles(read.files, { root: read.root, today: '2026-11-24' }); console.log('loadFromFiles again', cpu() - t, r2.problems.length);
console.log(dir);
