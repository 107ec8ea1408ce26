/**
 * The items behind `system df`'s rows, as `docker system df -v` lists them and docker's
 * GET /system/df returns them: images (unpacked size; the bytes of blobs another image has too;
 * the containers using them), containers (their writable layer's bytes) and volumes (their bytes
 * and users). The /v1 route and the Docker API room both shape their answer from these.
 */
import type { Digest, DiskUsageItems } from '../../protocol/index.js';
import { listContainers } from '../containers/describe.js';
import { layerSize } from '../containers/usage.js';
import { sizedAll, summarize } from '../images/describe.js';
import { reachable } from '../images/gc.js';
import { listStoredImages } from '../images/resolve.js';
import { blobSizes } from '../images/usage.js';
import { dirSize } from '../volumes/size.js';
import type { DiskUsageDeps } from './df.js';

export async function imageItems(s: DiskUsageDeps): Promise<(DiskUsageItems['images'][number] & { repoDigests: string[] })[]> {
  const stored = await sizedAll(s.layerSizes, await listStoredImages(s));
  const sizes = await blobSizes(s, stored);
  const blobs = await Promise.all(stored.map((i) => reachable(s.content, [i.target])));
  const refs = new Map<Digest, number>();
  for (const set of blobs) for (const d of set) refs.set(d, (refs.get(d) ?? 0) + 1);
  return Promise.all(stored.map(async (img, n) => {
    const sum = summarize(img, img.names, img.repoDigests);
    const users = new Set([...await s.imageUsers(img.configDigest), ...await s.imageUsers(img.target.digest)].map((u) => u.id));
    const sharedSize = [...blobs[n]!].filter((d) => refs.get(d)! > 1).reduce((t, d) => t + (sizes.get(d) ?? 0), 0);
    return { id: sum.id, repoTags: sum.repoTags, repoDigests: sum.repoDigests, created: sum.created, size: sum.size, sharedSize, containers: users.size };
  }));
}

export async function containerItems(s: DiskUsageDeps): Promise<DiskUsageItems['containers']> {
  return Promise.all(listContainers(s.containers, true).map(async (row) => {
    const size = await layerSize(s.containers, s.differ, row.id);
    return { id: row.id, name: row.name, image: row.image, command: row.command, localVolumes: row.localVolumes ?? 0, size, created: row.created, status: row.status };
  }));
}

export async function volumeItems(s: DiskUsageDeps): Promise<DiskUsageItems['volumes']> {
  return Promise.all(s.volumes.list().map(async (v) => ({ name: v.Name, links: s.volumes.usersOf(v.Name).length, size: await dirSize(s.volumes.dataPath(v.Name)) })));
}
