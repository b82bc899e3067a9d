// One node's connection and shared state during an apply, and the one way a
// step runs a remote command: exec, then classify (command-error.ts).
import type { RemoteSession, ExecResult } from '../net/remote.ts';
import type { ShellLine } from '../shell/quote.ts';
import type { ObservedFacts } from '../schema/observed.ts';
import { CommandError, classifyExecResult, createCommandError, toCommandError, type FailureKind } from './command-error.ts';
import type { ApplyContext, ApplyOptions } from './context.ts';
import { uidCommand, type RemoteCommand } from './step-commands.ts';

/** Per-node state the steps share during one apply. */
export interface NodeRuntime {
  node: string;
  ctx: ApplyContext;
  options: ApplyOptions;
  facts: ObservedFacts | undefined;
  brewPrefix: string;
  /** The logged-in session, opened on first use and reopened after a drop. */
  session(): Promise<RemoteSession>;
  /** Forget a session whose connection broke. */
  dropSession(): void;
  uid?: number;
  /** Bytes already pulled in this apply (the observed free space is older). */
  pulledBytes: number;
  signal?: AbortSignal;
}

interface RunOptions {
  stdin?: string;
  timeoutMs?: number;
  /** Failure kinds that are an answer, not an error (returned instead of thrown). */
  allow?: readonly FailureKind[];
  /** Pass the abort signal to the command (long installs); short commands finish. */
  abortable?: boolean;
}

export interface RunResult {
  result: ExecResult;
  failure: FailureKind | null;
}

export async function runRemote(rt: NodeRuntime, what: string, line: ShellLine, opts: RunOptions = {}): Promise<RunResult> {
  const session = await rt.session();
  let result: ExecResult;
  try {
    result = await session.exec(line, {
      timeoutMs: opts.timeoutMs ?? rt.options.stepTimeoutMs,
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      ...(opts.abortable && rt.signal ? { signal: rt.signal } : {}),
    });
  } catch (err) {
    const e = toCommandError(what, err);
    // An exec that rejected (not a command that failed) means the channel or connection is gone.
    if (e.kind !== 'aborted') {
      rt.dropSession();
      throw new CommandError('connection', e.message, { cause: err });
    }
    throw e;
  }
  const failure = classifyExecResult(result);
  if (failure === 'connection' || failure === 'timeout') rt.dropSession();
  if (failure !== null && !(opts.allow ?? []).includes(failure)) throw createCommandError(what, result);
  return { result, failure };
}

export function runCommand(rt: NodeRuntime, command: RemoteCommand, opts: Omit<RunOptions, 'stdin'> = {}): Promise<RunResult> {
  return runRemote(rt, command.what, command.line, command.stdin !== undefined ? { ...opts, stdin: command.stdin } : opts);
}

export async function resolveUid(rt: NodeRuntime): Promise<number> {
  if (rt.uid !== undefined) return rt.uid;
  const observed = rt.facts?.uid;
  if (typeof observed === 'number') {
    rt.uid = observed;
    return observed;
  }
  const { result } = await runRemote(rt, 'id -u', uidCommand());
  const uid = Number(result.stdout.trim());
  if (!Number.isInteger(uid) || uid < 0) throw new CommandError('failed', `id -u printed ${JSON.stringify(result.stdout.trim())}, not a uid`);
  rt.uid = uid;
  return uid;
}
