// `fleet verify [NODE...]`: the guide's "Verify from Bob" (section 5), as it
// works on a real Mac, with a verdict per check; exit 1 when any failed.
import type { Command } from 'commander';
import { Option } from 'commander';
import { FleetError } from '../../errors.ts';
import { validateGenerated } from '../../generate/validate-generated.ts';
import { readGenerated } from '../../generate/write-generated.ts';
import type { GeneratedFiles } from '../../generate/generate.ts';
import { createGuard, guardedFetch, loopbackOnly } from '../../net/guard.ts';
import { createConnectionPool } from '../../observe/connections.ts';
import { selectNodes } from '../../observe/observe-fleet.ts';
import { readTargets } from '../../observe/read-targets.ts';
import type { HeartbeatRecord } from '../../schema/observed.ts';
import type { Probe } from '../../verify/checks.ts';
import { verifyNode, type NodeVerdict } from '../../verify/verify-node.ts';
import { registryUrlOf } from '../plan-inputs.ts';
import { loadValidFleet } from './observe.ts';
import { defaultFleetDir, defaultGeneratedDir } from '../repo-root.ts';

interface VerifyFlags {
  fleet: string;
  targets?: string;
  generated: string;
  registry?: string;
  format: 'text' | 'json';
  timeout: string;
}

async function readGeneratedFiles(dir: string): Promise<Probe<{ files: GeneratedFiles; from: string }>> {
  const read = await readGenerated(dir);
  if (!read.nodes_registry || !read.openclaw_workers) return { ok: false, error: `${dir} has no nodes_registry.json and openclaw_workers.json` };
  const files = { nodes_registry: read.nodes_registry, openclaw_workers: read.openclaw_workers } as GeneratedFiles;
  const problems = validateGenerated(files);
  if (problems.length > 0) return { ok: false, error: `${dir}: ${problems[0] ?? ''}` };
  return { ok: true, value: { files, from: dir } };
}

async function readHeartbeats(registryUrl: string, doFetch: typeof fetch, timeoutMs: number): Promise<Probe<{ records: HeartbeatRecord[]; from: string }>> {
  const url = `${registryUrl.replace(/\/+$/, '')}/api/heartbeats`;
  try {
    const res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, error: `${url} answered HTTP ${res.status}` };
    const body = (await res.json()) as { heartbeats?: HeartbeatRecord[] };
    return { ok: true, value: { records: Array.isArray(body.heartbeats) ? body.heartbeats : [], from: url } };
  } catch (err) {
    return { ok: false, error: `${url}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const MARK = { pass: 'pass', fail: 'FAIL', skip: 'skip' } as const;

/** The report for people: one block per node, a line per check, the fix under a failure. */
export function renderVerdicts(verdicts: readonly NodeVerdict[]): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    lines.push(`${v.node}${v.address ? ` (at ${v.address})` : ''}`);
    for (const c of v.checks) {
      lines.push(`  ${MARK[c.verdict]}  ${c.id.padEnd(11)} ${c.detail}`);
      if (c.verdict === 'fail' && c.fix) lines.push(`        ${''.padEnd(11)} fix: ${c.fix}`);
    }
  }
  const all = verdicts.flatMap((v) => v.checks);
  const count = (k: 'pass' | 'fail' | 'skip'): number => all.filter((c) => c.verdict === k).length;
  lines.push(`verify: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}

async function runVerify(names: string[], flags: VerifyFlags): Promise<void> {
  const desired = await loadValidFleet(flags.fleet);
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new FleetError('invalid-input', `--timeout ${flags.timeout}: give seconds, e.g. --timeout 60`);
  const targets = flags.targets ? await readTargets(flags.targets) : undefined;
  const selected = selectNodes(desired, names).filter((n) => desired.nodes.find((d) => d.name === n)?.status === 'active');
  if (selected.length === 0) throw new FleetError('not-found', 'no active node to verify (planned and retired nodes are not verified)');
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const pool = createConnectionPool(desired, { ...(targets ? { targets } : {}), guard });
  const registryUrl = flags.registry ?? registryUrlOf(desired, targets);
  const [generated, heartbeats] = await Promise.all([
    readGeneratedFiles(flags.generated),
    readHeartbeats(registryUrl, guardedFetch(guard), 10_000),
  ]);
  const verdicts: NodeVerdict[] = [];
  try {
    for (const node of selected) verdicts.push(await verifyNode({ desired, pool, guard, generated, heartbeats, now: () => new Date(), timeoutMs }, node));
  } finally {
    pool.close();
  }
  process.stdout.write(flags.format === 'json' ? `${JSON.stringify(verdicts, null, 2)}\n` : renderVerdicts(verdicts));
  process.exitCode = verdicts.some((v) => v.checks.some((c) => c.verdict === 'fail')) ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command('verify')
    .argument('[node...]', 'nodes to verify (default: every active node)')
    .description("the guide's \"Verify from Bob\": SSH with the pinned key, ollama list by its absolute path, /api/tags, a one-token generate and an embedding, the registry entry, the heartbeat's age, the OpenClaw worker; exit 1 when a check fails")
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--targets <file>', 'where to reach the nodes instead of fleet/ (a simulated fleet\'s targets.json)')
    .option('--generated <dir>', 'Bob\'s generated files', defaultGeneratedDir())
    .option('--registry <url>', 'Bob\'s registry API (default: the targets\' Bob, else fleet.yaml\'s)')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .option('--timeout <seconds>', 'per request to a node\'s Ollama (a cold model loads first)', '60')
    .action(async (nodes: string[], flags: VerifyFlags) => { await runVerify(nodes, flags); });
}
