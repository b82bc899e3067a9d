// GitHub push webhooks: the signature check (HMAC-SHA256 of the raw body,
// compared in constant time), where the secret comes from, and the few fields
// of a push event the daemon reads.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FleetError } from '../errors.ts';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** True only for a well-formed `sha256=<64 hex>` header matching the body. */
export function verifyGithubSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (secret.length === 0 || header === undefined) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (match?.[1] === undefined) return false;
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  // Both are 32 bytes here, as timingSafeEqual requires.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header GitHub would send for `body` (tests, the bench, and `fleet daemon` docs). */
export function signGithubBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface SecretSource {
  env?: NodeJS.ProcessEnv;
  /** A file holding the secret (trailing newline ignored); wins over FLEET_WEBHOOK_SECRET_FILE. */
  file?: string;
}

/**
 * The webhook secret from FLEET_WEBHOOK_SECRET, or from a file (option or
 * FLEET_WEBHOOK_SECRET_FILE). null when none is configured: the webhook is off.
 */
export async function loadWebhookSecret(source: SecretSource = {}): Promise<string | null> {
  const env = source.env ?? process.env;
  const file = source.file ?? env.FLEET_WEBHOOK_SECRET_FILE;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new FleetError('invalid-input', `cannot read the webhook secret file ${file}: ${(err as Error).message}`, { cause: err });
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret.length === 0) throw new FleetError('invalid-input', `the webhook secret file ${file} is empty; put the secret you gave GitHub in it`);
    return secret;
  }
  const fromEnv = env.FLEET_WEBHOOK_SECRET;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : null;
}

export interface PushEvent {
  ref: string;
  after: string | null;
  before: string | null;
}

/**
 * The push fields of a webhook body, JSON or form-encoded (`payload=`), as
 * GitHub sends either depending on the hook's content type. null if unparsable.
 */
export function parsePushEvent(body: Buffer, contentType: string | undefined): PushEvent | null {
  let text = body.toString('utf8');
  if ((contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.ref !== 'string') return null;
  const sha = (x: unknown): string | null => (typeof x === 'string' && /^[0-9a-f]{40,64}$/.test(x) ? x : null);
  return { ref: o.ref, after: sha(o.after), before: sha(o.before) };
}
