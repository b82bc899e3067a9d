// `fleet add-node NAME`: writes fleet/nodes/NAME.yaml, the file a pull request
// adding a Mac consists of. The would-be fleet is validated first; a name or
// a node that breaks the rules is refused and nothing is written.
import { randomBytes } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { stringify } from 'yaml';
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
import { defaultFleetDir } from '../repo-root.ts';

interface AddNodeFlags {
  hardware?: string;
  detect?: string;
  targets?: string;
  expect?: string;
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

interface DetectedChoice {
  id: string;
  why: string;
  /** catalog/hardware.yaml with the new entry, when one was written. */
  catalogText?: string;
}

/** --detect: look at the Mac, pick its catalog entry or append a new one to the catalog's text. */
async function detectHardwareFor(name: string, flags: AddNodeFlags, files: readonly FleetFile[], root: string, today: string): Promise<DetectedChoice> {
  const address = flags.detect ?? '';
  const { loadFleetFromFiles } = await import('../../load/load-fleet.ts');
  const { detectMac } = await import('../../catalog/detect-hardware.ts');
  const { chooseHardware, detectedHardwareOf } = await import('../../catalog/hardware-facts.ts');
  const { createGuard, loopbackOnly } = await import('../../net/guard.ts');
  const { readTargets } = await import('../../observe/read-targets.ts');
  const fleet = loadFleetFromFiles(files, { root, today }).partial;
  if (fleet === null) throw new FleetError('invalid-fleet', `${flags.fleet} does not load far enough to connect (fleet.yaml and both catalogs are needed); run \`fleet validate ${flags.fleet}\``);
  const targets = flags.targets !== undefined ? await readTargets(flags.targets) : undefined;
  const seen = await detectMac(fleet, name, address, { guard: createGuard({ loopbackOnly: loopbackOnly() }), ...(targets !== undefined ? { targets } : {}), ...(flags.expect !== undefined ? { expectFingerprint: flags.expect } : {}) });
  if (seen.unpinnedKey !== undefined) {
    process.stderr.write(`note: ${address}'s host key ${seen.unpinnedKey.fingerprint} is not pinned; it was trusted for this read-only look. Check it on the Mac (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then pin it with \`fleet trust ${name} --expect ${seen.unpinnedKey.fingerprint}\`.\n`);
  }
  const hw = detectedHardwareOf(seen.facts);
  if ('missing' in hw) throw new FleetError('unreachable', `${address} did not say everything needed to pick its hardware entry: ${hw.missing.join(', ')}. Use --hardware.`);
  const choice = chooseHardware(hw.detected, fleet.hardware, today);
  if (!choice.ok) throw new FleetError('internal', 'no hardware choice');
  process.stdout.write(`detected on ${seen.address}: ${choice.why}\n`);
  if (!choice.created) return { id: choice.id, why: choice.why };
  const catalogPath = root === '' ? 'catalog/hardware.yaml' : `${root}/catalog/hardware.yaml`;
  const file = files.find((f) => f.path === catalogPath);
  const before = file === undefined ? '' : typeof file.text === 'string' ? file.text : new TextDecoder().decode(file.text);
  const body = stringify({ [choice.id]: choice.hardware }, { lineWidth: 0 }).trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
  return { id: choice.id, why: choice.why, catalogText: `${before.replace(/\n*$/, '\n')}\n  # --- Detected by \`fleet add-node ${name} --detect\` on ${today} ---\n${body}\n` };
}

export function register(program: Command): void {
  program
    .command('add-node')
    .description('write a new, valid, commented node file (the pull request that adds a Mac); refuses names and nodes that break the rules')
    .argument('<name>', 'lowercase hostname, e.g. virtuoso')
    .option('--hardware <id>', 'hardware id from fleet/catalog/hardware.yaml, e.g. mac-mini-m4-24gb (or --detect)')
    .option('--detect <address>', 'read the Mac\'s chip, memory, disk and model id over SSH (observe\'s read-only probe) and pick or write its hardware entry')
    .option('--targets <file>', 'with --detect: reach the Mac as this targets.json says (the simulated fleet)')
    .option('--expect <fingerprint>', 'with --detect: log in only if the host key has this fingerprint (SHA256:..., read on the Mac)')
    .requiredOption('--role <role>', 'role from fleet/roles/: hq, llm_worker, full_worker, browser_node')
    .option('--models <list>', 'extra models beyond the role\'s, comma-separated, e.g. codestral:22b')
    .addOption(new Option('--role-models <mode>', 'replace: --models is the node\'s whole list, the role\'s base models are not pulled').choices(['keep', 'replace']))
    .option('--address <address>', 'address Bob reaches it at (repeatable, or comma-separated); default <name>.local', collect, [])
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
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

      let files: FleetFile[] = read.files;
      let hardwareId = flags.hardware;
      let catalogWrite: { path: string; text: string } | undefined;
      if (flags.detect !== undefined) {
        const detected = await detectHardwareFor(name, flags, read.files, read.root, today);
        if (hardwareId !== undefined && hardwareId !== detected.id) {
          throw new FleetError('invalid-input', `--hardware ${hardwareId}, but ${flags.detect} is ${detected.why}. Nothing was written: drop --hardware to use what was detected, or check the address.`);
        }
        hardwareId = detected.id;
        if (detected.catalogText !== undefined) {
          const catalogPath = read.root === '' ? 'catalog/hardware.yaml' : `${read.root}/catalog/hardware.yaml`;
          files = read.files.map((f) => (f.path === catalogPath ? { path: f.path, text: detected.catalogText ?? '' } : f));
          catalogWrite = { path: resolve(flags.fleet, 'catalog', 'hardware.yaml'), text: detected.catalogText };
        }
      }
      if (hardwareId === undefined) throw new FleetError('invalid-input', 'say which Mac it is: --hardware ID (from fleet/catalog/hardware.yaml), or --detect ADDRESS to read it from the Mac');

      const models = flags.models === undefined ? undefined : collect(flags.models, []);
      const node: NodeDoc = {
        name,
        role: flags.role,
        hardware: hardwareId,
        addresses: flags.address.length > 0 ? flags.address : flags.detect !== undefined ? [flags.detect] : [`${name}.local`],
        presence: flags.presence,
        status: flags.status,
        added: today,
        ...(flags.displayName !== undefined ? { display_name: flags.displayName } : {}),
        ...(flags.roleModels === 'replace' ? { role_models: 'replace' as const } : {}),
        ...(models !== undefined && (models.length > 0 || flags.roleModels === 'replace') ? { models } : {}),
        ...(flags.notes !== undefined ? { notes: flags.notes } : {}),
      };
      const before = loadFleetFromFiles(read.files, { root: read.root, today });
      const withCatalog = loadFleetFromFiles(files, { root: read.root, today });
      const context = withCatalog.partial ?? withCatalog.desired;
      const text = renderNodeFile(node, {
        hardware: context?.hardware[node.hardware],
        role: context?.roles[node.role],
        headline: `added with \`fleet add-node\` on ${today}.`,
      });
      const withNode: FleetFile[] = [...files, { path: display, text }];
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
      if (catalogWrite !== undefined) {
        await writeFileAtomic(catalogWrite.path, catalogWrite.text);
        process.stdout.write(`wrote ${read.root === '' ? '' : `${read.root}/`}catalog/hardware.yaml (new entry ${hardwareId})\n`);
      }
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
