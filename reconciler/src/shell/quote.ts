// The one way repo-controlled text reaches a remote shell. Every command line
// the reconciler sends is built with `sh` below; never concatenate a value.

/**
 * Quotes one word for POSIX sh and zsh: single quotes, `'` written as `'\''`.
 * A word left bare must mean the same to both: zsh expands a leading `=`
 * (`=ls` is ls's path), so such a word is quoted.
 */
export function quote(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_@%+:,./-][A-Za-z0-9_@%+=:,./-]*$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A fragment already safe for the shell (a fixed command, or the result of `sh`). */
export interface ShellLine {
  readonly __shell: string;
}

export function raw(text: string): ShellLine {
  return { __shell: text };
}

/**
 * Tagged template for command lines: every interpolated value is quoted, unless
 * it is already a ShellLine; arrays become quoted words separated by spaces.
 *   sh`brew install ${name}`    sh`cat ${path} ${raw('|| true')}`
 */
export function sh(strings: TemplateStringsArray, ...values: (string | number | ShellLine | readonly string[])[]): ShellLine {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (typeof v === 'number') out += String(v);
    else if (typeof v === 'string') out += quote(v);
    else if (Array.isArray(v)) out += (v as readonly string[]).map(quote).join(' ');
    else out += (v as ShellLine).__shell;
    out += strings[i + 1] ?? '';
  });
  return raw(out);
}
