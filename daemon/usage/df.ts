/**
 * Disk usage (`sbx system df`, docker's GET /system/df summed into its four rows): images,
 * containers, local volumes and the build cache (every cache source, build/prune.ts).
 * Each room counts its own row; this file only puts them side by side.
 */
import type { DiskUsage } from '../../protocol/index.js';
import { buildCacheUsage, type CacheSource } from '../build/prune.js';
import type { ContainerManager } from '../containers/manager.js';
import { containerUsage } from '../containers/usage.js';
import type { ImageDeps } from '../images/deps.js';
import { imageUsage } from '../images/usage.js';
import { containerItems, imageItems, volumeItems } from './items.js';
import type { Differ } from '../snapshots/differ.js';
import type { VolumeStore } from '../volumes/store.js';

export interface DiskUsageDeps extends ImageDeps {
  containers: ContainerManager;
  differ: Differ;
  cacheSources: CacheSource[];
  volumes: VolumeStore;
}

export async function diskUsage(s: DiskUsageDeps, verbose = false): Promise<DiskUsage> {
  return {
    images: await imageUsage(s),
    containers: await containerUsage(s.containers, s.differ),
    volumes: await s.volumes.usage(),
    buildCache: await buildCacheUsage(s.cacheSources),
    ...(verbose ? { items: { images: (await imageItems(s)).map(({ repoDigests: _, ...i }) => i), containers: await containerItems(s), volumes: await volumeItems(s) } } : {}),
  };
}
