// The webhook signature and secret loading, against GitHub's documented example.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadWebhookSecret, parsePushEvent, signGithubBody, verifyGithubSignature } from '../../reconciler/src/daemon/webhook.ts';

// From GitHub's "Validating webhook deliveries" documentation.
const DOC_SECRET = 'It\'s a Secret to Everybody';
const DOC_BODY = Buffer.from('Hello, World!');
const DOC_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('verifyGithubSignature', () => {
  it('accepts the documented example', () => {
    expect(verifyGithubSignature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE)).toBe(true);
    expect(signGithubBody(DOC_SECRET, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(verifyGithubSignature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE.toUpperCase().replace('SHA256=', 'sha256='))).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['no prefix', DOC_SIGNATURE.slice(7)],
    ['one digit off', `${DOC_SIGNATURE.slice(0, -1)}f`],
    ['too short', DOC_SIGNATURE.slice(0, -2)],
    ['too long', `${DOC_SIGNATURE}00`],
    ['sha1', 'sha1=757107ea0eb2509fc211221cce984b8a37570b6d'],
  ])('rejects %s', (_name, header) => {
    expect(verifyGithubSignature(DOC_SECRET, DOC_BODY, header)).toBe(false);
  });

  it('rejects everything when the secret is empty', () => {
    expect(verifyGithubSignature('', DOC_BODY, signGithubBody('', DOC_BODY))).toBe(false);
  });

  it('depends on every byte of the body', () => {
    expect(verifyGithubSignature(DOC_SECRET, Buffer.from('Hello, World?'), DOC_SIGNATURE)).toBe(false);
  });
});

describe('loadWebhookSecret', () => {
  let tmp: string;
  beforeEach(async () => { tmp = await mkdtemp(join(tmpdir(), 'fleet-secret-')); });
  afterEach(async () => { await rm(tmp, { recursive: true, force: true }); });

  it('reads the environment, or a file (which wins), or gives null', async () => {
    expect(await loadWebhookSecret({ env: {} })).toBeNull();
    expect(await loadWebhookSecret({ env: { FLEET_WEBHOOK_SECRET: 'from-env' } })).toBe('from-env');
    await writeFile(join(tmp, 's'), 'from-file\n');
    expect(await loadWebhookSecret({ env: { FLEET_WEBHOOK_SECRET: 'from-env', FLEET_WEBHOOK_SECRET_FILE: join(tmp, 's') } })).toBe('from-file');
    expect(await loadWebhookSecret({ env: {}, file: join(tmp, 's') })).toBe('from-file');
  });

  it('fails clearly on a missing or empty file', async () => {
    await expect(loadWebhookSecret({ env: {}, file: join(tmp, 'nope') })).rejects.toThrow(/cannot read the webhook secret file/);
    await writeFile(join(tmp, 'empty'), '\n');
    await expect(loadWebhookSecret({ env: {}, file: join(tmp, 'empty') })).rejects.toThrow(/is empty/);
  });
});

describe('parsePushEvent', () => {
  it('reads JSON and form-encoded bodies', () => {
    const json = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), before: 'not-a-sha' });
    expect(parsePushEvent(Buffer.from(json), 'application/json')).toEqual({ ref: 'refs/heads/main', after: 'a'.repeat(40), before: null });
    expect(parsePushEvent(Buffer.from(`payload=${encodeURIComponent(json)}`), 'application/x-www-form-urlencoded')?.ref).toBe('refs/heads/main');
  });

  it.each(['', 'null', '[]', '{"ref": 5}', 'payload=x'])('gives null for %j', (body) => {
    expect(parsePushEvent(Buffer.from(body), 'application/json')).toBeNull();
  });
});
