// Pure parsers for launchctl and crontab output.

export interface AgentState {
  loaded: boolean;
  /** null when loaded but not running, or not loaded. */
  pid: number | null;
  /** Last exit code (negative: killed by that signal); null when unknown. */
  last_exit: number | null;
}

const NOT_LOADED: AgentState = { loaded: false, pid: null, last_exit: null };

function normaliseExit(n: number): number {
  // `launchctl list LABEL` may show a raw wait status (exit 78 as 19968);
  // the table form shows the code itself.
  return n >= 256 && n % 256 === 0 ? n / 256 : n;
}

export interface LaunchctlRow {
  pid: number | null;
  status: number | null;
  label: string;
}

/** `launchctl list`: `PID<tab>Status<tab>Label`, PID `-` when not running. */
export function parseLaunchctlList(stdout: string): LaunchctlRow[] {
  const rows: LaunchctlRow[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^\s*(-|\d+)\s+(-|-?\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    rows.push({ pid: m[1] === '-' ? null : Number(m[1]), status: m[2] === '-' ? null : Number(m[2]), label: m[3] ?? '' });
  }
  return rows;
}

/**
 * `launchctl list LABEL`: a `{ "Label" = ...; "PID" = 512; "LastExitStatus" = 0; };`
 * block, exit 0; not loaded: `Could not find service ...`, exit 113. A table
 * line for the label is accepted too.
 */
export function parseLaunchctlLabel(stdout: string, code: number | null, label: string, stderr = ''): AgentState | null {
  if (code === null) return null;
  if (code === 113 || /could not find service/i.test(`${stdout}\n${stderr}`)) return NOT_LOADED;
  if (code !== 0) return null;
  const labelMatch = /"Label"\s*=\s*"([^"]*)"/.exec(stdout);
  if (labelMatch || /"LastExitStatus"|"PID"/.test(stdout)) {
    if (labelMatch && labelMatch[1] !== label) return null;
    const pid = /"PID"\s*=\s*(\d+)\s*;/.exec(stdout);
    const last = /"LastExitStatus"\s*=\s*(-?\d+)\s*;/.exec(stdout);
    return { loaded: true, pid: pid ? Number(pid[1]) : null, last_exit: last ? normaliseExit(Number(last[1])) : null };
  }
  const row = parseLaunchctlList(stdout).find((r) => r.label === label);
  if (row) return { loaded: true, pid: row.pid, last_exit: row.status };
  return null;
}
