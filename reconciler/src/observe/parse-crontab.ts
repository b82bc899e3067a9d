// `crontab -l`, read one way for observe and for apply: the table's lines as
// they are (blank lines and comments kept, so a rewrite gives other people's
// lines back verbatim); no crontab (`crontab: no crontab for bob`, exit 1) is
// an empty table; null when crontab failed otherwise.
export function parseCrontab(stdout: string, code: number | null, stderr = ''): string[] | null {
  if (code === 0) {
    const lines = stdout.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    return lines;
  }
  if (/no crontab for/i.test(`${stderr}\n${stdout}`)) return [];
  return null;
}
