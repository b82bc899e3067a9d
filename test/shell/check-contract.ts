// Holds a command line to the BSD userland contract (shell/commands.ts):
// every simple command must name a listed utility (by name when it is on a
// Mac's PATH, by absolute path when Homebrew's), a shell builtin both zsh and
// sh have, or a function the line defines; every option must be one the
// contract lists for that utility.
import { MAC_UTILITIES, type MacOption, type MacUtility } from '../../reconciler/src/shell/commands.ts';
import { definedFunctions, simpleCommands, type Word } from './shell-words.ts';

/** Special builtins of both zsh and POSIX sh that the product's lines use; no file behind them. */
export const SHELL_BUILTINS = new Set(['cd', 'export', 'exit', 'set', 'shift', 'read', 'return', ':', 'break', 'continue', 'wait']);

export interface Violation {
  command: string;
  problem: string;
}

const utilities = MAC_UTILITIES as readonly MacUtility[];
const DYN = '\u0000';

function show(argv: readonly Word[]): string {
  return argv.map((w) => w.text.replaceAll(DYN, '$…')).join(' ');
}

function resolve(first: Word, dynamicCommands: Readonly<Record<string, string>>): MacUtility | string {
  let name = first.text;
  // "${FLEET_ROOT-}"/opt/homebrew/bin/brew: the simulator's seam, empty on a Mac
  if (name.startsWith(`${DYN}/`)) name = name.slice(1);
  if (name.includes(DYN)) {
    const declared = dynamicCommands[first.text];
    const u = declared === undefined ? undefined : utilities.find((x) => x.name === declared);
    return u ?? `a command name known only at run time (${show([first])}); declare what it runs`;
  }
  if (name.startsWith('/')) {
    const brew = /^(?:\/opt\/homebrew|\/usr\/local)\/bin\/([a-z]+)$/.exec(name);
    const u = brew ? utilities.find((x) => x.provider === 'homebrew' && x.name === brew[1]) : utilities.find((x) => x.path === name);
    return u ?? `${name} is not in the contract (reconciler/src/shell/commands.ts)`;
  }
  const u = utilities.find((x) => x.name === name);
  if (!u) return `${name} is not in the contract (reconciler/src/shell/commands.ts): add it with what macOS's man page says, or use a listed utility`;
  if (u.provider === 'homebrew') return `${name} is not on a Mac's PATH over SSH: name it by its absolute path (macPath)`;
  return u;
}

/** Checks the options of one utility's argv (after its name); returns problems. */
function checkOptions(u: MacUtility, args: readonly Word[], check: (argv: Word[]) => string[]): string[] {
  const problems: string[] = [];
  const bad = (what: string): void => void problems.push(`${u.name}: ${what} is not in the contract (what macOS's man page says for it belongs in shell/commands.ts)`);
  if (u.syntax === 'operands') return problems;
  let options: Readonly<Record<string, MacOption>> = u.options;
  let i = 0;
  let sawOperand = false;
  let subcommandChecked = u.subcommands === undefined;
  while (i < args.length) {
    const w = args[i] as Word;
    i++;
    if (w.text === '--') break;
    const isOption = !w.dynamic && w.text.startsWith('-') && w.text !== '-';
    if (!isOption) {
      if (!subcommandChecked) {
        subcommandChecked = true;
        const sub = u.subcommands?.[w.text];
        if (!sub) { bad(`the subcommand "${w.text}"`); return problems; }
        options = { ...u.options, ...(sub.options ?? {}) };
        continue;
      }
      if (u.runsCommand) return [...problems, ...check(args.slice(i - 1))];
      if (u.primaries) return [...problems, ...checkExpression(u, args.slice(i), check)];
      sawOperand = true;
      if (u.syntax === 'getopt') break;
      continue;
    }
    if (sawOperand && u.syntax === 'getopt') break;
    if (u.syntax === 'words' || w.text.startsWith('--')) {
      const opt = options[w.text];
      if (!opt) { bad(`the option ${w.text}`); continue; }
      if (opt.arg) i += opt.words ?? 1;
      continue;
    }
    if (u.primaries && !sawOperand) {
      // find's own options (-H -L -P ...) before its paths
      bad(`the option ${w.text}`);
      continue;
    }
    const letters = w.text.slice(1);
    for (let k = 0; k < letters.length; k++) {
      const opt = options[`-${letters[k] ?? ''}`];
      if (!opt) { bad(`the option -${letters[k] ?? ''}`); break; }
      if (opt.arg) {
        if (k === letters.length - 1) i++;
        break;
      }
    }
  }
  return problems;
}

/** find's expression after its paths: listed primaries, and -exec's command checked as a command. */
function checkExpression(u: MacUtility, args: readonly Word[], check: (argv: Word[]) => string[]): string[] {
  const problems: string[] = [];
  let i = 0;
  // the paths come first
  while (i < args.length && !(args[i] as Word).text.startsWith('-')) i++;
  while (i < args.length) {
    const w = args[i] as Word;
    i++;
    if (['(', ')', '!'].includes(w.text)) continue;
    const p = u.primaries?.[w.text];
    // an unknown primary's arguments are unknown too: stop reading there
    if (!p) { problems.push(`${u.name}: the primary ${w.text} is not in the contract`); return problems; }
    if (p.args === 'exec') {
      const end = args.findIndex((x, k) => k >= i && (x.text === ';' || (x.text === '+' && args[k - 1]?.text === '{}')));
      const cmd = args.slice(i, end === -1 ? args.length : end).filter((x) => x.text !== '{}');
      problems.push(...check(cmd));
      i = end === -1 ? args.length : end + 1;
      continue;
    }
    i += p.args;
  }
  return problems;
}

/**
 * Every problem of `line`. `dynamicCommands` declares what a command name
 * known only at run time runs (the probe's `"$_fo"` is an ollama).
 */
export function checkLine(line: string, dynamicCommands: Readonly<Record<string, string>> = {}, used?: Set<string>): Violation[] {
  const functions = definedFunctions(line);
  const violations: Violation[] = [];
  const checkArgv = (argv: Word[]): string[] => {
    const first = argv[0];
    if (!first) return [];
    if (!first.dynamic && (SHELL_BUILTINS.has(first.text) || functions.has(first.text))) return [];
    const u = resolve(first, dynamicCommands);
    if (typeof u === 'string') return [u];
    used?.add(u.name);
    return checkOptions(u, argv.slice(1), checkArgv);
  };
  for (const cmd of simpleCommands(line)) {
    for (const problem of checkArgv(cmd.argv)) violations.push({ command: show(cmd.argv), problem });
  }
  return violations;
}
