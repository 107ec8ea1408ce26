/**
 * Writing an image's JSON into the content store: config, then manifest (children before
 * parents, so a crash never leaves a manifest whose config is missing). Tagging is the caller's.
 */
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Manifest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';

export interface LayerRef { descriptor: Descriptor; diffId: Digest }

/** Store `config` and an OCI manifest over `layers` (already stored); returns the manifest descriptor. */
export async function writeImage(content: ContentStore, layers: Descriptor[], config: ImageConfig,
  annotations?: Record<string, string>): Promise<{ manifest: Descriptor; configDigest: Digest }> {
  const configBytes = Buffer.from(JSON.stringify(config));
  const cfg = await content.write(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}) })),
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
  const m = await content.write(Buffer.from(JSON.stringify(manifest)));
  return { manifest: { mediaType: MediaType.ociManifest, digest: m.digest, size: m.size }, configDigest: cfg.digest };
}
