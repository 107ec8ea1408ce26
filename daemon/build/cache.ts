/**
 * The build cache: step key → the image that step produced. Kept in $SBX_ROOT/build/cache.json
 * (root-only, rewritten atomically), so it survives a daemon restart.
 *
 * Contract
 * - stepKey(parent, text, sum): sha256 over the parent image ID, the step's expanded text
 *   (Step.cacheText, or createdBy for config steps) and, for COPY/ADD, the content checksum of
 *   what is copied. Nothing else: not mtimes, not the context's other files.
 * - get(key) answers the recorded image, loaded, only while it is still in the store (`find`): an
 *   image removed or garbage-collected makes its entries misses, and prune() drops them.
 * - put() records a hit for later builds; entries are small (key → image ID and its manifest
 *   descriptor, so a hit is found without listing every stored image), written after the image
 *   itself is stored, so a crash leaves at most an image no entry names. Entries written before
 *   the descriptor was kept carry the ID only (`find` then resolves the ID).
 * - findEntry(stores, entry) is the daemon's `find`: with the descriptor it reads the index and
 *   that one image, not every stored image as an ID lookup (resolveImage) does, so a cached step
 *   costs the same however many images the store holds.
 * - inUse is held shared by every build from its first step to its tags, and exclusive by a
 *   prune (prune.ts), so a prune never removes a step image a running build stands on.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Descriptor, Digest } from '../../protocol/index.js';
import { loadImage, resolveImage, type ImageStores, type LoadedImage } from '../images/resolve.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';
import { KeyedMutex, SharedLock } from '../util/lock.js';

/** `target`: the image's manifest descriptor (absent in entries of older daemons). */
export interface CacheEntry { image: Digest; target?: Descriptor; used: string }

export function stepKey(parent: string, text: string, sum = ''): string {
  return createHash('sha256').update(`${parent}\n${text}\n${sum}`).digest('hex');
}

export class BuildCache {
  private readonly file: string;
  private entries: Map<string, CacheEntry> | undefined;
  private readonly lock = new KeyedMutex();
  readonly inUse = new SharedLock();

  /** `find(entry)`: the entry's image when it is still in the store. */
  constructor(readonly dir: string, private readonly find: (e: CacheEntry) => Promise<LoadedImage | undefined>) {
    this.file = join(dir, 'cache.json');
  }

  private async load(): Promise<Map<string, CacheEntry>> {
    if (!this.entries) this.entries = new Map(Object.entries(await readJSONOr<Record<string, CacheEntry>>(this.file, {})));
    return this.entries;
  }

  private async save(): Promise<void> {
    await ensureDir(this.dir);
    await writeJSON(this.file, Object.fromEntries(this.entries ?? []));
  }

  async get(key: string): Promise<LoadedImage | undefined> {
    const e = (await this.load()).get(key);
    return e ? this.find(e) : undefined;
  }

  async put(key: string, image: LoadedImage): Promise<void> {
    await this.lock.run('file', async () => {
      (await this.load()).set(key, { image: image.configDigest, target: image.target, used: new Date().toISOString() });
      await this.save();
    });
  }

  /** Every entry, key → image ID, whether or not the image is still there. */
  async list(): Promise<[string, Digest][]> {
    return [...(await this.load())].map(([k, e]) => [k, e.image]);
  }

  /** Forget these entries (a prune). */
  async drop(keys: Iterable<string>): Promise<void> {
    await this.lock.run('file', async () => {
      const m = await this.load();
      let n = 0;
      for (const k of keys) if (m.delete(k)) n++;
      if (n) await this.save();
    });
  }
}

/** The entry's image when the index still holds it (by manifest descriptor, else by ID). */
export async function findEntry(s: ImageStores, e: CacheEntry): Promise<LoadedImage | undefined> {
  const target = e.target;
  if (!target) return resolveImage(s, e.image).catch(() => undefined);
  const [tags, untagged] = await Promise.all([s.images.list(), s.images.listUntagged()]);
  if (!untagged.some((u) => u.digest === target.digest) && !tags.some((t) => t.target.digest === target.digest)) return undefined;
  const image = await loadImage(s.content, target, e.image).catch(() => undefined);
  return image?.configDigest === e.image ? image : undefined;
}
