/**
 * RepositoryIndex: the embedded registry's own names (repositories, their tags, manifests and
 * blob links), kept apart from the local image store so that registry tags never clash with
 * `sbx images` tags. Blobs themselves live in the shared ContentStore; a repository only holds
 * *links* to them (as distribution does), so DELETE of a blob in one repository unlinks it there
 * and never removes bytes a local image or another repository still uses.
 *
 * On disk: `<dir>/<encodeURIComponent(name)>.json`, one file per repository, rewritten atomically
 * (temp, fsync, rename) under a per-repository mutex. The index is cached in memory: one process
 * (sbxd or `sbx registry serve`) owns a registry directory at a time.
 *
 * Garbage collection of the shared content store must treat `referencedDigests()` as roots.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError, type Digest } from '../../protocol/index.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';
import { KeyedMutex } from '../util/lock.js';

export interface ManifestEntry {
  mediaType: string;
  size: number;
  /** The manifest's `subject` (referrers API). */
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Blobs and manifests this one references (kept so blob links survive while referenced). */
  refs: Digest[];
}

export interface Repository {
  tags: Record<string, Digest>;
  manifests: Record<string, ManifestEntry>;
  blobs: Digest[];
}

const EMPTY = (): Repository => ({ tags: {}, manifests: {}, blobs: [] });

export class RepositoryIndex {
  private readonly cache = new Map<string, Repository>();
  private readonly mutex = new KeyedMutex();

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<RepositoryIndex> {
    await ensureDir(dir);
    return new RepositoryIndex(dir);
  }

  private file(name: string): string {
    return join(this.dir, `${encodeURIComponent(name)}.json`);
  }

  /** The repository, or undefined if it has never been written. */
  async get(name: string): Promise<Repository | undefined> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const repo = await readJSONOr<Repository | null>(this.file(name), null);
    if (repo) this.cache.set(name, repo);
    return repo ?? undefined;
  }

  /** @throws not_found (NAME_UNKNOWN) */
  async require(name: string): Promise<Repository> {
    const repo = await this.get(name);
    if (!repo) throw new SbxError('not_found', `repository ${name}: not known to this registry`, { detail: { registry: 'NAME_UNKNOWN' } });
    return repo;
  }

  /** Read-modify-write one repository atomically; creates it on first write. */
  async update<T>(name: string, fn: (repo: Repository) => T | Promise<T>): Promise<T> {
    return this.mutex.run(name, async () => {
      const cur = (await this.get(name)) ?? EMPTY();
      const next: Repository = structuredClone(cur);
      const out = await fn(next);
      await writeJSON(this.file(name), next);
      this.cache.set(name, next);
      return out;
    });
  }

  async names(): Promise<string[]> {
    const out: string[] = [];
    for (const f of await readdir(this.dir)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      try { out.push(decodeURIComponent(f.slice(0, -5))); } catch { /* not ours */ }
    }
    return out.sort();
  }

  /** Every digest any repository links or references: roots for content-store GC. */
  async referencedDigests(): Promise<Set<Digest>> {
    const out = new Set<Digest>();
    for (const n of await this.names()) {
      const r = await this.get(n);
      if (!r) continue;
      for (const b of r.blobs) out.add(b);
      for (const [d, m] of Object.entries(r.manifests)) { out.add(d as Digest); for (const x of m.refs) out.add(x); }
    }
    return out;
  }
}
