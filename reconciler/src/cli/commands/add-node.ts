// `fleet add-node NAME`: writes fleet/nodes/NAME.yaml, the file a pull request
// adding a Mac consists of. The would-be fleet is validated first; a name or
// a node that breaks the rules is refused and nothing is written.
import { randomBytes } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { FleetError } from '../../errors.ts';
import { formatGb } from '../../fit/estimate.ts';
import { normalizeModelRef, resolveNode } from '../../load/desired.ts';
import type { FleetFile } from '../../load/load-fleet.ts';
import { NODE_NAME } from '../../schema/common.ts';
import type { NodeDoc } from '../../schema/fleet.ts';
import { formatDate } from '../../validate/dates.ts';
import type { Problem } from '../../validate/problem.ts';
import { parseTodayFlag } from './validate.ts';

interface AddNodeFlags {
  hardware: string;
  role: string;
  models?: string;
  roleModels?: 'keep' | 'replace';
  address: string[];
  fleet: string;
  status: 'planned' | 'active';
  presence: 'always_on' | 'roaming';
  displayName?: string;
  notes?: string;
  today?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

function problemKey(p: Problem): string {
  // Messages of existing problems may mention the new node (suggested names); positions do not move.
  return `${p.severity}|${p.rule}|${p.file}|${p.line}|${p.col}`;
}

function printProblems(problems: readonly Problem[]): void {
  for (const p of problems) process.stderr.write(`${p.file}:${p.line}:${p.col} ${p.severity} ${p.rule}: ${p.message}\n`);
}

/** Creates `path` with `text` all at once, failing if it exists (temp file + hard link). */
async function writeNewFileAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FleetError('invalid-input', `${path} already exists`);
    throw err;
  } finally {
    await unlink(temp);
  }
}

export function register(program: Command): void {
  program
    .command('add-node')
    .description('write a new, valid, commented node file (the pull request that adds a Mac); refuses names and nodes that break the rules')
    .argument('<name>', 'lowercase hostname, e.g. virtuoso')
    .requiredOption('--hardware <id>', 'hardware id from fleet/catalog/hardware.yaml, e.g. mac-mini-m4-24gb')
    .requiredOption('--role <role>', 'role from fleet/roles/: hq, llm_worker, full_worker, browser_node')
    .option('--models <list>', 'extra models beyond the role\'s, comma-separated, e.g. codestral:22b')
    .addOption(new Option('--role-models <mode>', 'replace: --models is the node\'s whole list, the role\'s base models are not pulled').choices(['keep', 'replace']))
    .option('--address <address>', 'address Bob reaches it at (repeatable, or comma-separated); default <name>.local', collect, [])
    .option('--fleet <dir>', 'fleet directory', 'fleet')
    .addOption(new Option('--status <status>', 'planned (not provisioned yet) or active').choices(['planned', 'active']).default('planned'))
    .addOption(new Option('--presence <presence>', 'roaming for a laptop that is sometimes away').choices(['always_on', 'roaming']).default('always_on'))
    .option('--display-name <name>', 'ComputerName, when not the capitalised name')
    .option('--notes <text>', 'one line for people')
    .option('--today <date>', 'date written as `added` and used for the name-reuse rule, YYYY-MM-DD (default: today)')
    .action(async (name: string, flags: AddNodeFlags) => {
      const today = parseTodayFlag(flags.today) ?? formatDate(new Date());
      // Checked before it becomes a path: the name is also the file name.
      if (!new RegExp(NODE_NAME).test(name)) {
        const lower = name.toLowerCase();
        const hint = new RegExp(NODE_NAME).test(lower) ? ` Use "${lower}": hostnames are lowercase.` : ' Use a lowercase hostname: a letter, then letters, digits or "-" (e.g. virtuoso).';
        throw new FleetError('invalid-input', `${JSON.stringify(name)} is not a valid node name.${hint}`);
      }
      const { loadFleetFromFiles, readFleetFiles } = await import('../../load/load-fleet.ts');
      const { renderNodeFile } = await import('../../load/node-file.ts');
      const { fitNode } = await import('../../fit/fit-node.ts');
      const read = await readFleetFiles(flags.fleet);
      const display = read.root === '' ? `nodes/${name}.yaml` : `${read.root}/nodes/${name}.yaml`;
      const target = resolve(flags.fleet, 'nodes', `${name}.yaml`);
      if (read.files.some((f) => f.path === display)) throw new FleetError('invalid-input', `${display} already exists; pick another name or edit that file`);

      const models = flags.models === undefined ? undefined : collect(flags.models, []);
      const node: NodeDoc = {
        name,
        role: flags.role,
        hardware: flags.hardware,
        addresses: flags.address.length > 0 ? flags.address : [`${name}.local`],
        presence: flags.presence,
        status: flags.status,
        added: today,
        ...(flags.displayName !== undefined ? { display_name: flags.displayName } : {}),
        ...(flags.roleModels === 'replace' ? { role_models: 'replace' as const } : {}),
        ...(models !== undefined && (models.length > 0 || flags.roleModels === 'replace') ? { models } : {}),
        ...(flags.notes !== undefined ? { notes: flags.notes } : {}),
      };
      const before = loadFleetFromFiles(read.files, { root: read.root, today });
      const context = before.partial ?? before.desired;
      const text = renderNodeFile(node, {
        hardware: context?.hardware[node.hardware],
        role: context?.roles[node.role],
        headline: `added with \`fleet add-node\` on ${today}.`,
      });
      const withNode: FleetFile[] = [...read.files, { path: display, text }];
      const after = loadFleetFromFiles(withNode, { root: read.root, today });
      const old = new Set(before.problems.map(problemKey));
      const introduced = after.problems.filter((p) => !old.has(problemKey(p)));
      const newErrors = introduced.filter((p) => p.severity === 'error');
      if (newErrors.length > 0) {
        printProblems(introduced);
        throw new FleetError('invalid-fleet', `refusing to add ${name}: the fleet would not validate (${newErrors.length} ${newErrors.length === 1 ? 'error' : 'errors'} above). Nothing was written.`);
      }
      printProblems(introduced);
      const existing = before.problems.filter((p) => p.severity === 'error').length;
      if (existing > 0) process.stderr.write(`note: the fleet already had ${existing} ${existing === 1 ? 'error' : 'errors'} before this node; run \`fleet validate ${flags.fleet}\`.\n`);

      await mkdir(join(resolve(flags.fleet), 'nodes'), { recursive: true });
      await writeNewFileAtomically(target, text);
      process.stdout.write(`wrote ${display}\n`);
      const desired = after.partial;
      const doc = desired?.nodes.find((n) => n.name === name);
      if (desired && doc) {
        const resolved = resolveNode(desired, doc);
        if (resolved.hardware && resolved.role.services.ollama) {
          const fit = fitNode({ name, hardware_id: node.hardware, hardware: resolved.hardware, models: resolved.models, ollama_env: resolved.ollama_env }, desired.models, desired.settings.memory);
          process.stdout.write(`fits: ${fit.worst_case.map((m) => m.model).join(' + ') || 'no models'} need ~${formatGb(fit.worst_case_gb)} GB of ~${formatGb(fit.usable_gb)} GB usable (headroom ~${formatGb(fit.headroom_gb)} GB); models: ${resolved.models.map(normalizeModelRef).join(', ') || 'none'}\n`);
        }
      }
      process.stdout.write(`next: review ${display}, commit it on a branch and open a pull request; CI runs \`fleet validate\`.\n`);
      process.exitCode = 0;
    });
}
