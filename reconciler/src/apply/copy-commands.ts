// The remote command lines of a LAN model copy (apply/copy-model.ts), built
// only with sh``. Pure: no I/O.
//
// The target pulls from the source over SSH with a key made for this one
// copy: Bob puts its public half in the source's authorized_keys, restricted
// (`restrict`, `from=` the target's address, a forced command that can only
// read one blob by digest), and its private half on the target beside a
// known_hosts file that pins the source's host key (the one in
// fleet/known_hosts). Both are removed when the copy ends. The bytes go source
// -> target; Bob only runs the commands.
//
// Layout (Ollama's): $HOME/.ollama/models/{blobs/sha256-<hex>,manifests/<host>/<ns>/<model>/<tag>}.
// A blob arrives in .symphony-partial/ (outside blobs/ and manifests/, so
// Ollama neither lists nor prunes it), grows by appending from the byte the
// last attempt reached, is checked with `shasum -a 256` (on every macOS
// release; sha256sum only from macOS 15), then moved into blobs/ by rename.
// The manifest goes last, the same way, so a half-copied model is never listed.
import { FleetError } from '../errors.ts';
import { raw, sh, type ShellLine } from '../shell/quote.ts';
import { operand, writeFileCommand, type RemoteCommand } from './step-commands.ts';

const MODELS = raw('"$HOME"/.ollama/models');
const PARTIAL = raw('"$HOME"/.ollama/models/.symphony-partial');
/** Where the per-copy key and pinned host key live on the target. */
export const COPY_KEY_DIR = '~/.symphony/copy';
/** The forced command's script on the source. */
export const SERVE_SCRIPT_PATH = '~/.symphony/serve-blob';
/** Every per-copy key line carries this in its comment, so it can be found and removed. */
export const COPY_KEY_MARKER = 'symphony-copy-';

/**
 * Serves one blob of the source's Ollama store to a peer, from a byte
 * offset: what a copy key may run and nothing else. POSIX sh; run by sshd as
 * the key's forced command with the peer's request in SSH_ORIGINAL_COMMAND.
 */
export const SERVE_SCRIPT = `# symphony-fleet: serves one Ollama blob to a peer Mac (a LAN model copy).
# sshd runs it as the forced command of a per-copy key; the peer may only ask
# "blob <sha256 hex> <offset>". Written by fleet apply; safe to delete.
set -f
set -- $SSH_ORIGINAL_COMMAND
if [ "$#" -ne 3 ] || [ "$1" != blob ]; then echo 'serve-blob: expected "blob <sha256 hex> <offset>"' >&2; exit 64; fi
case $2 in *[!0-9a-f]*) echo 'serve-blob: not a sha256 digest' >&2; exit 64;; esac
if [ "\${#2}" -ne 64 ]; then echo 'serve-blob: not a sha256 digest' >&2; exit 64; fi
case $3 in ''|*[!0-9]*) echo 'serve-blob: not a byte offset' >&2; exit 64;; esac
f="$HOME/.ollama/models/blobs/sha256-$2"
if [ ! -f "$f" ]; then echo "serve-blob: no blob sha256-$2 on this Mac" >&2; exit 66; fi
tail -c "+$(($3 + 1))" "$f"
`;

/** Exit statuses of copyBlobCommand, read by copy-model.ts. */
export const COPY_EXIT = {
  /** The blob arrived whole and matched its digest (or was there already). */
  ok: 0,
  /** The bytes did not match the digest: the partial file was deleted. */
  digestMismatch: 65,
  /** The source stopped before the end (the partial stays: the next attempt resumes). */
  short: 75,
  /** ssh could not reach or log in to the source (exit 255). */
  sourceAway: 76,
  /** The source answered but could not serve the blob (no such blob, refused). */
  sourceFailed: 77,
} as const;

function hex(digest: string): string {
  const m = /^sha256[:-]([0-9a-f]{64})$/.exec(digest);
  if (!m?.[1]) throw new FleetError('invalid-input', `not a sha256 digest: ${JSON.stringify(digest)}`);
  return m[1];
}

function tagWord(tag: string): string {
  if (!/^[a-z0-9]{4,32}$/.test(tag)) throw new FleetError('invalid-input', `copy tag ${JSON.stringify(tag)}: want 4-32 lowercase letters and digits`);
  return tag;
}

/**
 * `llama3.1:8b` -> `registry.ollama.ai/library/llama3.1/8b`: where Ollama keeps
 * the manifest under manifests/ (a missing tag is `latest`, a missing namespace `library`).
 */
export function manifestRelPath(model: string): string {
  const m = /^(?:([a-z0-9][a-z0-9._-]{0,79})\/)?([a-z0-9][a-z0-9._-]{0,79})(?::([a-z0-9][a-z0-9._-]{0,79}))?$/.exec(model);
  if (!m?.[2]) throw new FleetError('invalid-input', `model ${JSON.stringify(model)} is not a name[:tag] Ollama stores under manifests/`);
  return `registry.ollama.ai/${m[1] ?? 'library'}/${m[2]}/${m[3] ?? 'latest'}`;
}

export function readManifestCommand(model: string): ShellLine {
  return sh`cat ${MODELS}/manifests/${manifestRelPath(model)}`;
}

/** Where the target reaches the source's sshd, and the host key pinned for it. */
export interface CopySource {
  host: string;
  port: number;
  user: string;
  /** `ssh-ed25519 AAAA...` from fleet/known_hosts (or the simulated fleet's targets). */
  hostKey: string;
}

/** The known_hosts line the target checks the source against. */
export function knownHostsLine(source: CopySource): string {
  const name = source.port === 22 ? source.host : `[${source.host}]:${source.port}`;
  return `${name} ${source.hostKey}\n`;
}

/** The authorized_keys line of a per-copy key on the source. */
export function copyKeyLine(publicKey: string, tag: string, fromAddress: string | undefined): string {
  const key = /^(ssh-ed25519 [A-Za-z0-9+/=]+)/.exec(publicKey.trim())?.[1];
  if (key === undefined) throw new FleetError('invalid-input', 'copy key: not an ssh-ed25519 public key');
  if (fromAddress !== undefined && !/^[0-9a-fA-F.:]+$/.test(fromAddress)) throw new FleetError('invalid-input', `copy key: from= ${JSON.stringify(fromAddress)} is not an IP address`);
  const from = fromAddress === undefined ? '' : `,from="${fromAddress}"`;
  return `restrict${from},command="/bin/sh .symphony/serve-blob" ${key} ${COPY_KEY_MARKER}${tagWord(tag)}`;
}

/** Source: the forced command's script, written whole or not at all. */
export function serveScriptCommand(tag: string): RemoteCommand {
  return writeFileCommand({ path: SERVE_SCRIPT_PATH, mode: 0o644 }, SERVE_SCRIPT, tagWord(tag));
}

/** Source: allow the per-copy key (appended; sshd reads the file at each login). */
export function grantCopyKeyCommand(line: string): ShellLine {
  return sh`mkdir -p "$HOME"/.ssh && chmod 700 "$HOME"/.ssh && printf '%s\\n' ${line} >> "$HOME"/.ssh/authorized_keys && chmod 600 "$HOME"/.ssh/authorized_keys`;
}

/**
 * Source: remove per-copy key lines, those of one copy (`tag`) or every one
 * left by an interrupted apply (no tag). Every other line is kept as it was;
 * grep exits 1 when it selects nothing, which is not an error here.
 */
export function revokeCopyKeysCommand(tag?: string): ShellLine {
  const marker = tag === undefined ? COPY_KEY_MARKER : `${COPY_KEY_MARKER}${tagWord(tag)}`;
  return sh`f="$HOME"/.ssh/authorized_keys; if test -f "$f"; then { grep -v -F ${marker} "$f" > "$f".symphony-tmp || test $? -eq 1; } && chmod 600 "$f".symphony-tmp && mv -f "$f".symphony-tmp "$f"; fi`;
}

/** Target: the per-copy private key (0600) and the source's pinned host key. */
export function installCopyKeyCommands(tag: string, privateKey: string, source: CopySource): RemoteCommand[] {
  const t = tagWord(tag);
  return [
    writeFileCommand({ path: `${COPY_KEY_DIR}/${t}.key`, mode: 0o600 }, privateKey, t),
    writeFileCommand({ path: `${COPY_KEY_DIR}/${t}.known_hosts`, mode: 0o644 }, knownHostsLine(source), t),
  ];
}

/** Target: end the copy's shared connection (when there is one) and remove its key and pinned host key. */
export function removeCopyKeyCommand(tag: string, source?: CopySource): ShellLine {
  const t = tagWord(tag);
  const files = sh`rm -f "$HOME"/.symphony/copy/${`${t}.key`} "$HOME"/.symphony/copy/${`${t}.known_hosts`}`;
  if (source === undefined) return files;
  const ctl = sh`"$HOME"/.symphony/copy/${`${t}.ctl`}`;
  const host = operand(source.host, 'the source\'s address');
  const user = operand(source.user, 'the source\'s login name');
  return sh`{ test -S ${ctl} && ssh -F /dev/null -o ${raw('ControlPath=')}${ctl} -O exit -p ${source.port} -l ${user} ${host} >/dev/null 2>&1; true; } && ${files}`;
}

/**
 * Target: fetch one blob from the source, resuming a partial file, verify its
 * sha256, put it in place by rename (0644). A blob already in blobs/ with its
 * size is kept (Ollama trusts blobs by name; each was verified when placed).
 */
export function copyBlobCommand(digest: string, size: number, source: CopySource, tag: string, connectTimeoutS = 10): ShellLine {
  const h = hex(digest);
  const t = tagWord(tag);
  if (!Number.isSafeInteger(size) || size < 0) throw new FleetError('invalid-input', `blob size ${size} is not a byte count`);
  const blob = sh`${MODELS}/blobs/${`sha256-${h}`}`;
  const part = sh`${PARTIAL}/${`sha256-${h}`}`;
  const key = sh`"$HOME"/.symphony/copy/${`${t}.key`}`;
  const known = sh`"$HOME"/.symphony/copy/${`${t}.known_hosts`}`;
  const user = operand(source.user, 'the source\'s login name');
  const host = operand(source.host, 'the source\'s address');
  const ctl = sh`"$HOME"/.symphony/copy/${`${t}.ctl`}`;
  // One connection for every blob of the copy: the first ssh is the master, the others ride on it.
  const ssh = sh`ssh -F /dev/null -o ControlMaster=auto -o ${raw('ControlPath=')}${ctl} -o ControlPersist=30 -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o ${raw('UserKnownHostsFile=')}${known} -o GlobalKnownHostsFile=/dev/null -o ${`ConnectTimeout=${connectTimeoutS}`} -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -p ${source.port} -l ${user} ${host} blob ${h} "$have"`;
  return sh`b=${blob}; p=${part}; if test -f "$b" && test "$(stat -f %z "$b")" = ${size}; then exit 0; fi; mkdir -p ${MODELS}/blobs ${PARTIAL} || exit 1; have=0; if test -f "$p"; then have=$(stat -f %z "$p"); fi; if test "$have" -gt ${size}; then rm -f "$p"; have=0; fi; if test "$have" -lt ${size}; then ${ssh} >> "$p"; rc=$?; if test "$rc" -eq 255; then exit ${COPY_EXIT.sourceAway}; fi; if test "$rc" -ne 0; then exit ${COPY_EXIT.sourceFailed}; fi; fi; test "$(stat -f %z "$p")" = ${size} || exit ${COPY_EXIT.short}; sum=$(shasum -a 256 < "$p"); case "$sum" in ${`${h} `}*) ;; *) rm -f "$p"; printf '%s\\n' ${`sha256 mismatch for sha256-${h}`} >&2; exit ${COPY_EXIT.digestMismatch};; esac; chmod 644 "$p" && mv -f "$p" "$b"`;
}

/** Target: the manifest, last: checked by size and sha256 (the model's digest), then renamed into manifests/. */
export function installManifestCommand(model: string, manifest: string, digestHex: string, tag: string): RemoteCommand {
  const rel = manifestRelPath(model);
  const dir = rel.slice(0, rel.lastIndexOf('/'));
  const t = tagWord(tag);
  const h = hex(`sha256:${digestHex}`);
  const tmp = sh`${PARTIAL}/${`manifest-${t}`}`;
  const bytes = Buffer.byteLength(manifest, 'utf8');
  const line = sh`t=${tmp}; mkdir -p ${PARTIAL} ${MODELS}/manifests/${dir} && cat > "$t" && test "$(stat -f %z "$t")" = ${bytes} && sum=$(shasum -a 256 < "$t") && case "$sum" in ${`${h} `}*) ;; *) rm -f "$t"; printf '%s\\n' ${`manifest sha256 mismatch for ${model}`} >&2; exit ${COPY_EXIT.digestMismatch};; esac && chmod 644 "$t" && mv -f "$t" ${MODELS}/manifests/${rel}`;
  return { what: `install the manifest of ${model}`, line, stdin: manifest };
}

/** Target: how far a blob's partial file has grown (the copy's progress). */
export function partialSizeCommand(digest: string): ShellLine {
  return sh`stat -f %z ${PARTIAL}/${`sha256-${hex(digest)}`}`;
}
