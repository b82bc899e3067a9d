// Test doubles for the executor: a scripted RemoteSession, a pool, a fake
// Ollama client and an instant clock. Real code paths, fake peers.
import type { ExecOptions, ExecResult, RemoteSession } from '../../reconciler/src/net/remote.ts';
import type { ShellLine } from '../../reconciler/src/shell/quote.ts';
import type { Clock, Log } from '../../reconciler/src/ports.ts';
import type { ApplyContext, OllamaLike, ProgressSink, PullProgress, PullStream, SessionSource, StepResult } from '../../reconciler/src/apply/context.ts';
import type { ObservedNode } from '../../reconciler/src/schema/observed.ts';
import type { Step } from '../../reconciler/src/model/steps.ts';
import { createGuard } from '../../reconciler/src/net/guard.ts';

export type Reply = Partial<ExecResult> | Error;
export type Handler = (command: string, options: ExecOptions | undefined) => Reply | Promise<Reply>;

export function execResult(r: Partial<ExecResult> = {}): ExecResult {
  return { code: 0, signal: null, stdout: '', stderr: '', durationMs: 1, timedOut: false, ...r };
}

export class FakeSession implements RemoteSession {
  readonly node: string;
  readonly address = '127.0.0.1';
  readonly log: { command: string; stdin: string | undefined }[];
  readonly memo = new Map<string, unknown>();
  closed = false;
  private readonly handler: Handler;
  constructor(node: string, handler: Handler, log: { command: string; stdin: string | undefined }[] = []) {
    this.node = node;
    this.handler = handler;
    this.log = log;
  }
  async exec(command: ShellLine, options?: ExecOptions): Promise<ExecResult> {
    if (this.closed) throw new Error('Not connected');
    this.log.push({ command: command.__shell, stdin: options?.stdin });
    const reply = await this.handler(command.__shell, options);
    if (reply instanceof Error) throw reply;
    return execResult(reply);
  }
  close(): void {
    this.closed = true;
  }
}

/** One log per node that survives reconnects; `refuse` makes a node unreachable or host-key-changed. */
export function fakePool(handlers: Record<string, Handler>, refuse: Record<string, { status: string; message?: string }> = {}): SessionSource & { logs: Record<string, { command: string; stdin: string | undefined }[]>; connects: Record<string, number> } {
  const logs: Record<string, { command: string; stdin: string | undefined }[]> = {};
  const connects: Record<string, number> = {};
  return {
    logs,
    connects,
    session(node: string) {
      connects[node] = (connects[node] ?? 0) + 1;
      const r = refuse[node];
      if (r) return Promise.resolve({ ok: false as const, reach: r });
      const h = handlers[node] ?? (() => ({}));
      logs[node] ??= [];
      return Promise.resolve({ ok: true as const, session: new FakeSession(node, h, logs[node]) });
    },
  };
}

export function instantClock(): Pick<Clock, 'now' | 'sleep'> & { sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

export function recordingLogger(): Log & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    debug: (fields, msg) => lines.push({ level: 'debug', msg, fields: { ...fields } }),
    info: (fields, msg) => lines.push({ level: 'info', msg, fields: { ...fields } }),
    warn: (fields, msg) => lines.push({ level: 'warn', msg, fields: { ...fields } }),
    error: (fields, msg) => lines.push({ level: 'error', msg, fields: { ...fields } }),
  };
}

export function recordingProgress(): ProgressSink & { started: string[]; finished: StepResult[]; pulls: PullProgress[] } {
  const started: string[] = [];
  const finished: StepResult[] = [];
  const pulls: PullProgress[] = [];
  return {
    started, finished, pulls,
    stepStarted: (s: Step) => started.push(s.id),
    stepFinished: (_s: Step, r: StepResult) => finished.push(r),
    pullProgress: (p: PullProgress) => pulls.push(p),
  };
}

export interface FakeModel { name: string; digest: string; size: number }

/** An in-memory Ollama: pulls stream a few progress events; `failPull` breaks a pull half way. */
export function fakeOllama(options: { models?: FakeModel[]; failPull?: (model: string, attempt: number) => string | null; unknown?: string[] } = {}): { client: OllamaLike; models: FakeModel[]; pullAttempts: Record<string, number>; resumedFrom: Record<string, number[]> } {
  const models = [...(options.models ?? [])];
  const pullAttempts: Record<string, number> = {};
  const resumedFrom: Record<string, number[]> = {};
  const partial: Record<string, number> = {};
  const client: OllamaLike = {
    version: () => Promise.resolve({ version: '0.12.6' }),
    list: () => Promise.resolve({ models: models.map((m) => ({ ...m, model: m.name })) }),
    delete({ model }) {
      const i = models.findIndex((m) => m.name === model);
      if (i < 0) return Promise.reject(Object.assign(new Error(`model '${model}' not found`), { name: 'ResponseError', status_code: 404 }));
      models.splice(i, 1);
      return Promise.resolve({ status: 'success' });
    },
    pull({ model }) {
      const attempt = (pullAttempts[model] = (pullAttempts[model] ?? 0) + 1);
      const total = 1000;
      const digest = `sha256:${model.replace(/[^a-z0-9]/g, '').padEnd(64, '0').slice(0, 64)}`;
      const failure = options.failPull?.(model, attempt) ?? null;
      const unknown = options.unknown?.includes(model) ?? false;
      let aborted = false;
      (resumedFrom[model] ??= []).push(partial[model] ?? 0);
      async function* gen(): AsyncGenerator<{ status: string; digest?: string; total?: number; completed?: number }> {
        await Promise.resolve();
        yield { status: 'pulling manifest' };
        if (unknown) throw new Error('pull model manifest: file does not exist');
        for (let done = partial[model] ?? 0; done <= total; done += 250) {
          if (aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
          partial[model] = done;
          yield { status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: done };
          if (failure && done >= 500) throw new Error(failure);
        }
        yield { status: 'verifying sha256 digest' };
        yield { status: 'success' };
        delete partial[model];
        if (!models.some((m) => m.name === model)) models.push({ name: model.includes(':') ? model : `${model}:latest`, digest: digest.slice(7), size: total });
      }
      const it = gen();
      const stream: PullStream = { abort: () => { aborted = true; }, [Symbol.asyncIterator]: () => it };
      return Promise.resolve(stream);
    },
  };
  return { client, models, pullAttempts, resumedFrom };
}

export function observedNode(node: string, facts: Partial<NonNullable<ObservedNode['facts']>> = {}): ObservedNode {
  return {
    node,
    observed_at: '2026-11-25T00:00:00Z',
    reach: { status: 'ok', attempts: [] },
    facts: {
      hostnames: { computer_name: null, host_name: null, local_host_name: null },
      os: { product_version: '14.5', build_version: '23F79' },
      hardware: { architecture: 'arm64', chip: 'Apple M4', ram_bytes: 25769803776, ncpu: 10 },
      disk: { total_bytes: 500e9, available_bytes: 400e9 },
      brew: { prefix: '/opt/homebrew', formulae: {}, casks: {} },
      ollama: { cli_version: null, local: { up: false }, external: { up: false }, models: [], loaded: [] },
      files: { ollama_env: null, launchd_plist: null, heartbeat_script: null, harpa_instructions: null, self_registration: null },
      launchd: { ollama: { loaded: false, pid: null, last_exit: null } },
      crontab: { lines: [] },
      sudo: true,
      ip: '127.0.0.1',
      uid: 501,
      home: '/Users/bob',
      ...facts,
    },
  };
}

export function makeContext(over: Partial<ApplyContext> & { pool: SessionSource }): ApplyContext {
  return {
    guard: createGuard({ loopbackOnly: true }),
    createOllama: () => fakeOllama().client,
    observed: new Map(),
    ollamaUrl: () => 'http://127.0.0.1:11434',
    clock: instantClock(),
    log: recordingLogger(),
    progress: recordingProgress(),
    randomTag: () => 'abcd1234',
    ...over,
  };
}
