// The managed files as the probe reads them: one `head -c N /dev/null f1 f2...`
// run from the home directory, so each file comes after a header with its
// relative name, `==> .ollama/ollama.env <==`, and a missing file has none.
import { createHash } from 'node:crypto';
import type { ObservedFile } from '../schema/observed.ts';
import { FILE_READ_MAX } from './probe.ts';

/** Files up to this size keep their text in the facts (for diffs in drift reports). */
export const CONTENT_MAX = 64 * 1024;

/**
 * Splits head's output into the files named, in the order given; a name
 * without its header is absent from the result. Only the expected headers
 * count, searched in order, so text inside a file is never taken as one.
 */
export function splitHeadOutput(stdout: string, names: readonly string[]): Map<string, string> {
  const found: { name: string; start: number; bodyStart: number }[] = [];
  let pos = 0;
  for (const name of names) {
    const header = `==> ${name} <==\n`;
    let at = stdout.indexOf(header, pos);
    while (at > 0 && stdout[at - 1] !== '\n') at = stdout.indexOf(header, at + 1);
    if (at === -1) continue;
    found.push({ name, start: at, bodyStart: at + header.length });
    pos = at + header.length;
  }
  const out = new Map<string, string>();
  found.forEach((f, i) => {
    const next = found[i + 1];
    // head separates files with one newline before the next header.
    const end = next ? next.start - 1 : stdout.length;
    out.set(f.name, stdout.slice(f.bodyStart, Math.max(f.bodyStart, end)));
  });
  return out;
}

/** A file's observed form: sha256 and size of its bytes, the text when small. undefined content = missing. */
export function observeFileContent(content: string | undefined): ObservedFile {
  if (content === undefined) return null;
  const bytes = Buffer.from(content, 'utf8');
  const truncated = bytes.length > FILE_READ_MAX;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const keepText = !truncated && bytes.length <= CONTENT_MAX && !content.includes('\uFFFD');
  return { sha256, size: bytes.length, ...(keepText ? { content } : {}), ...(truncated ? { truncated: true } : {}) };
}
