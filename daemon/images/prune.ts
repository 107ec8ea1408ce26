/**
 * `image prune [-a]`: remove dangling images (no tag) no container uses, or with `all` every image
 * no container (running or stopped) uses, each as `rmi -f IMAGE_ID` would. `reclaimed` is the
 * bytes of stored content that went (blobs no remaining image references).
 */
import type { ImagesPruneResult } from '../../protocol/index.js';
import type { ImageDeps } from './deps.js';
import { removeImage } from './remove.js';
import { listStoredImages } from './resolve.js';

async function storedBytes(s: ImageDeps): Promise<number> {
  let n = 0;
  for await (const b of s.content.list()) n += b.size;
  return n;
}

export async function pruneImages(s: ImageDeps, all: boolean): Promise<ImagesPruneResult> {
  const before = await storedBytes(s);
  const out: ImagesPruneResult = { untagged: [], deleted: [], reclaimed: 0 };
  const stored = await listStoredImages(s);
  const keep = new Set<string>(); // config digests (docker's image IDs) that stay
  for (const img of stored) {
    const used = (await s.imageUsers(img.configDigest)).length > 0 || (await s.imageUsers(img.target.digest)).length > 0;
    if (used || (!all && img.names.length > 0)) keep.add(img.configDigest);
  }
  for (const id of new Set(stored.map((i) => i.configDigest))) {
    if (keep.has(id)) continue;
    // By ID: every stored copy of the image goes (none of them is tagged-and-kept or used).
    const r = await removeImage(s, id, true).catch(() => undefined);
    if (!r) continue; // removed or put to use meanwhile
    out.untagged.push(...r.untagged);
    out.deleted.push(...r.deleted);
  }
  out.reclaimed = Math.max(0, before - (await storedBytes(s)));
  return out;
}
