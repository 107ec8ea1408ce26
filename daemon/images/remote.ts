/**
 * RemoteDeps: what pulls and pushes stand on — the local stores and gcLock (ImageDeps), a way to
 * reach a registry, and a cache directory. The registry client is named by shape only: registry/
 * imports images/ (its sources and destinations are ImageSource/ImageDestination), not back.
 */
import type { Reference } from '../../protocol/index.js';
import type { ImageDeps } from './deps.js';
import type { ImageDestination, ImageSource } from './transfer.js';

export interface RegistryAccess {
  /** The image `ref` in its registry, to read from. `insecure` allows plain HTTP to a non-loopback host. */
  source(ref: Reference, opts?: { insecure?: boolean }): ImageSource;
  /**
   * The repository of `ref` in its registry, to write to. `mountFrom` names other repositories of the
   * same registry that may hold blobs already (cross-repository mount instead of an upload).
   */
  destination(ref: Reference, opts?: { mountFrom?: string[]; insecure?: boolean }): ImageDestination;
}

export type RemoteDeps = Pick<ImageDeps, 'config' | 'content' | 'images' | 'gcLock' | 'events' | 'layerChecks' | 'layerSizes'> & { registry: RegistryAccess };
