/**
 * docker's GET /system/df: the items `docker system df` sums (and `-v` lists) — images with the
 * containers using them and their shared bytes, containers with their writable layer's size,
 * volumes with their size and users, and the build cache. LayersSize and the build cache come
 * from the same usage services as `sbx system df`.
 */
import { buildCacheUsage } from '../../build/prune.js';
import { listContainers } from '../../containers/describe.js';
import { withSizes } from '../../containers/usage.js';
import { imageUsage } from '../../images/usage.js';
import type { Services } from '../../services.js';
import { dirSize } from '../../volumes/size.js';
import { summary } from './containers.js';
import { imageItems } from '../../usage/items.js';
import type { DockerRouter } from './http.js';

const secs = (iso: string): number => Math.floor((Date.parse(iso) || 0) / 1000);

async function images(s: Services): Promise<Record<string, unknown>[]> {
  return (await imageItems(s)).map((i) => ({
    Id: i.id, ParentId: '', RepoTags: i.repoTags.length ? i.repoTags : ['<none>:<none>'], RepoDigests: i.repoDigests,
    Created: secs(i.created), Size: i.size, VirtualSize: i.size, SharedSize: i.sharedSize, Labels: {}, Containers: i.containers,
  }));
}

async function containers(s: Services): Promise<Record<string, unknown>[]> {
  return (await withSizes(s, listContainers(s.containers, true))).map((row) => ({ ...summary(row), SizeRw: row.sizeRw }));
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
