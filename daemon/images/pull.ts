/**
 * pullImage: copy an image from a registry into the local store, as `docker pull`. Callable without
 * HTTP (the API handler and a Dockerfile FROM both use it).
 *
 * - A tag is pointed at the pulled manifest only once every blob is in (localDestination); the
 *   image it named before becomes untagged if nothing else names it (moveTag).
 * - Pulled by digest only: the image is kept untagged, and `name@digest` resolves to it.
 * - The registry's digest (the index's, for a multi-platform image) is recorded as a repo digest.
 * - Held under gcLock shared so garbage collection cannot take blobs between write and tag.
 */
import {
  familiarName, familiarString, formatReference, type Digest, type Platform, type ProgressEvent, type Reference,
} from '../../protocol/index.js';
import { localDestination } from './local-transfer.js';
import type { RemoteDeps } from './remote.js';
import { copyImage } from './transfer.js';

export interface PullOptions {
  /** Which manifest of a multi-platform image; default the host's. */
  platform?: Platform;
  /** Allow plain HTTP to a registry that is not on loopback. */
  insecure?: boolean;
  signal?: AbortSignal;
  /** One event per layer state change, as docker prints them. */
  onProgress?: (e: ProgressEvent) => void;
}

export interface Pulled {
  /** Normalised reference pulled. */
  reference: string;
  /** The platform manifest's digest. */
  digest: Digest;
  /** Image ID (config digest). */
  id: Digest;
  /** false when the tag already named this image. */
  changed: boolean;
}

export async function pullImage(deps: RemoteDeps, ref: Reference, opts: PullOptions = {}): Promise<Pulled> {
  const emit = opts.onProgress ?? (() => {});
  const tagged = ref.tag ? formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag }) : undefined;
  emit({ type: 'log', message: `${ref.tag ?? ref.digest}: Pulling from ${familiarString({ registry: ref.registry, repository: ref.repository })}` });
  const before = tagged ? await deps.images.get(tagged).then((i) => i.target.digest, () => undefined) : undefined;
  const src = deps.registry.source(ref, { insecure: opts.insecure === true });
  // The tag (or the untagged entry) and the repo digest are written in one index update at commit;
  // large layers' diffID checks start when the pull is over, not while it still writes.
  let over!: () => void;
  const checksAfter = new Promise<void>((r) => { over = r; });
  const dst = localDestination(deps, tagged, { repository: `${ref.registry}/${ref.repository}`, checksAfter });
  const result = await deps.gcLock.withShared(() => copyImage(src, dst, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: emit, direction: 'pull',
  })).finally(over);
  deps.events?.emit('image', 'pull', familiarString(ref), { name: familiarName(ref) });
  return { reference: formatReference(ref), digest: result.manifest.digest, id: result.config.digest, changed: before !== result.manifest.digest };
}
