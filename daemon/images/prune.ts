/**
 * `image prune [-a]`: remove dangling images (no tag) no container uses, or with `all` every image
 * no container (running or stopped) uses, each as `rmi -f IMAGE_ID` would. `reclaimed` is the
 * bytes of the blobs that went (blobs no remaining image references; a layer counted unpacked, as
 * docker counts it).
 */
import type { ImagesPruneResult } from '../../protocol/index.js';
import type { ImageDeps } from './deps.js';
import { removeImage } from './remove.js';
import { listStoredImages } from './resolve.js';
import { blobSizes } from './usage.js';

export async function pruneImages(s: ImageDeps, all: boolean): Promise<ImagesPruneResult> {
  const out: ImagesPruneResult = { untagged: [], deleted: [], reclaimed: 0 };
  const stored = await listStoredImages(s);
  const before = await blobSizes(s, stored);
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
  const left = new Set<string>();
  for await (const b of s.content.list()) left.add(b.digest);
  for (const [d, n] of before) if (!left.has(d)) out.reclaimed += n;
  return out;
}
