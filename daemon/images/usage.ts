/**
 * The Images row of `sbx system df`: every stored image (`sbx images`' rows by target), those a
 * container uses, the bytes of their blobs (a blob several images share counted once; a layer by
 * its unpacked size, as docker counts it) and the bytes removing the unused ones would free (blobs
 * no used image references).
 */
import type { Digest, UsageRow } from '../../protocol/index.js';
import type { ImageDeps } from './deps.js';
import { reachable } from './gc.js';
import { listStoredImages, type StoredImage } from './resolve.js';

/** Bytes per stored blob as docker counts them: a layer's unpacked size, any other blob's stored size. */
export async function blobSizes(s: Pick<ImageDeps, 'content' | 'layerSizes'>, stored: StoredImage[]): Promise<Map<Digest, number>> {
  const sizes = new Map<Digest, number>();
  for await (const b of s.content.list()) sizes.set(b.digest, b.size);
  for (const i of stored) {
    const unpacked = await s.layerSizes.ofAll(i.manifest.layers);
    i.manifest.layers.forEach((l, n) => { if (sizes.has(l.digest)) sizes.set(l.digest, unpacked[n]!); });
  }
  return sizes;
}

export async function imageUsage(s: Pick<ImageDeps, 'content' | 'images' | 'imageUsers' | 'layerSizes'>): Promise<UsageRow> {
  const stored = await listStoredImages(s);
  const active = [];
  for (const i of stored) if ((await s.imageUsers(i.configDigest)).length || (await s.imageUsers(i.target.digest)).length) active.push(i);
  const sizes = await blobSizes(s, stored);
  const bytes = (set: Set<Digest>) => [...set].reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
  const size = bytes(await reachable(s.content, stored.map((i) => i.target)));
  return { total: stored.length, active: active.length, size, reclaimable: size - bytes(await reachable(s.content, active.map((i) => i.target))) };
}
