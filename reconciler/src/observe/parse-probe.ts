// Turns the probe's sections (and Bob's own Ollama check) into ObservedFacts.
// Pure: every decision about what a command's output means is in the parse-*
// modules; this file only routes sections to them and fills the schema.
import type { ManagedFileId, ObservedFacts, ObservedFile } from '../schema/observed.ts';
import { MANAGED_FILES } from '../schema/observed.ts';
import type { ExternalOllama } from './check-ollama.ts';
import type { ProbeSection, ProbeSections } from './parse-sections.ts';
import { brewServiceStatus, parseBrewKegs } from './parse-brew.ts';
import { observeFileContent, splitHeadOutput } from './parse-files.ts';
import { parseCrontab } from './parse-crontab.ts';
import { parseLaunchctlLabel } from './parse-launchd.ts';
import { CLI_FROM_KEG, parseCurlMulti, parseManifestListing, parseOllamaCliVersion, parsePsBody, parseTagsBody, parseVersionBody } from './parse-ollama.ts';
import type { CurlResponse } from './parse-ollama.ts';
import { parseArm64Capable, parseDfPk, parseDuSk, parseIfAddr, parseInteger, parseScutilName, parseSudo, parseSwVers, parseSysctlValues, parseUname, parseWcBytes } from './parse-system.ts';
import { curlMarker, SYSCTL_NAMES } from './probe.ts';
import { AGENT_LABEL, BREW_OLLAMA_LABEL, BREW_SERVICE, MANAGED_PATHS } from '../model/mac-layout.ts';

export interface FactsResult {
  facts: ObservedFacts;
  /** The probe ran to its end marker. */
  complete: boolean;
}

const MISSING: ProbeSection = { stdout: '', stderr: '', code: null };

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0] ?? '';
}

export function factsFromProbe(sections: ProbeSections, external: ExternalOllama | null, nonce: string): FactsResult {
  const warnings: string[] = [];
  const get = (name: string): ProbeSection => {
    const s = sections.get(name);
    if (!s) warnings.push(`${name}: no output (probe cut short)`);
    else if (s.code === null) warnings.push(`${name}: did not finish`);
    return s ?? MISSING;
  };

  const sw = parseSwVers(get('os.sw_vers').stdout);
  const sysctlSection = get('hw.sysctl');
  const sysctl = parseSysctlValues(sysctlSection.stdout, sysctlSection.code, SYSCTL_NAMES);
  if (sysctlSection.code !== null && sysctlSection.code !== 0) warnings.push(`sysctl: ${firstLine(sysctlSection.stderr) || `exit ${sysctlSection.code}`}`);
  const uname = get('hw.uname');
  const arm64 = get('hw.arm64');
  const arm64Capable = parseArm64Capable(arm64.stdout, arm64.code);

  const df = parseDfPk(get('disk.df').stdout);
  const du = get('disk.models');

  const prefixText = get('brew.prefix').stdout.trim();
  const prefix = prefixText === '' ? null : prefixText;
  const kegsSection = get('brew.kegs');
  if (prefix !== null && kegsSection.code !== 0) warnings.push(`brew.kegs: ${firstLine(kegsSection.stderr) || `exit ${String(kegsSection.code)}`}`);
  const { formulae, casks } = prefix !== null ? parseBrewKegs(kegsSection.stdout) : { formulae: {}, casks: {} };
  const servicesSection = get('brew.services');
  const serviceStatus = prefix !== null ? brewServiceStatus(parseLaunchctlLabel(servicesSection.stdout, servicesSection.code, BREW_OLLAMA_LABEL, servicesSection.stderr)) : null;
  // As `brew services list` would: installed formulae with a service, and a loaded agent whatever its formula.
  const services: Record<string, string> = serviceStatus !== null && (serviceStatus !== 'none' || BREW_SERVICE in formulae) ? { [BREW_SERVICE]: serviceStatus } : {};

  const cli = get('ollama.cli');
  const cliVersion = cli.code === 0 && cli.stdout.trim() === CLI_FROM_KEG ? (formulae[BREW_SERVICE] ?? null) : cli.code === null ? null : parseOllamaCliVersion(cli.stdout, cli.stderr);
  const local = get('ollama.local');
  const responses = parseCurlMulti(local.stdout, curlMarker(nonce));
  const noAnswer: CurlResponse = { status: null, body: '', error: local.code === null ? 'did not finish' : `curl exit ${String(local.code)}` };
  const [localVersion = noAnswer, localTags = noAnswer, localPs = noAnswer] = responses;
  const version = localVersion.status === 200 ? parseVersionBody(localVersion.body) : null;
  const localUp = version !== null;
  const tagModels = localTags.status === 200 ? parseTagsBody(localTags.body) : null;
  const psModels = localPs.status === 200 ? parsePsBody(localPs.body) : null;

  let models: ObservedFacts['ollama']['models'] = [];
  let modelsSource: NonNullable<ObservedFacts['ollama']['models_source']> = 'none';
  if (tagModels) {
    models = tagModels;
    modelsSource = 'local-api';
  } else if (external?.models) {
    models = external.models;
    modelsSource = 'external-api';
  } else {
    const manifests = get('ollama.manifests');
    if (manifests.code === 0) {
      models = parseManifestListing(manifests.stdout);
      modelsSource = 'disk';
    }
  }
  const loaded = (external?.up && external.loaded) ? external.loaded : (psModels ?? []);

  const files = {} as Record<ManagedFileId, ObservedFile>;
  const fileSection = get('files');
  const contents = splitHeadOutput(fileSection.stdout, MANAGED_FILES.map((id) => MANAGED_PATHS[id]));
  for (const id of MANAGED_FILES) files[id] = observeFileContent(contents.get(MANAGED_PATHS[id]));

  const agentSection = get('launchd.ollama');
  const agent = parseLaunchctlLabel(agentSection.stdout, agentSection.code, AGENT_LABEL, agentSection.stderr);
  if (agent === null && agentSection.code !== null) warnings.push(`launchctl: ${firstLine(agentSection.stderr) || `exit ${String(agentSection.code)}`}`);

  const cron = get('cron');
  const cronLines = parseCrontab(cron.stdout, cron.code, cron.stderr);
  if (cronLines === null && cron.code !== null) warnings.push(`crontab: ${firstLine(cron.stderr) || `exit ${String(cron.code)}`}`);

  const dirs: Record<string, boolean> = {};
  for (const line of get('dirs').stdout.split(/\r?\n/)) {
    const m = /^([01]) (.+)$/.exec(line);
    if (m) dirs[`~/${m[2] ?? ''}`] = m[1] === '1';
  }

  const home = get('user.home').stdout.trim();
  const end = sections.get('end');
  const complete = end !== undefined && end.code === 0;

  const localState: ObservedFacts['ollama']['local'] = {
    up: localUp,
    ...(version ? { version } : {}),
    ...(localVersion.status !== null && localVersion.status !== 200 ? { status: localVersion.status } : {}),
    ...(!localUp && localVersion.error ? { error: localVersion.error } : {}),
  };
  const externalState: ObservedFacts['ollama']['external'] = external
    ? {
        up: external.up,
        url: external.url,
        ...(external.version ? { version: external.version } : {}),
        ...(external.error ? { error: external.error } : {}),
        ...(external.status !== undefined ? { status: external.status } : {}),
      }
    : { up: false, error: 'not checked' };

  const facts: ObservedFacts = {
    hostnames: {
      computer_name: parseScutilName(get('name.computer').stdout, get('name.computer').code),
      host_name: parseScutilName(get('name.host').stdout, get('name.host').code),
      local_host_name: parseScutilName(get('name.local').stdout, get('name.local').code),
    },
    os: {
      product_version: sw.product_version,
      build_version: sw.build_version,
      product_name: sw.product_name,
      product_version_extra: sw.product_version_extra,
    },
    hardware: {
      architecture: parseUname(uname.stdout, uname.code),
      chip: sysctl['machdep.cpu.brand_string'],
      ram_bytes: parseInteger(sysctl['hw.memsize']),
      ncpu: parseInteger(sysctl['hw.ncpu']),
      hw_model: sysctl['hw.model'],
      ...(arm64Capable !== null ? { arm64_capable: arm64Capable } : {}),
    },
    disk: {
      total_bytes: df?.total_bytes ?? null,
      available_bytes: df?.available_bytes ?? null,
      models_bytes: parseDuSk(du.stdout, du.code, du.stderr),
    },
    brew: { prefix, formulae, casks, services },
    ollama: {
      cli_version: cliVersion,
      local: localState,
      external: externalState,
      models,
      loaded,
      partial_bytes: parseWcBytes(get('ollama.partial').stdout),
      models_source: modelsSource,
    },
    files,
    launchd: { ollama: agent ? { ...agent, running: agent.pid !== null } : { loaded: false, pid: null, last_exit: null, running: false } },
    crontab: { lines: cronLines ?? [] },
    sudo: parseSudo(get('sudo').code),
    ip: parseIfAddr(get('net.ip').stdout, get('net.ip').code),
    uid: parseInteger(firstLine(get('user.id').stdout)),
    home: home === '' ? null : home,
    dirs,
    ...(warnings.length > 0 ? { warnings: [...new Set(warnings)] } : {}),
  };
  return { facts, complete };
}
