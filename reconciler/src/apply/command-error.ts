// The one place where a remote command's exit code and stderr, or an HTTP
// failure, become a typed error. Callers decide on `kind` and `transient`,
// never on raw stderr text (whose wording is not stable across macOS releases).
import { FleetError } from '../errors.ts';
import type { ExecResult } from '../net/remote.ts';

export type FailureKind =
  /** sudo -n could not run without a password (or Homebrew's installer needs an admin). */
  | 'sudo-password'
  /** launchctl bootstrap: exit 5, the service is already loaded. */
  | 'launchd-already-loaded'
  /** launchctl bootout/kickstart: exit 3 or 113, the service is not loaded. */
  | 'launchd-not-loaded'
  /** launchctl bootstrap: exit 125, no gui/<uid> domain (nobody logged in at the console). */
  | 'launchd-domain'
  /** crontab -l: exit 1 with "no crontab for <user>"; an empty table, not an error. */
  | 'no-crontab'
  | 'disk-full'
  | 'timeout'
  /** The command was killed by a signal, or the SSH channel/connection broke. */
  | 'connection'
  /** HTTP 5xx or a connection refused/reset by a node's Ollama or Bob's registry. */
  | 'http-transient'
  | 'http'
  | 'aborted'
  | 'failed';

const TRANSIENT: ReadonlySet<FailureKind> = new Set(['timeout', 'connection', 'http-transient']);

export class CommandError extends FleetError {
  readonly kind: FailureKind;
  readonly transient: boolean;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;
  constructor(kind: FailureKind, message: string, details: { exitCode?: number | null; stderr?: string; stdout?: string; cause?: unknown } = {}) {
    super('remote-command', message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CommandError';
    this.kind = kind;
    this.transient = TRANSIENT.has(kind);
    this.exitCode = details.exitCode ?? null;
    this.stderr = details.stderr ?? '';
    this.stdout = details.stdout ?? '';
  }
}

/** Maps a finished command to a failure kind; null when it succeeded. */
export function classifyExecResult(result: ExecResult): FailureKind | null {
  if (result.timedOut) return 'timeout';
  if (result.code === 0) return null;
  if (result.code === null) return 'connection';
  const err = `${result.stderr}\n${result.stdout}`;
  if (/a password is required|a terminal is required to read the password|Need sudo access/i.test(err)) return 'sudo-password';
  if (result.code === 125 || /Domain does not support specified action/i.test(err)) return 'launchd-domain';
  if (/Bootstrap failed: 5:/.test(err) || (result.code === 5 && /Input\/output error/i.test(err))) return 'launchd-already-loaded';
  if (/Boot-out failed: 3:|Could not find service|No such process/i.test(err) || result.code === 113) return 'launchd-not-loaded';
  if (result.code === 1 && /no crontab for/i.test(err)) return 'no-crontab';
  if (/No space left on device/i.test(err)) return 'disk-full';
  // OpenSSH's client exits 255 when the connection itself failed.
  if (result.code === 255 && /Connection (reset|closed|refused)|Broken pipe/i.test(err)) return 'connection';
  return 'failed';
}

function lastLines(text: string, n = 6): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** A CommandError for a command that did not succeed, with a sentence a person can act on. */
export function createCommandError(what: string, result: ExecResult): CommandError {
  const kind = classifyExecResult(result) ?? 'failed';
  const tail = lastLines(result.stderr) || lastLines(result.stdout);
  const how = result.timedOut
    ? `timed out after ${Math.round(result.durationMs / 1000)} s`
    : result.code === null
      ? `was killed${result.signal ? ` (${result.signal})` : ''}`
      : `exited ${result.code}`;
  return new CommandError(kind, `${what} ${how}${tail ? `: ${tail}` : ''}`, {
    exitCode: result.code,
    stderr: result.stderr,
    stdout: result.stdout,
  });
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ERR_SSH_CHANNEL', 'ECONNABORTED']);

/**
 * Maps anything thrown while talking to a node (an exec that rejected, the
 * ollama client, fetch) to a CommandError. `what` names the action for people.
 */
export function toCommandError(what: string, err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  if (err instanceof FleetError && err.code === 'loopback-only') return new CommandError('failed', err.message, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (name === 'AbortError' || /aborted/i.test(message) && name !== 'ResponseError') {
    return new CommandError('aborted', `${what} was aborted`, { cause: err });
  }
  const status = (err as { status_code?: unknown } | null)?.status_code;
  if (typeof status === 'number') {
    return new CommandError(status >= 500 ? 'http-transient' : 'http', `${what} failed: HTTP ${status}: ${message}`, { cause: err });
  }
  const code = errorCode(err);
  if ((code !== undefined && NETWORK_CODES.has(code)) || /fetch failed|socket hang up|ECONNRESET|ECONNREFUSED|Did not receive done or success response in stream|terminated|other side closed/i.test(message)) {
    return new CommandError('http-transient', `${what} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, { cause: err });
  }
  if (/No space left on device|not enough (free )?(disk )?space/i.test(message)) return new CommandError('disk-full', `${what} failed: ${message}`, { cause: err });
  if (/not connected|channel|connection lost|Connection closed|No response from server|keepalive/i.test(message)) {
    return new CommandError('connection', `${what} failed: the SSH connection broke (${message})`, { cause: err });
  }
  return new CommandError('failed', `${what} failed: ${message}`, { cause: err });
}
