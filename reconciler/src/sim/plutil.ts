// plutil as the node's stand-in runs it (through the control channel): -lint,
// -convert json|xml1, -extract, -p. Messages follow macos-commands.md; the
// exact parse-error wording of real plutil is not reproduced.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { build } from 'plist';
import type { CommandResult } from './launchd.ts';
import { isDict, parsePlistBytes, plistToJson, renderPlistPretty, type PlistValue } from './plist-file.ts';

const USAGE = 'usage: plutil <command> [options] <files>\n';

function load(path: string, shown: string): { value?: PlistValue; error?: string } {
  if (!existsSync(path)) return { error: `${shown}: file does not exist or is not readable or is not a regular file (Error Domain=NSCocoaErrorDomain Code=260 "The file “${shown.split('/').pop() ?? shown}” couldn’t be opened because there is no such file.")` };
  const parsed = parsePlistBytes(readFileSync(path));
  if (!parsed.ok || parsed.value === undefined) return { error: `${shown}: ${parsed.error ?? 'parse error'}` };
  return { value: parsed.value };
}

function extract(value: PlistValue, keyPath: string): PlistValue | undefined {
  let cur: PlistValue | undefined = value;
  for (const part of keyPath.split('.')) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isDict(cur)) cur = cur[part];
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export function runPlutil(args: readonly string[], cwd: string): CommandResult {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const [cmd, ...rest] = args;
  const out: CommandResult = { stdout: '', stderr: '', code: 0 };
  switch (cmd) {
    case '-lint': {
      const silent = rest.includes('-s');
      const files = rest.filter((a) => a !== '-s');
      if (files.length === 0) return { stdout: '', stderr: USAGE, code: 1 };
      for (const f of files) {
        const { error } = load(abs(f), f);
        if (error) {
          out.stdout += `${error}\n`;
          out.code = 1;
        } else if (!silent) out.stdout += `${f}: OK\n`;
      }
      return out;
    }
    case '-convert': {
      const format = rest[0];
      let output: string | undefined;
      const files: string[] = [];
      for (let i = 1; i < rest.length; i++) {
        const a = rest[i] ?? '';
        if (a === '-o') output = rest[++i];
        else if (a === '-r' || a === '-s') continue;
        else files.push(a);
      }
      if (!format || files.length !== 1 || !['json', 'xml1'].includes(format)) return { stdout: '', stderr: USAGE, code: 1 };
      const file = files[0] ?? '';
      const { value, error } = load(abs(file), file);
      if (error || value === undefined) return { stdout: '', stderr: `${error ?? file}\n`, code: 1 };
      const text = format === 'json' ? plistToJson(value) : `${build(value)}\n`;
      if (output === '-') return { stdout: text, stderr: '', code: 0 };
      writeFileSync(abs(output ?? file), text);
      return out;
    }
    case '-extract': {
      const [keyPath, format] = rest;
      let output: string | undefined;
      const files: string[] = [];
      for (let i = 2; i < rest.length; i++) {
        const a = rest[i] ?? '';
        if (a === '-o') output = rest[++i];
        else files.push(a);
      }
      const file = files[0];
      if (!keyPath || !format || !file) return { stdout: '', stderr: USAGE, code: 1 };
      const { value, error } = load(abs(file), file);
      if (error || value === undefined) return { stdout: '', stderr: `${error ?? file}\n`, code: 1 };
      const found = extract(value, keyPath);
      if (found === undefined) return { stdout: '', stderr: `${file}: Could not extract value, error: No value at that key path or invalid key path: ${keyPath}\n`, code: 1 };
      let text: string;
      if (format === 'raw') {
        if (typeof found === 'object' && !(found instanceof Date)) return { stdout: '', stderr: `${file}: Could not extract value, error: Value at [${keyPath}] is a ${Array.isArray(found) ? 'array' : 'dictionary'} type and cannot be extracted in raw format\n`, code: 1 };
        text = `${found instanceof Date ? found.toISOString() : String(found)}\n`;
      } else if (format === 'json') text = `${plistToJson(found)}\n`;
      else text = `${build(found)}\n`;
      if (output === '-' || output === undefined) return { stdout: text, stderr: '', code: 0 };
      writeFileSync(abs(output), text);
      return out;
    }
    case '-p': {
      const file = rest[0];
      if (!file) return { stdout: '', stderr: USAGE, code: 1 };
      const { value, error } = load(abs(file), file);
      if (error || value === undefined) return { stdout: '', stderr: `${error ?? file}\n`, code: 1 };
      return { stdout: `${renderPlistPretty(value)}\n`, stderr: '', code: 0 };
    }
    case '-help':
    case undefined:
      return { stdout: USAGE, stderr: '', code: cmd === undefined ? 1 : 0 };
    default:
      return { stdout: '', stderr: `unrecognized option: ${cmd}\n${USAGE}`, code: 1 };
  }
}
