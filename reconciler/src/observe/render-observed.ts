// `fleet observe` for a terminal: one block per node, facts first, then the
// problems a person should look at. Pure: observed data in, text out.
import type { ObservedNode } from '../schema/observed.ts';

const GB = 1e9;

function gb(bytes: number | null | undefined, digits = 0): string {
  return bytes === null || bytes === undefined ? '?' : `${(bytes / GB).toFixed(digits)} GB`;
}

function ramText(bytes: number | null): string {
  return bytes === null ? '? GB RAM' : `${Math.round(bytes / 2 ** 30)} GB RAM`;
}

function describeNode(o: ObservedNode): string[] {
  const f = o.facts;
  if (!f) return [];
  const names = f.hostnames;
  const lines: string[] = [];
  lines.push(`  names     ${names.computer_name ?? '(no ComputerName)'} / ${names.host_name ?? '(HostName not set)'} / ${names.local_host_name ?? '(no LocalHostName)'}`);
  const os = [f.os.product_name ?? 'macOS', f.os.product_version ?? '?', f.os.product_version_extra ?? '', f.os.build_version ? `(${f.os.build_version})` : ''].filter((x) => x !== '').join(' ');
  const rosetta = f.hardware.arm64_capable === true && f.hardware.architecture === 'x86_64' ? ' under Rosetta' : '';
  lines.push(`  system    ${os}, ${f.hardware.architecture ?? '?'}${rosetta}, ${f.hardware.chip ?? '?'}, ${ramText(f.hardware.ram_bytes)}, ${f.hardware.ncpu ?? '?'} CPUs${f.hardware.hw_model ? `, ${f.hardware.hw_model}` : ''}`);
  lines.push(`  disk      ${gb(f.disk.available_bytes)} free of ${gb(f.disk.total_bytes)}, models ${gb(f.disk.models_bytes, 1)}${f.ollama.partial_bytes ? `, ${gb(f.ollama.partial_bytes, 1)} in unfinished pulls` : ''}`);
  const formulae = Object.entries(f.brew.formulae).map(([n, v]) => `${n} ${v}`).join(', ');
  const casks = Object.keys(f.brew.casks).join(', ');
  lines.push(`  homebrew  ${f.brew.prefix === null ? 'not installed' : `${f.brew.prefix}; formulae: ${formulae || 'none'}; casks: ${casks || 'none'}`}`);
  const ol = f.ollama;
  const local = ol.local.up ? `up ${ol.local.version ?? ''}`.trim() : `down (${ol.local.error ?? 'no answer'})`;
  const external = ol.external.up ? `up at ${ol.external.url ?? '?'}` : `down${ol.external.url ? ` at ${ol.external.url}` : ''} (${ol.external.error ?? 'no answer'})`;
  lines.push(`  ollama    cli ${ol.cli_version ?? 'missing'}; on the node: ${local}; from Bob: ${external}`);
  const source = ol.models_source === 'disk' ? ' (from the manifests on disk)' : ol.models_source === 'none' ? ' (unknown: no Ollama answered)' : '';
  lines.push(`  models    ${ol.models.length === 0 ? 'none' : ol.models.map((m) => `${m.name} ${gb(m.size, 1)}`).join(', ')}${source}`);
  if (ol.loaded.length > 0) lines.push(`  loaded    ${ol.loaded.map((m) => `${m.name}${m.size_vram < m.size ? ' (partly on CPU)' : ''}`).join(', ')}`);
  const agent = f.launchd.ollama;
  lines.push(`  agent     ${agent.loaded ? (agent.pid !== null || agent.running === true ? `running${agent.pid !== null ? ` (pid ${agent.pid})` : ''}` : `loaded, not running (last exit ${agent.last_exit ?? '?'})`) : 'not loaded'}`);
  const files = Object.entries(f.files).map(([id, file]) => `${id} ${file === null ? 'missing' : `${file.size} B`}`).join(', ');
  lines.push(`  files     ${files}`);
  lines.push(`  crontab   ${f.crontab.lines.length === 0 ? 'empty' : f.crontab.lines.join(' | ')}`);
  lines.push(`  access    sudo ${f.sudo ? 'without password' : 'needs a password'}; ip ${f.ip ?? 'unknown'}; uid ${f.uid ?? '?'}`);
  for (const w of f.warnings ?? []) lines.push(`  warning   ${w}`);
  return lines;
}

export function renderObservedText(observed: readonly ObservedNode[]): string {
  const out: string[] = [];
  for (const o of observed) {
    const where = o.reach.address ? ` at ${o.reach.address}` : '';
    const took = o.duration_ms !== undefined ? ` in ${o.duration_ms} ms` : '';
    out.push(`${o.node}: ${o.reach.status}${where}${took}`);
    if (o.reach.status !== 'ok' || o.reach.host_key?.trusted_on_first_use) {
      if (o.reach.message) out.push(`  ${o.reach.message}`);
    }
    out.push(...describeNode(o));
    out.push('');
  }
  const ok = observed.filter((o) => o.reach.status === 'ok').length;
  out.push(`${ok} of ${observed.length} node${observed.length === 1 ? '' : 's'} observed`);
  return `${out.join('\n')}\n`;
}
