// The on-disk model store of one simulated node, laid out like Ollama's:
//   <models>/manifests/registry.ollama.ai/library/<model>/<tag>   (manifest JSON)
//   <models>/blobs/sha256-<hex>                                     (finished blobs)
//   <models>/blobs/sha256-<hex>-partial, -partial-<N>               (interrupted pulls)
// Weights are sparse files (ftruncate), so a 42 GB model costs no real disk
// but has its real apparent size for `du`/`df` stand-ins.
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { goJson } from './go-json.ts';
import { scanFirstValue } from './go-json-decode.ts';
import { blobFileName, MEDIA_MANIFEST, type LayerPlan, type ManifestDoc, type ModelConfig, type ModelPlan } from './model-layers.ts';
import { manifestPathOf, nameFromParts, sameName, type ModelName } from './model-name.ts';

export interface StoredModel {
  name: ModelName;
  manifestPath: string;
  manifest: ManifestDoc;
  /** sha256 of the manifest file, what /api/tags calls the digest. */
  digest: string;
  /** Sum of layer and config sizes. */
  size: number;
  modifiedAt: Date;
  /** Sub-millisecond part of the manifest's mtime, for Go's nanosecond timestamps. */
  modifiedNanos: number;
}

/** One byte range of a blob download, as Ollama keeps it in `sha256-<hex>-partial-<N>`. */
export interface DownloadPart {
  N: number;
  Offset: number;
  Size: number;
  Completed: number;
}

const PART_MIN = 100e6;
const PART_MAX = 1000e6;
const PARTS = 16;

/** Ollama's split of a blob into up to 16 ranges of 100 MB to 1 GB. */
export function splitIntoParts(total: number): DownloadPart[] {
  const size = Math.min(PART_MAX, Math.max(PART_MIN, Math.floor(total / PARTS)));
  const parts: DownloadPart[] = [];
  for (let offset = 0, n = 0; offset < total; offset += size, n++) {
    parts.push({ N: n, Offset: offset, Size: Math.min(size, total - offset), Completed: 0 });
  }
  return parts;
}

export class ModelStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  blobsDir(): string {
    return join(this.dir, 'blobs');
  }

  blobPath(digest: string): string {
    return join(this.blobsDir(), blobFileName(digest));
  }

  partialPath(digest: string): string {
    return `${this.blobPath(digest)}-partial`;
  }

  /** Size of a finished blob, undefined when absent. */
  blobSize(digest: string): number | undefined {
    try {
      return statSync(this.blobPath(digest)).size;
    } catch {
      return undefined;
    }
  }

  /** Writes a finished blob: real bytes for small blobs, a sparse file of the size for weights. */
  writeBlob(layer: LayerPlan): void {
    mkdirSync(this.blobsDir(), { recursive: true });
    const path = this.blobPath(layer.digest);
    if (layer.content) writeFileSync(path, layer.content);
    else {
      closeSync(openSync(path, 'w'));
      truncateSync(path, layer.size);
    }
  }

  /** Parts of an interrupted download of `digest`, [] when there is none. */
  readParts(digest: string): DownloadPart[] {
    const prefix = `${blobFileName(digest)}-partial-`;
    let names: string[];
    try {
      names = readdirSync(this.blobsDir());
    } catch {
      return [];
    }
    const parts: DownloadPart[] = [];
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      try {
        const part = JSON.parse(readFileSync(join(this.blobsDir(), name), 'utf8')) as DownloadPart;
        if (Number.isInteger(part.N) && Number.isFinite(part.Size) && Number.isFinite(part.Completed)) parts.push(part);
      } catch {
        // A torn part file: Ollama would fail; the sim starts that part again.
      }
    }
    return parts.sort((a, b) => a.N - b.N);
  }

  /** Sets the -partial file's apparent size to the bytes received, so disk accounting follows the download. */
  growPartial(digest: string, received: number): void {
    mkdirSync(this.blobsDir(), { recursive: true });
    const partial = this.partialPath(digest);
    if (!existsSync(partial)) closeSync(openSync(partial, 'w'));
    truncateSync(partial, received);
  }

  /** Records download progress in the part files (`sha256-<hex>-partial-<N>`). */
  writeParts(digest: string, parts: readonly DownloadPart[]): void {
    const partial = this.partialPath(digest);
    // json.Encoder's form: fixed key order and a trailing newline.
    for (const p of parts) writeFileSync(`${partial}-${p.N}`, `${JSON.stringify({ N: p.N, Offset: p.Offset, Size: p.Size, Completed: p.Completed })}\n`);
  }

  /** Turns a completed download into the finished blob (part files removed, -partial renamed). */
  finishDownload(layer: LayerPlan, parts: readonly DownloadPart[]): void {
    const partial = this.partialPath(layer.digest);
    if (layer.content) writeFileSync(partial, layer.content);
    else {
      if (!existsSync(partial)) closeSync(openSync(partial, 'w'));
      truncateSync(partial, layer.size);
    }
    for (const part of parts) rmSync(`${partial}-${part.N}`, { force: true });
    renameSync(partial, this.blobPath(layer.digest));
  }

  /** Bytes already received for `digest` by interrupted downloads. */
  partialBytes(digest: string): number {
    return this.readParts(digest).reduce((n, p) => n + p.Completed, 0);
  }

  writeManifest(name: ModelName, manifest: Buffer, modifiedAt: Date): void {
    const path = manifestPathOf(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, manifest);
    utimesSync(path, modifiedAt, modifiedAt);
  }

  /** Writes every blob and the manifest at once (the 'provisioned' preset). */
  install(name: ModelName, plan: ModelPlan, modifiedAt: Date): void {
    for (const layer of [...plan.layers, plan.config]) {
      if (this.blobSize(layer.digest) === undefined) this.writeBlob(layer);
    }
    this.writeManifest(name, plan.manifest, modifiedAt);
  }

  /**
   * Every manifest as manifest.Manifests sees it: files exactly four folders
   * under manifests/ (filepath.Glob of manifests/<4 stars>, dot files included), re-read
   * on every call. A path whose four names are not a valid model name, or a
   * manifest that cannot be read or decoded, is skipped (logged upstream);
   * with `strict` (the start-up prune check) it is an error instead. A path
   * that cannot be stat'ed (a dangling symlink) is an error either way.
   */
  scan(strict = false): StoredModel[] {
    const root = join(this.dir, 'manifests');
    const out: StoredModel[] = [];
    for (const host of listDir(root)) {
      for (const namespace of listDir(join(root, host))) {
        for (const model of listDir(join(root, host, namespace))) {
          for (const tag of listDir(join(root, host, namespace, model))) {
            const path = join(root, host, namespace, model, tag);
            let isDir: boolean;
            try {
              isDir = statSync(path).isDirectory();
            } catch (err) {
              throw new ManifestScanError(`stat ${path}: ${errnoText(err)}`);
            }
            if (isDir) continue;
            const name = nameFromParts(host, namespace, model, tag);
            const stored = name ? this.readManifest(name, path) : undefined;
            if (stored) out.push(stored);
            else if (strict) throw new ManifestScanError(`${host}/${namespace}/${model}/${tag}: invalid manifest`);
          }
        }
      }
    }
    return out;
  }

  /** What /api/tags and deletes look at; never throws (a scan error lists nothing, and /api/tags reports it). */
  list(): StoredModel[] {
    try {
      return this.scan();
    } catch {
      return [];
    }
  }

  /**
   * ParseNamedManifest: the manifest at the name's own path. The simulated
   * Mac's volume ignores case as APFS does by default, so a name differing
   * only in case finds it too. A file that does not decode is an error that
   * is not "not exist" (handlers answer 500 with the decoder's message).
   */
  open(name: ModelName): ManifestOpen {
    const exact = this.readManifestFile(name, manifestPathOf(this.dir, name));
    if (exact.ok || !exact.notExist) return exact;
    const other = this.list().find((m) => sameName(m.name, name));
    return other ? { ok: true, model: other } : exact;
  }

  /** The manifest of `name`, undefined when there is none or it does not decode. */
  find(name: ModelName): StoredModel | undefined {
    const opened = this.open(name);
    return opened.ok ? opened.model : undefined;
  }

  private readManifest(name: ModelName, path: string): StoredModel | undefined {
    const opened = this.readManifestFile(name, path);
    return opened.ok ? opened.model : undefined;
  }

  private readManifestFile(name: ModelName, path: string): ManifestOpen {
    let raw: Buffer;
    let mtimeNs: bigint;
    try {
      const st = statSync(path, { bigint: true });
      if (st.isDirectory()) return { ok: false, notExist: false, message: `read ${path}: is a directory` };
      mtimeNs = st.mtimeNs;
      raw = readFileSync(path);
    } catch (err) {
      return { ok: false, notExist: (err as NodeJS.ErrnoException).code === 'ENOENT', message: `open ${path}: ${errnoText(err)}` };
    }
    const scanned = scanFirstValue(raw);
    if (scanned.kind === 'eof') return { ok: false, notExist: false, message: 'EOF' };
    if (scanned.kind === 'error') return { ok: false, notExist: false, message: scanned.message };
    const manifest = scanned.value as ManifestDoc | null;
    if (typeof manifest !== 'object' || manifest === null || !Array.isArray(manifest.layers) || typeof manifest.config?.digest !== 'string') {
      return { ok: false, notExist: false, message: 'json: cannot unmarshal into Go value of type manifest.Manifest' };
    }
    const size = manifest.layers.reduce((n, l) => n + l.size, 0) + manifest.config.size;
    const ms = Number(mtimeNs / 1_000_000n);
    return {
      ok: true,
      model: {
        name,
        manifestPath: path,
        manifest,
        digest: createHash('sha256').update(raw).digest('hex'),
        size,
        modifiedAt: new Date(ms),
        modifiedNanos: Number(mtimeNs % 1_000_000n),
      },
    };
  }

  /**
   * CopyModel: the source manifest file's bytes under the new name, unread
   * (same digest; a new file, so a new mtime). False when there is no source file.
   */
  copyManifest(source: ModelName, destination: ModelName, modifiedAt: Date): boolean {
    let from = manifestPathOf(this.dir, source);
    if (!existsSync(from)) {
      const other = this.list().find((m) => sameName(m.name, source));
      if (!other) return false;
      from = other.manifestPath;
    }
    const path = manifestPathOf(this.dir, destination);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(from, path);
    utimesSync(path, modifiedAt, modifiedAt);
    return true;
  }

  /** manifest.WriteManifest: json.Encoder output (so a trailing newline), schema version 2. */
  writeManifestDoc(name: ModelName, config: ManifestLayer, layers: readonly ManifestLayer[], modifiedAt: Date): void {
    const doc = { schemaVersion: 2, mediaType: MEDIA_MANIFEST, config, layers };
    this.writeManifest(name, Buffer.from(`${goJson(doc)}\n`), modifiedAt);
  }

  /**
   * manifest.NewLayer: a blob named by the sha256 of its bytes. An existing
   * blob is kept ("using existing layer"), a new one written 0644; either way
   * its mtime is set to now, which keeps it from the start-up prune.
   */
  putContentBlob(content: Buffer): { digest: string; size: number; existed: boolean } {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const path = this.blobPath(digest);
    const existed = existsSync(path);
    if (!existed) {
      mkdirSync(this.blobsDir(), { recursive: true });
      const temp = `${path}.tmp-${process.pid}`;
      writeFileSync(temp, content, { mode: 0o644 });
      renameSync(temp, path);
    }
    touch(path);
    return { digest, size: content.length, existed };
  }

  /** manifest.NewLayerFromLayer: the blob must exist (its size is taken from disk); touched like a new one. */
  reuseBlob(digest: string): number {
    const path = this.blobPath(digest);
    let size: number;
    try {
      size = statSync(path).size;
    } catch (err) {
      throw new ManifestScanError(`stat ${path}: ${errnoText(err)}`);
    }
    touch(path);
    return size;
  }

  /**
   * What `ollama serve` does to the store when it starts (server/routes.go
   * Serve): blobs named `sha256:<hex>` are renamed `sha256-<hex>`
   * (fixBlobs); then, unless OLLAMA_NOPRUNE, and only when every manifest
   * reads cleanly, every file in blobs/ untouched for an hour that is not a
   * valid `sha256-<64 hex>` name (partial downloads, temp files) or that no
   * manifest lists is deleted (PruneLayers), and empty manifest folders go.
   */
  startUp(prune: boolean, nowMs: number): void {
    const blobs = this.blobsDir();
    for (const name of listDir(blobs)) {
      if (name.startsWith('sha256:')) renameSync(join(blobs, name), join(blobs, name.replace(':', '-')));
    }
    if (!prune) return;
    let manifests: StoredModel[];
    try {
      manifests = this.scan(true);
    } catch {
      return;
    }
    const used = new Set<string>();
    for (const m of manifests) {
      used.add(m.manifest.config.digest);
      for (const l of m.manifest.layers) used.add(l.digest);
    }
    for (const name of listDir(blobs)) {
      const path = join(blobs, name);
      try {
        const st = statSync(path);
        if (st.isDirectory() || nowMs - st.mtimeMs < PRUNE_GRACE_MS) continue;
      } catch {
        continue;
      }
      const digest = name.replace(/-/g, ':');
      if (!VALID_DIGEST.test(digest) || !used.has(digest.replace(/^sha256[:-]/, 'sha256:'))) rmSync(path, { force: true });
    }
    pruneEmptyDirs(join(this.dir, 'manifests'));
  }

  readConfig(model: StoredModel): ModelConfig {
    try {
      return JSON.parse(readFileSync(this.blobPath(model.manifest.config.digest), 'utf8')) as ModelConfig;
    } catch {
      return {};
    }
  }

  /** Text of a small layer (template, license, params); '' when absent. */
  readLayerText(model: StoredModel, mediaType: string): string {
    const layer = model.manifest.layers.find((l) => l.mediaType === mediaType);
    if (!layer) return '';
    try {
      return readFileSync(this.blobPath(layer.digest), 'utf8');
    } catch {
      return '';
    }
  }

  /** Removes the manifest and every blob no other manifest uses; prunes empty manifest folders. */
  remove(model: StoredModel): void {
    rmSync(model.manifestPath, { force: true });
    pruneEmptyDirs(join(this.dir, 'manifests'));
    this.removeUnusedBlobs([...model.manifest.layers.map((l) => l.digest), model.manifest.config.digest]);
  }

  /**
   * Deletes those of `digests` that no manifest references any more. When the
   * manifests cannot be read (RemoveLayers' Manifests error) nothing is
   * deleted and the ManifestScanError goes to the caller.
   */
  removeUnusedBlobs(digests: readonly string[]): void {
    const used = new Set<string>();
    for (const m of this.scan()) {
      used.add(m.manifest.config.digest);
      for (const l of m.manifest.layers) used.add(l.digest);
    }
    for (const d of digests) if (!used.has(d)) rmSync(this.blobPath(d), { force: true });
  }

  /** Apparent bytes of everything under the store (finished blobs, partials, manifests). */
  usedBytes(): number {
    return sumApparentBytes(this.dir);
  }
}

/** Unused blobs survive the start-up prune for an hour after their last write (images.go layerPruneGracePeriod). */
const PRUNE_GRACE_MS = 3_600_000;
const VALID_DIGEST = /^sha256[:-][0-9a-fA-F]{64}$/;

/** A manifest folder that cannot be listed the way the server needs; the message is Go's. */
export class ManifestScanError extends Error {}

export type ManifestOpen = { ok: true; model: StoredModel } | { ok: false; notExist: boolean; message: string };

export interface ManifestLayer {
  mediaType: string;
  digest: string;
  size: number;
  from?: string;
}

/** The "no such file or directory" part of a Go *PathError. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return err instanceof Error ? err.message : String(err);
}

/** touchLayer; file times follow the host's clock, as the prune that reads them does. */
function touch(path: string): void {
  const now = new Date();
  utimesSync(path, now, now);
}

/** manifest.PruneDirectory: empty folders go, bottom up (the root too; the server recreates it). */
function pruneEmptyDirs(path: string): void {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) pruneEmptyDirs(join(path, e.name));
  try {
    if (readdirSync(path).length === 0) rmdirSync(path);
  } catch {
    // Not empty, or gone.
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

function sumApparentBytes(path: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const full = join(path, e.name);
    if (e.isDirectory()) total += sumApparentBytes(full);
    else if (e.isFile()) {
      try {
        total += statSync(full).size;
      } catch {
        // Removed while we walked.
      }
    }
  }
  return total;
}
