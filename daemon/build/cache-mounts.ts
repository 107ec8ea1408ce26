/**
 * CacheMounts: the directories of `RUN --mount=type=cache`, kept per cache id across builds (and
 * daemon restarts) under $SBX_ROOT/build/cache-mounts/<sha256(id)>/: meta.json (the id, when
 * made and last used) and fs/ (what the RUN sees at its target). The <hex> directory is root's
 * 0700 (util/modes.ts keeps it so and never walks below it), so no host user reaches fs/.
 * Nothing of it ever enters a layer: it is a separate mount in the RUN's container.
 *
 * Contract
 * - use(id, opts, fn): fn gets the host directory for the RUN. sharing 'shared' (default): every
 *   user at once; 'locked': one RUN at a time per id (others wait); 'private': a RUN finding
 *   the id in use gets a fresh empty directory of its own, removed afterwards (BuildKit keeps
 *   those; sbx does not). A new fs/ is made with mode (default 0755) and uid:gid (default 0:0).
 * - list(): every cache mount with its size in bytes, last use and whether a RUN holds it now.
 * - prune({ all }): removes the cache mounts no RUN holds (`sbx builder prune`; without `all`,
 *   only those not used for `keepMs`, default 0 = all unused too) and says how many and bytes.
 * Errors: SbxError internal when the disk fails.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheSource } from './prune.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';
import { KeyedMutex } from '../util/lock.js';

export interface CacheMountOptions {
  sharing?: 'shared' | 'private' | 'locked';
  /** Of a new cache directory: mode (default 0o755), owner (default 0:0). */
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface CacheMountInfo {
  id: string;
  /** Host directory of the cache (the <hex> directory; fs/ inside is what RUN sees). */
  dir: string;
  size: number;
  created: string;
  lastUsed: string;
  inUse: boolean;
}

interface Meta { id: string; created: string; lastUsed: string }

export class CacheMounts {
  readonly dir: string;
  private readonly users = new Map<string, number>();
  private readonly privates = new Set<string>();
  private readonly locks = new KeyedMutex();
  /** Serialises making/removing a cache directory against using it. */
  private readonly guard = new KeyedMutex();

  constructor(root: string) { this.dir = join(root, 'build', 'cache-mounts'); }

  static hex(id: string): string { return createHash('sha256').update(id).digest('hex'); }

  async use<T>(id: string, o: CacheMountOptions, fn: (dir: string) => Promise<T>): Promise<T> {
    const hex = CacheMounts.hex(id);
    if (o.sharing === 'locked') return this.locks.run(hex, () => this.hold(id, hex, o, fn));
    if (o.sharing === 'private' && (this.users.get(hex) ?? 0) > 0) {
      const name = `private-${hex}-${randomBytes(6).toString('hex')}`;
      const own = join(this.dir, name);
      this.privates.add(name);
      try {
        await ensureDir(this.dir);
        await mkdir(own, { mode: 0o700 });
        const fs = join(own, 'fs');
        await this.makeFs(fs, o);
        return await fn(fs);
      } finally {
        await rm(own, { recursive: true, force: true });
        this.privates.delete(name);
      }
    }
    return this.hold(id, hex, o, fn);
  }

  private async hold<T>(id: string, hex: string, o: CacheMountOptions, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = join(this.dir, hex);
    await this.guard.run(hex, async () => {
      this.users.set(hex, (this.users.get(hex) ?? 0) + 1);
      try {
        await ensureDir(dir);
        const now = new Date().toISOString();
        const meta = await readJSONOr<Meta | undefined>(join(dir, 'meta.json'), undefined);
        await writeJSON(join(dir, 'meta.json'), { id, created: meta?.created ?? now, lastUsed: now });
        if (!(await lstat(join(dir, 'fs')).catch(() => undefined))) await this.makeFs(join(dir, 'fs'), o);
      } catch (e) {
        this.release(hex);
        throw e;
      }
    });
    try {
      return await fn(join(dir, 'fs'));
    } finally {
      this.release(hex);
    }
  }

  private release(hex: string): void {
    const n = (this.users.get(hex) ?? 1) - 1;
    if (n > 0) this.users.set(hex, n); else this.users.delete(hex);
  }

  private async makeFs(fs: string, o: CacheMountOptions): Promise<void> {
    const tmp = `${fs}.new-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { mode: o.mode ?? 0o755 });
    await chown(tmp, o.uid ?? 0, o.gid ?? 0);
    await chmod(tmp, (o.mode ?? 0o755) & 0o7777); // not cut by the umask
    await rename(tmp, fs);
  }

  async list(): Promise<CacheMountInfo[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: CacheMountInfo[] = [];
    for (const hex of names.filter((n) => /^[0-9a-f]{64}$/.test(n)).sort()) {
      const dir = join(this.dir, hex);
      const meta = await readJSONOr<Meta | undefined>(join(dir, 'meta.json'), undefined);
      out.push({
        id: meta?.id ?? hex, dir, size: await du(join(dir, 'fs')),
        created: meta?.created ?? '', lastUsed: meta?.lastUsed ?? '', inUse: (this.users.get(hex) ?? 0) > 0,
      });
    }
    return out;
  }

  /** Remove every cache mount no RUN holds (or, with `olderThanMs`, only those unused that long). */
  async prune(o: { olderThanMs?: number } = {}): Promise<{ removed: number; bytes: number }> {
    let removed = 0;
    let bytes = 0;
    const cutoff = o.olderThanMs !== undefined ? Date.now() - o.olderThanMs : Infinity;
    for (const c of await this.list()) {
      const hex = c.dir.slice(-64);
      await this.guard.run(hex, async () => {
        if ((this.users.get(hex) ?? 0) > 0) return;
        if (c.lastUsed && Date.parse(c.lastUsed) > cutoff) return;
        await rm(c.dir, { recursive: true, force: true });
        removed++;
        bytes += c.size;
      });
    }
    // private directories a crash left behind
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (n.startsWith('private-') && !this.privates.has(n)) await rm(join(this.dir, n), { recursive: true, force: true });
    }
    return { removed, bytes };
  }
}

/**
 * The cache mounts as `sbx builder prune` and `sbx system df` count them: every mount no RUN holds
 * is reclaimable, and a prune (with or without -a, as BuildKit's exec.cachemount records) removes it.
 */
export function cacheMountSource(m: CacheMounts): CacheSource {
  return {
    async usage() {
      const all = await m.list();
      const size = all.reduce((n, c) => n + c.size, 0);
      const active = all.filter((c) => c.inUse);
      return { total: all.length, active: active.length, size, reclaimable: size - active.reduce((n, c) => n + c.size, 0) };
    },
    async prune() {
      const before = new Map((await m.list()).map((c) => [c.dir, c]));
      const r = await m.prune();
      const left = new Set((await m.list()).map((c) => c.dir));
      return { deleted: [...before.values()].filter((c) => !left.has(c.dir)).map((c) => `cache mount ${c.id}`), reclaimed: r.bytes };
    },
  };
}

/** Bytes of the regular files under `dir` (symlinks not followed). */
async function du(dir: string): Promise<number> {
  let n = 0;
  for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, d.name);
    if (d.isDirectory()) n += await du(p);
    else if (d.isFile()) n += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return n;
}
