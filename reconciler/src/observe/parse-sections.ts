// Splits the probe's output back into its sections. The probe prints, on
// stdout, `\n<marker> <name>\n` before a command and `\n<marker> = <exit>\n`
// after it, and the same begin marker on stderr; the marker carries a random
// nonce so file contents cannot forge a section. A section whose end marker
// never came (the probe was cut short) has code null.

export interface ProbeSection {
  stdout: string;
  stderr: string;
  /** Exit status of the section's command; null when the section did not finish. */
  code: number | null;
}

export type ProbeSections = Map<string, ProbeSection>;

export function probeMarker(nonce: string): string {
  return `@@fleet-probe-${nonce}`;
}

function splitStderr(stderr: string, marker: string): Map<string, string> {
  const out = new Map<string, string>();
  const begin = `\n${marker} `;
  let pos = stderr.indexOf(begin);
  while (pos !== -1) {
    const nameStart = pos + begin.length;
    const nameEnd = stderr.indexOf('\n', nameStart);
    if (nameEnd === -1) break;
    const name = stderr.slice(nameStart, nameEnd);
    const next = stderr.indexOf(begin, nameEnd);
    out.set(name, stderr.slice(nameEnd + 1, next === -1 ? undefined : next));
    pos = next;
  }
  return out;
}

export function splitProbeOutput(stdout: string, stderr: string, nonce: string): ProbeSections {
  const marker = probeMarker(nonce);
  const begin = `\n${marker} `;
  const end = `\n${marker} = `;
  const errs = splitStderr(stderr, marker);
  const sections: ProbeSections = new Map();
  let pos = stdout.indexOf(begin);
  while (pos !== -1) {
    const nameStart = pos + begin.length;
    const nameEnd = stdout.indexOf('\n', nameStart);
    if (nameEnd === -1) break;
    const name = stdout.slice(nameStart, nameEnd);
    if (name.startsWith('= ')) {
      // A stray end marker (its begin was cut): skip it.
      pos = stdout.indexOf(begin, nameEnd);
      continue;
    }
    const bodyStart = nameEnd + 1;
    const endAt = stdout.indexOf(end, nameEnd);
    const nextBegin = stdout.indexOf(begin, nameEnd);
    if (endAt === -1 || (nextBegin !== -1 && nextBegin < endAt && !stdout.startsWith(end, nextBegin))) {
      // Cut short: keep what arrived, mark unfinished.
      sections.set(name, { stdout: stdout.slice(bodyStart, nextBegin === -1 ? undefined : nextBegin), stderr: errs.get(name) ?? '', code: null });
      pos = nextBegin;
      continue;
    }
    const codeStart = endAt + end.length;
    const codeEnd = stdout.indexOf('\n', codeStart);
    const codeText = stdout.slice(codeStart, codeEnd === -1 ? undefined : codeEnd).trim();
    const code = /^-?\d+$/.test(codeText) ? Number(codeText) : null;
    sections.set(name, { stdout: stdout.slice(bodyStart, endAt), stderr: errs.get(name) ?? '', code });
    pos = codeEnd === -1 ? -1 : stdout.indexOf(begin, codeEnd);
  }
  return sections;
}
