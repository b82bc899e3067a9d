// npm run bench:validate: generates a 1000-node fleet in a temporary
// directory and times `fleet validate` as a whole process (start-up, loading,
// schema and semantic checks, output), several runs, median. Target: < 1 s.
// Also how fast one file holding an alias bomb is refused (in process).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlFile } from '../src/load/parse-yaml.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODES = Number(process.env.BENCH_NODES ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGET_MS = 1000;

// A realistic mix of the catalog's hardware and roles; every node fits.
const KINDS = [
  { hardware: 'mac-mini-m4-24gb', role: 'full_worker', models: ['mistral:7b'] },
  { hardware: 'mac-mini-m4-pro-48gb', role: 'llm_worker', models: ['codestral:22b', 'qwen2.5-coder:32b'] },
  { hardware: 'mac-studio-m4-max-96gb', role: 'full_worker', models: ['llama3.1:70b'] },
  { hardware: 'mac-mini-m4-16gb', role: 'browser_node', models: [] },
];

function generateFleet(dir: string): void {
  cpSync(join(repo, 'fleet'), dir, { recursive: true });
  for (let i = 0; i < NODES; i++) {
    const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number];
    const name = `cello-${String(i).padStart(4, '0')}`;
    const models = kind.models.length > 0 ? `models:\n${kind.models.map((m) => `  - ${m}`).join('\n')}\n` : '';
    writeFileSync(join(dir, 'nodes', `${name}.yaml`), [
      '# yaml-language-server: $schema=../../schemas/node.schema.json',
      `name: ${name}`,
      `role: ${kind.role}`,
      `hardware: ${kind.hardware}`,
      'addresses:',
      `  - ${name}.local`,
      `  - 10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 200)}`,
      'status: active',
      'added: 2026-01-15',
      models,
    ].join('\n'));
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** 12 levels of ten aliases each: 10^12 values if expanded. Milliseconds to refuse it, per run. */
function timeAliasBomb(): { ms: number[]; rules: string } {
  let doc = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 12; i++) doc += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
  const ms: number[] = [];
  let rules = '';
  for (let run = 0; run <= RUNS; run++) {
    const start = process.hrtime.bigint();
    const r = parseYamlFile('fleet/nodes/bomb.yaml', doc);
    if (run > 0) ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    rules = r.problems.map((p) => p.rule).join(', ');
  }
  return { ms, rules };
}

const tmp = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
try {
  const fleetDir = join(tmp, 'fleet');
  generateFleet(fleetDir);
  const cli = join(repo, 'reconciler', 'bin', 'fleet.mjs');
  const args = [cli, 'validate', fleetDir, '--format', 'json', '--today', '2026-11-24'];
  const env = { ...process.env, FLEET_LOOPBACK_ONLY: '1' };
  const time = (argv: string[]): { ms: number; result: ReturnType<typeof spawnSync> } => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env });
    return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
  };
  const times: number[] = [];
  const startup: number[] = [];
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let run = 0; run <= RUNS; run++) {
    const t = time(args);
    last = t.result;
    if (run > 0) times.push(t.ms); // the first run warms the disk cache
    // The floor: starting the CLI with the validate command loaded (Node, its sources, commander).
    const h = time([cli, 'validate', '--help']);
    if (run > 0) startup.push(h.ms);
  }
  const out = String(last?.stdout ?? '');
  let summary = 'no JSON output';
  try {
    const parsed = JSON.parse(out) as { valid: boolean; errors: number; warnings: number };
    summary = `valid=${parsed.valid} errors=${parsed.errors} warnings=${parsed.warnings}`;
  } catch {
    summary = `unparsable output: ${out.slice(0, 200)} ${String(last?.stderr ?? '').slice(0, 500)}`;
  }
  const med = median(times);
  const bomb = timeAliasBomb();
  process.stdout.write([
    `fleet validate, ${NODES} nodes (${NODES + 3} node files, ${tmp})`,
    `  runs: ${times.length} (+1 warm-up), exit ${String(last?.status)}, ${summary}`,
    `  wall time per process: min ${Math.min(...times).toFixed(0)} ms, median ${med.toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
    `  of which starting the CLI (\`fleet validate --help\`, median): ${median(startup).toFixed(0)} ms; loading and checking the fleet: ~${(med - median(startup)).toFixed(0)} ms`,
    `  target < ${TARGET_MS} ms: ${med < TARGET_MS ? 'met' : 'MISSED'}`,
    `alias bomb (12 levels, 10^12 values if expanded), one file in process: refused (${bomb.rules || 'NOT REFUSED'}) in median ${median(bomb.ms).toFixed(2)} ms, max ${Math.max(...bomb.ms).toFixed(2)} ms`,
    '',
  ].join('\n'));
  if (last?.status !== 0 || bomb.rules !== 'alias-limit') process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
