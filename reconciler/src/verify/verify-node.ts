// `fleet verify`'s I/O: for each node, what the guide's "Verify from Bob"
// looks at, gathered the way it works on a real Mac (checks.ts judges it):
// SSH with the pinned key; `hostname && ollama list` with ollama named by its
// absolute path (Homebrew is not on the PATH of an SSH command on a Mac, so
// the guide's `ssh virtuoso.local "hostname && ollama list"` fails on Apple
// Silicon); /api/tags, a one-token generate and an embedding from Bob through
// the official client; Bob's generated files; the node's last heartbeat from
// Bob's registry API.
import { Ollama } from 'ollama';
import type { Desired, DesiredNode } from '../model/desired.ts';
import { resolveNode } from '../model/desired.ts';
import { guardedFetch, guardUrl, type ConnectionGuard } from '../net/guard.ts';
import type { ConnectionPool } from '../observe/connections.ts';
import { ollamaUrlFor } from '../observe/connections.ts';
import { parseOllamaList } from '../observe/parse-ollama.ts';
import type { HeartbeatRecord } from '../schema/observed.ts';
import { macPath } from '../shell/commands.ts';
import { sh, type ShellLine } from '../shell/quote.ts';
import type { GeneratedFiles } from '../generate/generate.ts';
import { judgeNode, modelsToTry, type Check, type Gathered, type Probe } from './checks.ts';
import { brewPrefix } from '../model/mac-layout.ts';

/** The guide's check, done right: the CLI by its absolute path under the node's Homebrew prefix. */
export function ollamaListCommand(prefix: string): ShellLine {
  return sh`hostname && ${macPath(`${prefix}/bin/ollama`)} list`;
}

export interface VerifyContext {
  desired: Desired;
  pool: ConnectionPool;
  guard: ConnectionGuard;
  /** Bob's generated files, read once for every node. */
  generated: Probe<{ files: GeneratedFiles; from: string }>;
  /** The nodes' heartbeats as Bob's registry API reports them, fetched once. */
  heartbeats: Probe<{ records: HeartbeatRecord[]; from: string }>;
  now: () => Date;
  /** Per request to a node's Ollama; a generate on a cold model loads it first. */
  timeoutMs: number;
}

export interface NodeVerdict {
  node: string;
  /** The address that answered SSH, when one did. */
  address: string | undefined;
  checks: Check[];
}

/** The official client's error text, or fetch's with its cause (ECONNREFUSED ...). */
function message(err: unknown): string {
  const e = err as { error?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (typeof e.error === 'string') return e.error;
  const cause = typeof e.cause?.code === 'string' ? e.cause.code : typeof e.cause?.message === 'string' ? e.cause.message : undefined;
  return `${typeof e.message === 'string' ? e.message : String(err)}${cause !== undefined ? ` (${cause})` : ''}`;
}

async function attempt<T>(work: () => Promise<T>): Promise<Probe<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    return { ok: false, error: message(err) };
  }
}

export async function verifyNode(ctx: VerifyContext, name: string): Promise<NodeVerdict> {
  const doc = ctx.desired.nodes.find((n) => n.name === name);
  if (!doc) throw new Error(`verifyNode: unknown node ${name}`);
  const node: DesiredNode = resolveNode(ctx.desired, doc);
  const target = ctx.pool.target(name);
  const conn = await ctx.pool.session(name);
  const ssh: Gathered['ssh'] = conn.ok
    ? { ok: true, value: { address: conn.session.address, user: target?.user ?? '', fingerprint: conn.hostKey.fingerprint } }
    : { ok: false, error: conn.reach.message ?? conn.reach.status };

  let ollamaList: Gathered['ollamaList'];
  if (conn.ok && node.role.services.ollama) {
    const prefix = brewPrefix(node.hardware?.architecture ?? 'arm64');
    const cli = `${prefix}/bin/ollama`;
    ollamaList = await attempt(async () => {
      const r = await conn.session.exec(ollamaListCommand(prefix), { timeoutMs: target?.commandTimeoutMs ?? 30_000 });
      if (r.code !== 0) throw new Error(`exit ${String(r.code ?? r.signal)}: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''}`);
      const [hostname = '', ...rest] = r.stdout.split('\n');
      return { hostname: hostname.trim(), cli, models: parseOllamaList(rest.join('\n')).map((m) => m.name) };
    });
  }

  let tags: Gathered['tags'];
  let generate: Gathered['generate'];
  let embed: Gathered['embed'];
  if (node.role.services.ollama && target) {
    const url = target.ollamaUrlFollowsSsh && conn.ok ? ollamaUrlFor(conn.session.address, target.ollamaPort) : target.ollamaUrl;
    const fetchWithDeadline: typeof fetch = (input, init) => guardedFetch(ctx.guard)(input, { ...init, signal: AbortSignal.timeout(ctx.timeoutMs) });
    const client = new Ollama({ host: url, fetch: fetchWithDeadline });
    tags = await attempt(async () => {
      await guardUrl(ctx.guard, url);
      return { url, models: (await client.list()).models.map((m) => m.name) };
    });
    if (tags.ok) {
      const { chat, embedding } = modelsToTry(node, ctx.desired.models);
      if (chat) {
        generate = await attempt(async () => {
          const started = performance.now();
          const r = await client.generate({ model: chat, prompt: 'Hello from Bob. Respond in one word.', stream: false, options: { num_predict: 1 } });
          if (!r.done) throw new Error('the answer did not finish');
          return { model: chat, ms: Math.round(performance.now() - started) };
        });
      }
      if (embedding) {
        embed = await attempt(async () => {
          const r = await client.embed({ model: embedding, input: 'ping' });
          return { model: embedding, dimensions: r.embeddings[0]?.length ?? 0 };
        });
      }
    }
  }

  const heartbeat: Gathered['heartbeat'] = ctx.heartbeats.ok && ctx.heartbeats.value
    ? { ok: true, value: { record: ctx.heartbeats.value.records.find((r) => r.node_id === name), from: ctx.heartbeats.value.from } }
    : { ok: false, error: ctx.heartbeats.error ?? 'not asked' };

  const gathered: Gathered = { node, catalog: ctx.desired.models, ssh, ollamaList, tags, generate, embed, generated: ctx.generated, heartbeat, now: ctx.now() };
  return { node: name, address: conn.ok ? conn.session.address : undefined, checks: judgeNode(gathered) };
}
