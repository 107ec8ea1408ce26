/**
 * docker's GET /system/df: the items `docker system df` sums (and `-v` lists) — images with the
 * containers using them and their shared bytes, containers with their writable layer's size,
 * volumes with their size and users, and the build cache. LayersSize and the build cache come
 * from the same usage services as `sbx system df`.
 */
import type { Digest } from '../../../protocol/index.js';
import { buildCacheUsage } from '../../build/prune.js';
import { listContainers } from '../../containers/describe.js';
import { sizedAll, summarize } from '../../images/describe.js';
import { reachable } from '../../images/gc.js';
import { listStoredImages } from '../../images/resolve.js';
import { blobSizes, imageUsage } from '../../images/usage.js';
import type { Services } from '../../services.js';
import { dirSize } from '../../volumes/size.js';
import { summary } from './containers.js';
import type { DockerRouter } from './http.js';

const secs = (iso: string): number => Math.floor((Date.parse(iso) || 0) / 1000);

async function images(s: Services): Promise<Record<string, unknown>[]> {
  const stored = await sizedAll(s.layerSizes, await listStoredImages(s));
  const sizes = await blobSizes(s, stored);
  const blobs = await Promise.all(stored.map((i) => reachable(s.content, [i.target])));
  const refs = new Map<Digest, number>();
  for (const set of blobs) for (const d of set) refs.set(d, (refs.get(d) ?? 0) + 1);
  return Promise.all(stored.map(async (img, n) => {
    const sum = summarize(img, img.names, img.repoDigests);
    const users = new Set([...await s.imageUsers(img.configDigest), ...await s.imageUsers(img.target.digest)]);
    const shared = [...blobs[n]!].filter((d) => refs.get(d)! > 1).reduce((t, d) => t + (sizes.get(d) ?? 0), 0);
    return {
      Id: sum.id, ParentId: '', RepoTags: sum.repoTags.length ? sum.repoTags : ['<none>:<none>'], RepoDigests: sum.repoDigests,
      Created: secs(sum.created), Size: sum.size, VirtualSize: sum.size, SharedSize: shared, Labels: {}, Containers: users.size,
    };
  }));
}

async function containers(s: Services): Promise<Record<string, unknown>[]> {
  return Promise.all(listContainers(s.containers, true).map(async (row) => {
    let rw = 0;
    const rootfs = await s.containers.rootfs(row.id).catch(() => undefined);
    if (rootfs) for (const c of await s.differ.changes(rootfs)) if (c.op !== 'delete') rw += c.size ?? 0;
    return { ...summary(row), SizeRw: rw };
  }));
}

/** The build cache as records: the in-use ones first, sizes on the first of each kind (sbx keeps no per-record sizes). */
async function buildCache(s: Services): Promise<Record<string, unknown>[]> {
  const u = await buildCacheUsage(s.cacheSources);
  return Array.from({ length: u.total }, (_, i) => {
    const inUse = i < u.active;
    const size = i === 0 && inUse ? u.size - u.reclaimable : i === u.active ? u.reclaimable : 0;
    return { ID: `sbx-build-cache-${i}`, Parent: '', Type: 'regular', Description: 'sbx build step', InUse: inUse, Shared: false, Size: size, CreatedAt: '', LastUsedAt: null, UsageCount: 0 };
  });
}

export function registerDockerDf(r: DockerRouter, s: Services): void {
  r.on('GET', '/system/df', async () => ({
    json: {
      LayersSize: (await imageUsage(s)).size,
      Images: await images(s),
      Containers: await containers(s),
      Volumes: await Promise.all(s.volumes.list().map(async (v) => ({ ...v, UsageData: { Size: await dirSize(s.volumes.dataPath(v.Name)), RefCount: s.volumes.usersOf(v.Name).length } }))),
      BuildCache: await buildCache(s),
    },
  }));
}
