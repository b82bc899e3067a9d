// `fleet catalog add-model NAME --from NODE`: the catalog entry the RAM-fit
// estimate needs, read from a node that has the model (its Ollama's
// /api/show and /api/tags, through the official client and the loopback
// guard), written to catalog/models.yaml. Works on a fleet that does not
// validate yet: the missing entry is usually why.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Ollama } from 'ollama';
import writeFileAtomic from 'write-file-atomic';
import { Document, isScalar, parse, visit } from 'yaml';
import { modelFactsFromShow, type ShowAnswer } from '../../catalog/model-facts.ts';
import { FleetError } from '../../errors.ts';
import { replaceYamlValue } from '../../import/write-import.ts';
import { normalizeModelRef } from '../../load/desired.ts';
import { loadFleet } from '../../load/load-fleet.ts';
import { createGuard, guardedFetch, loopbackOnly } from '../../net/guard.ts';
import { resolveTargets } from '../../observe/connections.ts';
import { readTargets } from '../../observe/read-targets.ts';
import { MODEL_REF } from '../../schema/common.ts';
import type { ModelFacts } from '../../schema/fleet.ts';
import { defaultFleetDir } from '../repo-root.ts';

interface AddModelFlags {
  from: string;
  fleet: string;
  targets?: string;
  replace?: boolean;
}

/** `  key:` and the facts under it, as catalog/models.yaml writes entries. */
function entryText(key: string, facts: ModelFacts): string {
  const doc = new Document(facts);
  visit(doc, { Seq(_, seq) { if (seq.items.every((i) => isScalar(i))) seq.flow = true; } });
  const body = doc.toString({ lineWidth: 0 }).trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
  return `  ${key}:\n${body}\n`;
}

/** Facts the entry has and the node contradicts; and facts only the node has (e.g. family on an older entry). */
function differences(a: ModelFacts, b: ModelFacts): { conflicts: string[]; additions: string[] } {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof ModelFacts)[];
  const differing = keys.filter((k) => k !== 'notes' && k !== 'digest' && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return {
    conflicts: differing.filter((k) => a[k] !== undefined).map((k) => `${k} ${JSON.stringify(a[k])} -> ${JSON.stringify(b[k] ?? null)}`),
    additions: differing.filter((k) => a[k] === undefined).map((k) => `${k} ${JSON.stringify(b[k])}`),
  };
}

async function runAddModel(name: string, flags: AddModelFlags): Promise<void> {
  if (!new RegExp(MODEL_REF).test(name)) throw new FleetError('invalid-input', `${JSON.stringify(name)} is not a model name (name[:tag], lowercase)`);
  const key = normalizeModelRef(name);
  const loaded = await loadFleet(flags.fleet);
  const fleet = loaded.partial;
  if (fleet === null) throw new FleetError('invalid-fleet', `${flags.fleet} does not load far enough (fleet.yaml and both catalogs are needed); run \`fleet validate ${flags.fleet}\``);
  if (!fleet.nodes.some((n) => n.name === flags.from)) {
    throw new FleetError('not-found', `no node named ${flags.from} in ${flags.fleet}/nodes (nodes: ${fleet.nodes.map((n) => n.name).join(', ') || 'none'})`);
  }
  const targets = flags.targets !== undefined ? await readTargets(flags.targets) : undefined;
  const target = resolveTargets(fleet, targets, { readKey: () => Buffer.alloc(0) }).get(flags.from);
  if (target === undefined) throw new FleetError('not-found', `${flags.from} is not in the targets file ${flags.targets ?? ''}`.trim());
  const guard = createGuard({ loopbackOnly: loopbackOnly() });
  const timeout = (fleet.settings.ssh.connect_timeout_s ?? 5) * 1000 * 6;
  const client = new Ollama({ host: target.ollamaUrl, fetch: (input, init) => guardedFetch(guard)(input, { ...init, signal: AbortSignal.timeout(timeout) }) });

  let show: ShowAnswer;
  let size: number | undefined;
  try {
    show = (await client.show({ model: name })) as unknown as ShowAnswer;
    const tags = await client.list();
    size = tags.models.find((m) => normalizeModelRef(m.name) === key || normalizeModelRef(m.model) === key)?.size;
  } catch (err) {
    const e = err as { status_code?: number; error?: string; message?: string };
    if (e.status_code === 404) throw new FleetError('not-found', `${flags.from} (${target.ollamaUrl}) has no model ${name}: ${e.error ?? ''}. Pull it there first (ollama pull ${name}), or name a node that has it.`.replace(': .', '.'));
    throw new FleetError('unreachable', `cannot ask ${flags.from}'s Ollama at ${target.ollamaUrl} about ${name}: ${e.error ?? e.message ?? String(err)}`, { cause: err });
  }
  const result = modelFactsFromShow(show, size);
  if (result.facts === null) {
    throw new FleetError('invalid-input', `${flags.from}'s Ollama did not say everything the fit estimate needs about ${name}; missing: ${result.missing.join(', ')}. Nothing was written; add the entry by hand (see catalog/models.yaml's header).`);
  }
  const facts = result.facts;
  const file = join(flags.fleet, 'catalog', 'models.yaml');
  const text = await readFile(file, 'utf8');
  const existing = fleet.models[key];
  for (const line of result.sources) process.stdout.write(`  ${line}\n`);
  if (existing !== undefined) {
    const { conflicts, additions } = differences(existing, facts);
    if ((flags.replace !== true && conflicts.length === 0) || conflicts.length + additions.length === 0) {
      const more = additions.length === 0 ? '' : ` (${flags.from} also says ${additions.join(', ')}: --replace writes it)`;
      process.stdout.write(`${key} is already in ${file} with these facts; nothing to change${more}\n`);
      process.exitCode = 0;
      return;
    }
    if (flags.replace !== true) {
      throw new FleetError('invalid-input', `${key} is already in ${file} and ${flags.from} says otherwise: ${conflicts.join(', ')}. Nothing was written; run again with --replace to take ${flags.from}'s facts.`);
    }
    const diff = [...conflicts, ...additions];
    const writtenKey = Object.keys((parse(text) as { models: Record<string, unknown> }).models).find((k) => normalizeModelRef(k) === key) ?? key;
    const merged: ModelFacts = { ...facts, ...(existing.digest !== undefined ? { digest: existing.digest } : {}), ...(existing.notes !== undefined ? { notes: existing.notes } : {}) };
    await writeFileAtomic(file, replaceYamlValue(text, ['models', writtenKey], merged));
    process.stdout.write(`replaced ${key} in ${file} (${diff.join(', ')})\n`);
  } else {
    await writeFileAtomic(file, `${text.replace(/\n*$/, '\n')}${entryText(key, facts)}`);
    process.stdout.write(`added ${key} to ${file} (from ${flags.from}, ${target.ollamaUrl})\n`);
  }
  process.stdout.write(`next: \`fleet validate ${flags.fleet}\` checks it fits where it is assigned; commit ${file} with the change that uses it.\n`);
  process.exitCode = 0;
}

export function register(program: Command): void {
  const catalog = program.command('catalog').description('fill the catalogs from the Macs themselves');
  catalog
    .command('add-model')
    .description('write a model\'s catalog entry (size, layers, KV heads, head size, context, family) from a node\'s Ollama /api/show')
    .argument('<name>', 'model reference, e.g. qwen2.5-coder:32b')
    .requiredOption('--from <node>', 'a node of the fleet that has the model pulled')
    .option('--fleet <dir>', 'fleet directory', defaultFleetDir())
    .option('--targets <file>', 'reach the node as this targets.json says (the simulated fleet)')
    .option('--replace', 'overwrite an existing entry whose facts differ')
    .action(async (name: string, flags: AddModelFlags) => { await runAddModel(name, flags); });
}
