// Go's formatting as the simulated server and CLI reproduce it, and model names.
import { describe, expect, it } from 'vitest';
import { formatGoTime, formatHumanBytes, formatHumanTime, formatParameterSize, humanNumber, parseGoDuration } from '../../reconciler/src/sim/ollama/go-format.ts';
import { formatFloat32, goJson, goQuote } from '../../reconciler/src/sim/ollama/go-json.ts';
import { canonicalName, displayShortest, parseModelName, parseModelRef, type ModelName } from '../../reconciler/src/sim/ollama/model-name.ts';
import { keepAliveMs, readRuntimeSettings } from '../../reconciler/src/sim/ollama/serve-env.ts';

describe('format.HumanBytes', () => {
  it.each([
    [4920753328, '4.9 GB'], [42520413916, '42 GB'], [274302450, '274 MB'], [2019393189, '2.0 GB'], [12569170041, '12 GB'],
    [2_000_000_000, '2 GB'], [9_999_999_999, '10.0 GB'], [999, '999 B'], [1000, '1 KB'], [1536, '1.5 KB'], [1.2e12, '1.2 TB'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatHumanBytes(bytes)).toBe(text);
  });
});

describe('format.HumanTime', () => {
  const now = new Date('2026-11-24T10:00:00Z');
  const at = (seconds: number): Date => new Date(now.getTime() - seconds * 1000);
  it.each([
    [0.4, 'Less than a second ago'], [1, '1 second ago'], [59, '59 seconds ago'], [60, 'About a minute ago'],
    [3599, '59 minutes ago'], [3600, 'About an hour ago'], [5399, 'About an hour ago'], [5400, '2 hours ago'],
    [2 * 86400, '2 days ago'], [21 * 86400, '3 weeks ago'], [90 * 86400, '3 months ago'], [800 * 86400, '2 years ago'],
    [-299, '4 minutes from now'], [-30 * 365 * 86400, 'Forever'],
  ])('%d s -> %s', (seconds, text) => {
    expect(formatHumanTime(at(seconds), now)).toBe(text);
  });
});

describe('Go values', () => {
  it('prints time.Time as RFC 3339 with trimmed nanoseconds', () => {
    expect(formatGoTime(new Date('2026-10-04T06:34:03.409Z'), { nanos: 490317, utc: true })).toBe('2026-10-04T06:34:03.409490317Z');
    expect(formatGoTime(new Date('2026-10-04T06:34:03.000Z'), { utc: true })).toBe('2026-10-04T06:34:03Z');
  });

  it('parses durations like time.ParseDuration and keep-alive like envconfig', () => {
    expect(parseGoDuration('24h')).toBe(86_400_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(keepAliveMs({})).toBe(300_000);
    expect(keepAliveMs({ OLLAMA_KEEP_ALIVE: '-1' })).toBe(Number.POSITIVE_INFINITY);
    expect(keepAliveMs({ OLLAMA_KEEP_ALIVE: '600' })).toBe(600_000);
    expect(keepAliveMs({ OLLAMA_KEEP_ALIVE: '"24h"' })).toBe(86_400_000);
  });

  it('halves the KV cache with q8_0 only when flash attention is on', () => {
    expect(readRuntimeSettings({ OLLAMA_KV_CACHE_TYPE: 'q8_0' }).kvBytesPerElement).toBe(2);
    expect(readRuntimeSettings({ OLLAMA_KV_CACHE_TYPE: 'q8_0', OLLAMA_FLASH_ATTENTION: '1' }).kvBytesPerElement).toBe(1);
  });

  it('writes JSON like encoding/json: HTML characters escaped, float32 shortest', () => {
    expect(goJson({ t: '<a&b>' })).toBe('{"t":"\\u003ca\\u0026b\\u003e"}');
    expect(formatFloat32(0.1)).toBe('0.1');
    expect(formatFloat32(-0.052135885)).toBe('-0.052135885');
    // encoding/json trims strconv's padded exponent: e-07 becomes e-7.
    expect(formatFloat32(1.2e-7)).toBe('1.2e-7');
    expect(formatFloat32(3e21)).toBe('3e+21');
    expect(Math.fround(Number(formatFloat32(0.123456789)))).toBe(Math.fround(0.123456789));
  });

  it('formats parameter sizes as Ollama stores them', () => {
    expect(formatParameterSize(8)).toBe('8.0B');
    expect(formatParameterSize(70.6)).toBe('70.6B');
    expect(formatParameterSize(0.137)).toBe('137M');
  });

  it('formats counts as format.HumanNumber', () => {
    expect(humanNumber(8_030_261_248)).toBe('8.0B');
    expect(humanNumber(70_000_000_000)).toBe('70B');
    expect(humanNumber(136_727_040)).toBe('136.73M');
    expect(humanNumber(137_000_000)).toBe('137M');
    expect(humanNumber(4_321)).toBe('4K');
    expect(humanNumber(12)).toBe('12');
  });

  it('quotes as %q does', () => {
    expect(goQuote('llama3.1:8b')).toBe('"llama3.1:8b"');
    expect(goQuote('a"b\\c\n\t\u0001é')).toBe('"a\\"b\\\\c\\n\\t\\x01é"');
  });
});

describe('model names', () => {
  it('normalises a missing tag and the default registry', () => {
    const n = parseModelName('nomic-embed-text');
    expect(n).toEqual({ host: 'registry.ollama.ai', namespace: 'library', model: 'nomic-embed-text', tag: 'latest' });
    expect(displayShortest(n ?? { host: '', namespace: '', model: '', tag: '' })).toBe('nomic-embed-text:latest');
    const full = parseModelName('registry.ollama.ai/library/llama3.1:8b');
    expect(full && displayShortest(full)).toBe('llama3.1:8b');
    const ns = parseModelName('someone/tool:v1');
    expect(ns && displayShortest(ns)).toBe('someone/tool:v1');
  });

  it.each(['', 'bad name', 'a:b:c:d/e', '../../etc/passwd', 'x@sha256:abc', 'x:', '/ns/m', 'a/b/c/d', 'Ns.x/m'])('rejects %j', (ref) => {
    expect(parseModelName(ref)).toBeUndefined();
  });

  it('takes a scheme on the host part, and a host with a port', () => {
    expect(parseModelName('https://registry.ollama.ai/library/llama3.1:8b')).toEqual({ host: 'registry.ollama.ai', namespace: 'library', model: 'llama3.1', tag: '8b' });
    expect(parseModelName('localhost:5000/me/tool')).toEqual({ host: 'localhost:5000', namespace: 'me', model: 'tool', tag: 'latest' });
  });

  it('splits the :local and :cloud source suffixes and trims, as modelref.ParseRef', () => {
    expect(parseModelRef('  qwen3:8b:local ')).toEqual({ ok: true, ref: { original: 'qwen3:8b:local', base: 'qwen3:8b', source: 'local' } });
    expect(parseModelRef('gpt-oss:20b-cloud')).toMatchObject({ ok: true, ref: { base: 'gpt-oss:20b', source: 'cloud' } });
    expect(parseModelRef('   ')).toEqual({ ok: false, reason: 'required', message: 'model is required' });
    expect(parseModelRef('foo:cloud:local')).toEqual({ ok: false, reason: 'conflict', message: 'use either :local or :cloud, not both: "foo:cloud:local"' });
  });

  it('takes each part\'s spelling from stored names, part by part (getExistingName)', () => {
    const stored = [parseModelName('Llama3.1:8B'), parseModelName('mistral:Latest')].filter((n) => n !== undefined);
    expect(canonicalName(parseModelName('llama3.1:latest') as ModelName, stored)).toMatchObject({ model: 'Llama3.1', tag: 'Latest' });
  });
});
