/**
 * The Images row of `sbx system df`: every stored image (`sbx images`' rows by target), those a
 * container uses, the bytes of their blobs (a blob several images share counted once) and the
 * bytes removing the unused ones would free (blobs no used image references).
 */
import type { Digest, UsageRow } from '../../protocol/index.js';
import type { ImageDeps } from './deps.js';
import { reachable } from './gc.js';
import { listStoredImages } from './resolve.js';

export async function imageUsage(s: Pick<ImageDeps, 'content' | 'images' | 'imageUsers'>): Promise<UsageRow> {
  const stored = await listStoredImages(s);
  const active = [];
  for (const i of stored) if ((await s.imageUsers(i.configDigest)).length || (await s.imageUsers(i.target.digest)).length) active.push(i);
  const sizes = new Map<Digest, number>();
  for await (const b of s.content.list()) sizes.set(b.digest, b.size);
  const bytes = (set: Set<Digest>) => [...set].reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
  const size = bytes(await reachable(s.content, stored.map((i) => i.target)));
  return { total: stored.length, active: active.length, size, reclaimable: size - bytes(await reachable(s.content, active.map((i) => i.target))) };
}
