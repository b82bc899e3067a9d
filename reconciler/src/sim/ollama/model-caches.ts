// The server's in-process model caches (server/model_caches.go), which live
// as long as one `ollama serve`. Each entry is keyed by model name and
// remembers the manifest digest it was built from: a manifest whose bytes
// change is rebuilt on its next use, but blobs removed under an unchanged
// manifest go unnoticed until the server restarts.
//   list       model_list_cache.go: /api/tags; every call re-reads the
//              manifests folder, builds new or changed entries, drops entries
//              whose manifest is gone or no longer builds.
//   inference  model_inference_cache.go: the model generate, chat and the
//              embedding routes run (GetModel), capabilities included.
//   show       model_show_cache.go: /api/show answers, filled on demand.

export interface CachedEntry<T> {
  digest: string;
  value: T;
}

export class DigestCache<T> {
  private readonly entries = new Map<string, CachedEntry<T>>();

  /** The cached value for `key` if it was built from `digest`, else `build()` (cached when it gives a value). */
  get(key: string, digest: string, build: () => T | undefined): T | undefined {
    const hit = this.entries.get(key);
    if (hit?.digest === digest) return hit.value;
    const value = build();
    if (value !== undefined) this.entries.set(key, { digest, value });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }
}

export class ModelCaches<Summary, Model, Show> {
  readonly list = new DigestCache<Summary>();
  readonly inference = new DigestCache<Model>();
  readonly show = new DigestCache<Show>();

  /**
   * syncManifests: the current manifests (key and digest) decide the list;
   * a changed manifest that fails to build drops its old entry.
   */
  syncList(current: ReadonlyArray<{ key: string; digest: string }>, build: (key: string) => Summary | undefined): Array<{ key: string; summary: Summary }> {
    const seen = new Set(current.map((c) => c.key));
    for (const key of this.list.keys()) if (!seen.has(key)) this.list.delete(key);
    const out: Array<{ key: string; summary: Summary }> = [];
    for (const { key, digest } of current) {
      const summary = this.list.get(key, digest, () => build(key));
      if (summary === undefined) this.list.delete(key);
      else out.push({ key, summary });
    }
    return out;
  }

  /** A restart starts cold. */
  clear(): void {
    this.list.clear();
    this.inference.clear();
    this.show.clear();
  }
}
