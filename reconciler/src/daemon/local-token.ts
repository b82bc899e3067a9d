// The local token: what a person on Bob holds to act through the daemon's
// HTTP side ("Reconcile now" on the dashboard). Everything else there is
// read-only. Created at the daemon's first start as a 0600 file in Bob's
// ~/.symphony/ (fleetd.yaml's local_token_file), 32 random bytes, never
// logged, never in /api/status or the page; checked in constant time.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FleetError } from '../errors.ts';

export interface LocalToken {
  /** The file a person reads it from. */
  file: string;
  check(candidate: string | undefined): boolean;
}

const TOKEN_RE = /^[0-9a-f]{64}$/;

/** Reads the token, or creates it (0600, in a 0700 directory) when the file does not exist. */
export async function openLocalToken(file: string): Promise<LocalToken> {
  let token: string;
  try {
    const info = await lstat(file);
    if (!info.isFile()) throw new FleetError('invalid-input', `${file} is not a plain file: the local token must be one. Remove it and restart the daemon to make a new token.`);
    if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
    token = (await readFile(file, 'utf8')).trim();
    if (!TOKEN_RE.test(token)) throw new FleetError('invalid-input', `${file} does not hold a local token (64 hex digits). Remove it and restart the daemon to make a new one.`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    token = randomBytes(32).toString('hex');
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  }
  // Compared as digests, so the lengths always match and nothing leaks through timing.
  const expected = createHash('sha256').update(token).digest();
  return {
    file,
    check(candidate) {
      if (candidate === undefined || candidate.length === 0 || candidate.length > 256) return false;
      return timingSafeEqual(expected, createHash('sha256').update(candidate.trim()).digest());
    },
  };
}
