/**
 * Build images: each step's result is a stored image (config + manifest in the content store,
 * an untagged entry in the index, as docker's classic builder keeps intermediate images) so the
 * next step, a later build's cache hit and `sbx run` all find it by ID.
 *
 * - appendStep(parent, …) writes the parent's layers plus an optional new one, the given config,
 *   and one history entry ({created, created_by, empty_layer when no layer}).
 * - scratchImage() is the empty base of `FROM scratch` (never stored).
 */
import {
  MediaType, type ContainerConfig, type Descriptor, type Digest, type HistoryEntry, type ImageConfig,
} from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { hostPlatform, loadImage, type LoadedImage } from '../images/resolve.js';
import { keepUntagged, type ImageStore } from '../images/store.js';
import { writeImage } from '../images/write.js';
import type { SharedLock } from '../util/lock.js';

export interface StepImageDeps { content: ContentStore; images: ImageStore; gcLock: SharedLock }

export function createdAt(sourceDateEpoch?: number): string {
  return sourceDateEpoch !== undefined ? new Date(sourceDateEpoch * 1000).toISOString() : new Date().toISOString();
}

export function scratchImage(): LoadedImage {
  const p = hostPlatform();
  const config: ImageConfig = { architecture: p.architecture, os: p.os, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
  const none = { mediaType: MediaType.ociManifest, digest: 'sha256:scratch' as Digest, size: 0 };
  return {
    target: none, descriptor: none, config, configDigest: 'sha256:scratch' as Digest,
    manifest: { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: 'sha256:scratch' as Digest, size: 0 }, layers: [] },
  };
}

export interface AppendOptions {
  config: ContainerConfig;
  createdBy: string;
  layer?: { descriptor: Descriptor; diffId: Digest };
  author?: string;
  sourceDateEpoch?: number;
}

/** Store parent + (layer) + one history entry as a new untagged image; returns it loaded. */
export async function appendStep(deps: StepImageDeps, parent: LoadedImage, o: AppendOptions): Promise<LoadedImage> {
  return deps.gcLock.withShared(async () => {
    const created = createdAt(o.sourceDateEpoch);
    const entry: HistoryEntry = { created, created_by: o.createdBy };
    if (!o.layer) entry.empty_layer = true;
    const p = parent.config;
    const author = o.author ?? p.author;
    const config: ImageConfig = {
      created,
      ...(author ? { author } : {}),
      architecture: p.architecture,
      os: p.os,
      ...(p.variant ? { variant: p.variant } : {}),
      config: o.config,
      rootfs: { type: 'layers', diff_ids: [...p.rootfs.diff_ids, ...(o.layer ? [o.layer.diffId] : [])] },
      history: [...(p.history ?? []), entry],
    };
    const layers = [...parent.manifest.layers, ...(o.layer ? [o.layer.descriptor] : [])];
    const { manifest } = await writeImage(deps.content, layers, config);
    await deps.images.update((tags, untagged) => keepUntagged(tags, untagged, manifest));
    return loadImage(deps.content, manifest, manifest.digest);
  });
}

