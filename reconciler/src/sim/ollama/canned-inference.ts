// Stand-in inference: a short fixed answer split into tokens, deterministic
// unit-length embeddings, and timings that look like a Mac's.
import { createHash } from 'node:crypto';

const ANSWER = 'Pong! The simulated node is up and answering.';

/** Word-ish tokens with their leading space, like a BPE tokenizer's output. */
export function tokenize(text: string): string[] {
  return text.match(/\s*[A-Za-z0-9']+|\s*[^\sA-Za-z0-9']/g) ?? [];
}

export interface CannedAnswer {
  tokens: string[];
  doneReason: 'stop' | 'length';
  promptTokens: number;
}

/** The answer to any prompt, cut to `numPredict` tokens when that is set (>0). */
export function answerPrompt(prompt: string, numPredict: number | undefined): CannedAnswer {
  const all = tokenize(ANSWER);
  const limit = numPredict !== undefined && numPredict > 0 ? numPredict : all.length;
  const tokens = all.slice(0, limit);
  // The chat template adds a dozen tokens around the prompt.
  return { tokens, doneReason: tokens.length < all.length ? 'length' : 'stop', promptTokens: tokenize(prompt).length + 12 };
}

/** Token ids for the `context` field: stable numbers derived from the text. */
export function contextTokens(text: string): number[] {
  return tokenize(text).map((t) => {
    const h = createHash('sha256').update(t).digest();
    return 1000 + (h.readUInt32BE(0) % 127_000);
  });
}

/** A deterministic unit vector of `dims` floats for `input` (Ollama normalises embeddings). */
export function embedText(model: string, input: string, dims: number): number[] {
  const out: number[] = [];
  let counter = 0;
  let block = Buffer.alloc(0);
  let offset = 0;
  while (out.length < dims) {
    if (offset + 4 > block.length) {
      block = createHash('sha256').update(`${model}\u0000${input}\u0000${counter++}`).digest();
      offset = 0;
    }
    out.push(block.readInt32BE(offset) / 2 ** 31);
    offset += 4;
  }
  const norm = Math.sqrt(out.reduce((n, v) => n + v * v, 0)) || 1;
  return out.map((v) => Math.fround(v / norm));
}

/** Nanosecond timings: loading reads the weights at ~2 GB/s, generation runs at a rate that falls with size. */
export function timings(weightsBytes: number, wasLoaded: boolean, promptTokens: number, evalTokens: number): {
  load: number; promptEval: number; evalDuration: number; total: number;
} {
  const load = wasLoaded ? 12_000_000 : Math.round(weightsBytes / 2e9 * 1e9) + 150_000_000;
  const tokensPerSecond = Math.max(4, 200e9 / Math.max(weightsBytes, 1) * 2);
  const promptEval = Math.round(promptTokens / (tokensPerSecond * 8) * 1e9);
  const evalDuration = Math.round(evalTokens / tokensPerSecond * 1e9);
  return { load, promptEval, evalDuration, total: load + promptEval + evalDuration + 3_000_000 };
}
