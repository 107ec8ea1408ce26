/**
 * pushImage: copy a local image to a registry, as `docker push`. Callable without HTTP.
 *
 * - Layers stored uncompressed are sent gzip-compressed (cached per diffID under
 *   <root>/cache/gzip); one compressed now is uploaded while it is compressed, not after.
 * - Other local names on the same registry may hold the layers already: they are offered as
 *   cross-repository mount sources (at most 3, as docker).
 * - The registry's manifest digest is recorded as a repo digest of the local image.
 */
import { join } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import {
  SbxError, familiarName, familiarString, formatReference, parseReference, type Digest, type ProgressEvent, type Reference,
} from '../../protocol/index.js';
import { localSource } from './local-transfer.js';
import type { RemoteDeps } from './remote.js';
import { resolveImage } from './resolve.js';
import { addRepoDigest } from './store.js';
import { copyImage } from './transfer.js';

export interface PushOptions {
  /** Allow plain HTTP to a registry that is not on loopback. */
  insecure?: boolean;
  signal?: AbortSignal;
  /** One event per layer state change, as docker prints them. */
  onProgress?: (e: ProgressEvent) => void;
}

export interface Pushed {
  /** Normalised reference pushed. */
  reference: string;
  /** Digest of the manifest as the registry stores it. */
  digest: Digest;
  size: number;
}

/** @throws invalid_argument for a digest reference, not_found when no local image has the tag. */
export async function pushImage(deps: RemoteDeps, ref: Reference, opts: PushOptions = {}): Promise<Pushed> {
  const emit = opts.onProgress ?? (() => {});
  const { signal } = opts;
  const name = formatReference(ref);
  if (ref.digest) throw new SbxError('invalid_argument', `push ${familiarString(ref)}: push a tag, not a digest`);
  const image = await resolveImage(deps, name).catch((e: unknown) => {
    if (e instanceof SbxError && e.code === 'not_found') throw new SbxError('not_found', `push ${familiarString(ref)}: an image does not exist locally with the tag ${familiarString(ref)}`);
    throw e;
  });
  emit({ type: 'log', message: `The push refers to repository [${familiarString({ registry: ref.registry, repository: ref.repository })}]` });
  const mountFrom = [...new Set((await deps.images.list())
    .map((i) => parseReference(i.name))
    .filter((r) => r.registry === ref.registry && r.repository !== ref.repository)
    .map((r) => r.repository))].slice(0, 3);
  const dst = deps.registry.destination(ref, { mountFrom, insecure: opts.insecure === true });
  const sent = new Set<string>();
  const src = localSource(deps, name, {
    compress: true, cacheDir: join(deps.config.root, 'cache', 'gzip'), target: image.descriptor, sent, unverified: true,
    ...(dst.putStream ? {
      sink: (body, done, layer) => {
        const id = layer.digest.slice('sha256:'.length, 'sha256:'.length + 12);
        emit({ type: 'progress', id, status: 'Pushing', current: 0 });
        let n = 0;
        const counted = pipeline(body, new Transform({ transform(c: Buffer, _e, cb) { n += c.length; cb(null, c); } }), () => {});
        const tick = setInterval(() => emit({ type: 'progress', id, status: 'Pushing', current: n }), 200);
        return dst.putStream!(counted, done, signal).finally(() => clearInterval(tick));
      },
    } : {}),
  });
  const r = await deps.gcLock.withShared(() => copyImage(src, dst, { ...(signal ? { signal } : {}), onProgress: emit, direction: 'push', sent }));
  await deps.images.update((tags, untagged) => addRepoDigest(tags, untagged, image.target.digest, `${ref.registry}/${ref.repository}`, r.manifest.digest));
  deps.events?.emit('image', 'push', familiarString(ref), { name: familiarName(ref) });
  return { reference: name, digest: r.manifest.digest, size: r.manifest.size };
}
