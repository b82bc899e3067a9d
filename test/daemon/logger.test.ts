// The daemon logger: JSON lines by default, pretty for a TTY, levels, and
// secrets redacted wherever they sit in the fields.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel } from '../../reconciler/src/daemon/logger.ts';

function sink(isTTY = false): Writable & { lines: string[]; isTTY: boolean } {
  const lines: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      cb();
    },
  });
  return Object.assign(w, { lines, isTTY });
}

describe('createLogger', () => {
  it('writes one JSON line per event: a fixed message, details as fields', () => {
    const out = sink();
    const log = createLogger({ destination: out, base: { name: 'fleetd' } });
    log.info({ node: 'virtuoso', model: 'llama3.1:8b', bytes: 4920000000 }, 'model pulled');
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0] ?? '');
    expect(line).toMatchObject({ level: 30, msg: 'model pulled', node: 'virtuoso', model: 'llama3.1:8b', bytes: 4920000000, name: 'fleetd', pid: process.pid });
    expect(typeof line.time).toBe('string');
  });

  it('redacts secrets, authorization headers, signatures and private keys', () => {
    const out = sink();
    const log = createLogger({ destination: out });
    log.info({
      secret: 's1', webhook_secret: 's2',
      settings: { webhookSecret: 's3', token: 's4' },
      req: { headers: { authorization: 'Bearer s5', 'x-hub-signature-256': 'sha256=s6', host: 'bob' } },
      ssh: { private_key: '-----BEGIN OPENSSH PRIVATE KEY-----', passphrase: 's7' },
    }, 'config loaded');
    const text = out.lines.join('\n');
    for (const s of ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 'BEGIN OPENSSH']) expect(text).not.toContain(s);
    expect(JSON.parse(out.lines[0] ?? '').req.headers.host).toBe('bob');
    expect(text).toContain('[redacted]');
  });

  it('honours the level', () => {
    const out = sink();
    const log = createLogger({ destination: out, level: 'warn' });
    log.info({}, 'quiet');
    log.warn({}, 'loud');
    expect(out.lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['loud']);
    const silent = sink();
    createLogger({ destination: silent, level: 'silent' }).error({}, 'nothing');
    expect(silent.lines).toEqual([]);
  });

  it('prints pretty lines on a TTY (auto) or when asked, JSON otherwise', () => {
    const tty = sink(true);
    createLogger({ destination: tty }).info({ node: 'maestro' }, 'node converged');
    expect(tty.lines.join('\n')).toMatch(/INFO.*node converged/);
    expect(() => JSON.parse(tty.lines[0] ?? '') as unknown).toThrow();
    const forced = sink(false);
    createLogger({ destination: forced, pretty: true }).info({ secret: 'hunter2' }, 'x');
    expect(forced.lines.join('\n')).not.toContain('hunter2');
    const json = sink(true);
    createLogger({ destination: json, pretty: false }).info({}, 'y');
    expect(JSON.parse(json.lines[0] ?? '').msg).toBe('y');
  });

  it.each([['info', true], ['silent', true], ['trace', true], ['verbose', false], ['', false]])('isLogLevel(%s) = %s', (v, ok) => {
    expect(isLogLevel(v)).toBe(ok);
  });
});
