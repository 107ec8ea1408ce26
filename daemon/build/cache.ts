/**
 * The build cache: step key → the image that step produced. Kept in $SBX_ROOT/build/cache.json
 * (root-only, rewritten atomically), so it survives a daemon restart.
 *
 * Contract
 * - stepKey(parent, text, sum): sha256 over the parent image ID, the step's expanded text
 *   (Step.cacheText, or createdBy for config steps) and, for COPY/ADD, the content checksum of
 *   what is copied. Nothing else: not mtimes, not the context's other files.
 * - get(key) answers only while the recorded image is still in the store (`exists`): an image
 *   removed or garbage-collected makes its entries misses, and prune() drops them.
 * - put() records a hit for later builds; entries are small (key → image ID), written after the
 *   image itself is stored, so a crash leaves at most an image no entry names.
 * - inUse is held shared by every build from its first step to its tags, and exclusive by a
 *   prune (prune.ts), so a prune never removes a step image a running build stands on.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Digest } from '../../protocol/index.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';
import { KeyedMutex, SharedLock } from '../util/lock.js';

interface Entry { image: Digest; used: string }

export function stepKey(parent: string, text: string, sum = ''): string {
  return createHash('sha256').update(`${parent}\n${text}\n${sum}`).digest('hex');
}

export class BuildCache {
  private readonly file: string;
  private entries: Map<string, Entry> | undefined;
  private readonly lock = new KeyedMutex();
  readonly inUse = new SharedLock();

  /** `exists(id)`: is the image still in the store. */
  constructor(readonly dir: string, private readonly exists: (id: Digest) => Promise<boolean>) {
    this.file = join(dir, 'cache.json');
  }

  private async load(): Promise<Map<string, Entry>> {
    if (!this.entries) this.entries = new Map(Object.entries(await readJSONOr<Record<string, Entry>>(this.file, {})));
    return this.entries;
  }

  private async save(): Promise<void> {
    await ensureDir(this.dir);
    await writeJSON(this.file, Object.fromEntries(this.entries ?? []));
  }

  async get(key: string): Promise<Digest | undefined> {
    const e = (await this.load()).get(key);
    if (!e || !(await this.exists(e.image))) return undefined;
    return e.image;
  }

  async put(key: string, image: Digest): Promise<void> {
    await this.lock.run('file', async () => {
      (await this.load()).set(key, { image, used: new Date().toISOString() });
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
