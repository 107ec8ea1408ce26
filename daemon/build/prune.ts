/**
 * The build cache as `sbx builder prune` and `sbx system df` see it: a list of CacheSources,
 * summed. The step cache (cache.json and the step images it names) is one source; RUN
 * --mount=type=cache directories under the daemon root are meant to be another, added to the
 * composition root's `cacheSources` list.
 *
 * Contract
 * - CacheSource.usage(): records, records in use (not removable by prune(true)), bytes on disk the
 *   cache alone holds, bytes prune(true) would free.
 * - CacheSource.prune(all): without `all` the dangling records go, with it every record nothing
 *   uses; returns the IDs of the records removed and the bytes freed.
 * - The step cache: an entry whose image is gone (rmi, gc) is counted by no usage and dropped by
 *   any prune. A step image is an untagged image an entry names. Dangling: a step image no
 *   container uses and that no other image was built from (its layers and history are not a
 *   prefix of theirs) — the chain an edit or a removed tag left behind. With `all`: every entry
 *   goes, and every step image no container uses. Removed step images leave the index; their
 *   blobs and layer snapshots nothing else references are collected.
 * - A prune holds the cache's inUse lock exclusive: it waits for running builds and they for it.
 */
import type { BuilderPruneResult, Digest, HistoryEntry, UsageRow } from '../../protocol/index.js';
import type { ImageDeps } from '../images/deps.js';
import { collectGarbage, reachable } from '../images/gc.js';
import { listStoredImages, type LoadedImage, type StoredImage } from '../images/resolve.js';
import { pruneLayers } from '../images/unpack.js';
import type { BuildCache } from './cache.js';

/** Something builds keep between builds: counted by `sbx system df`, removed by `sbx builder prune`. */
export interface CacheSource {
  usage(): Promise<UsageRow>;
  prune(all: boolean): Promise<BuilderPruneResult>;
}

export async function pruneBuildCache(sources: CacheSource[], all: boolean): Promise<BuilderPruneResult> {
  const out: BuilderPruneResult = { deleted: [], reclaimed: 0 };
  for (const src of sources) {
    const r = await src.prune(all);
    out.deleted.push(...r.deleted);
    out.reclaimed += r.reclaimed;
  }
  return out;
}

export async function buildCacheUsage(sources: CacheSource[]): Promise<UsageRow> {
  const out: UsageRow = { total: 0, active: 0, size: 0, reclaimable: 0 };
  for (const src of sources) {
    const u = await src.usage();
    out.total += u.total; out.active += u.active; out.size += u.size; out.reclaimable += u.reclaimable;
  }
  return out;
}

export type StepCacheDeps = ImageDeps & { cache: BuildCache };

export function stepCacheSource(s: StepCacheDeps): CacheSource {
  return {
    async usage() {
      const v = await survey(s);
      const removable = v.removable(true);
      const gone = new Set(removable.map((i) => i.target.digest));
      const kept = v.steps.filter((i) => !gone.has(i.target.digest));
      const sizes = await blobSizes(s);
      const extra = await gcRootDigests(s);
      const others = await reachable(s.content, v.others.map((i) => i.target));
      const remaining = await reachable(s.content, [...v.others, ...kept].map((i) => i.target));
      const sum = (set: Set<Digest>, minus: Set<Digest>) => [...set].reduce((n, d) => (minus.has(d) || extra.has(d) ? n : n + (sizes.get(d) ?? 0)), 0);
      return {
        total: v.live.length,
        active: v.live.filter(([, id]) => !removable.some((i) => i.configDigest === id)).length,
        size: sum(await reachable(s.content, v.steps.map((i) => i.target)), others),
        reclaimable: sum(await reachable(s.content, v.steps.filter((i) => gone.has(i.target.digest)).map((i) => i.target)), remaining),
      };
    },

    async prune(all) {
      return s.cache.inUse.withExclusive(async () => {
        const v = await survey(s);
        const remove = v.removable(all);
        const ids = new Set(remove.map((i) => i.configDigest));
        const keys = all ? [...v.gone, ...v.live.map(([k]) => k)] : [...v.gone, ...v.live.filter(([, id]) => ids.has(id)).map(([k]) => k)];
        const sizes = await blobSizes(s);
        if (remove.length) {
          const targets = new Set(remove.map((i) => i.target.digest));
          await s.gcLock.withShared(() => s.images.update((_tags, untagged) => {
            for (let i = untagged.length - 1; i >= 0; i--) if (targets.has(untagged[i]!.digest)) untagged.splice(i, 1);
          }));
        }
        await s.cache.drop(keys);
        let reclaimed = 0;
        if (remove.length) {
          for (const d of await collectGarbage(s)) reclaimed += sizes.get(d) ?? 0;
          await pruneLayers(s);
        }
        return { deleted: keys, reclaimed };
      });
    },
  };
}

interface Survey {
  /** Entries whose image is stored: [key, image ID]. */
  live: [string, Digest][];
  /** Keys of entries whose image is gone. */
  gone: string[];
  /** Untagged images an entry names. */
  steps: StoredImage[];
  /** Every other stored image. */
  others: StoredImage[];
  /** The step images a prune removes. */
  removable(all: boolean): StoredImage[];
}

async function survey(s: StepCacheDeps): Promise<Survey> {
  const stored = await listStoredImages(s);
  const ids = new Set(stored.map((i) => i.configDigest));
  const entries = await s.cache.list();
  const live = entries.filter(([, id]) => ids.has(id));
  const named = new Set(live.map(([, id]) => id));
  const steps = stored.filter((i) => i.names.length === 0 && named.has(i.configDigest));
  const others = stored.filter((i) => !steps.includes(i));
  const used = new Set<Digest>();
  for (const i of steps) if ((await s.imageUsers(i.configDigest)).length || (await s.imageUsers(i.target.digest)).length) used.add(i.target.digest);
  const roots = [...others, ...steps.filter((i) => used.has(i.target.digest))];
  return {
    live, steps, others,
    gone: entries.filter(([, id]) => !ids.has(id)).map(([k]) => k),
    removable: (all) => steps.filter((i) => !used.has(i.target.digest) && (all || !roots.some((r) => builtFrom(r, i)))),
  };
}

/** Was `image` built on `step`: step's layers and history are a prefix of image's. */
function builtFrom(image: LoadedImage, step: LoadedImage): boolean {
  const [a, b] = [step.config, image.config];
  const same = (x: HistoryEntry, y: HistoryEntry | undefined) => !!y && x.created === y.created && x.created_by === y.created_by && !!x.empty_layer === !!y.empty_layer && x.comment === y.comment;
  return a.rootfs.diff_ids.length <= b.rootfs.diff_ids.length && a.rootfs.diff_ids.every((d, i) => b.rootfs.diff_ids[i] === d)
    && (a.history ?? []).length <= (b.history ?? []).length && (a.history ?? []).every((h, i) => same(h, b.history?.[i]));
}

async function blobSizes(s: StepCacheDeps): Promise<Map<Digest, number>> {
  const m = new Map<Digest, number>();
  for await (const b of s.content.list()) m.set(b.digest, b.size);
  return m;
}

async function gcRootDigests(s: StepCacheDeps): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  for (const root of s.gcRoots) for (const d of await root()) out.add(d);
  return out;
}
