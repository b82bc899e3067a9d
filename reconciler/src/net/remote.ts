// What the rest of the reconciler needs from a logged-in node. net/ssh.ts
// implements it with ssh2; tests may implement it with anything.
import type { ShellLine } from '../shell/quote.ts';

export interface ExecResult {
  /** Exit code; null when the command was killed (signal or timeout). */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Written to the command's stdin, then closed (e.g. `crontab -`, `cat > file`). */
  stdin?: string;
  signal?: AbortSignal;
}

export interface RemoteSession {
  readonly node: string;
  /** The address that answered. */
  readonly address: string;
  exec(command: ShellLine, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Values that hold for the life of this connection and die with it (e.g.
   * facts that change only across a reboot, which ends the connection).
   */
  readonly memo: Map<string, unknown>;
  close(): void;
}
