/**
 * ImageDeps: what the image operations (import, load, remove, garbage collection) stand on.
 * The composition root's Services bag provides it; images/ does not import that bag, which
 * names every room and would close a circle through each of them.
 */
import type { Digest } from '../../protocol/index.js';
import type { Config } from '../config.js';
import type { ContentStore } from '../content/store.js';
import type { SharedLock } from '../util/lock.js';
import type { Logger } from '../util/log.js';
import type { LayerChecks } from './layer-checks.js';
import type { LayerSizes } from './layer-sizes.js';
import type { ImageStore } from './store.js';
import type { Unpacker } from './unpack.js';
import type { EventSink } from '../events/bus.js';

export interface ImageUser { id: string; running: boolean }

export interface ImageDeps {
  config: Config;
  log: Logger;
  content: ContentStore;
  images: ImageStore;
  /** Image layers → committed snapshots named by chainID. */
  unpacker: Unpacker;
  /**
   * diffID checks of large pulled layers, finished after the pull (trust-but-verify); `content`
   * is already gated by it (a read of a layer under check waits for the result).
   */
  layerChecks: LayerChecks;
  /** Each layer's unpacked size (an image's size is theirs summed, as docker shows it). */
  layerSizes: LayerSizes;
  /** Held shared by anything that writes blobs then tags them; exclusive by garbage collection. */
  gcLock: SharedLock;
  /**
   * Containers (id, and whether it runs; paused counts as running) that use an image, by any of
   * its digests (config digest = image ID, manifest digest, or the index digest a tag points at).
   * `rmi` refuses (failed_precondition) to remove an image with users unless forced; by ID, an
   * image a running container uses even when forced (docker's "cannot be forced").
   */
  imageUsers: (digest: Digest) => Promise<ImageUser[]>;
  /**
   * Extra garbage-collection roots: blobs that must survive even though no image in index.json
   * references them (e.g. the embedded registry's repositories). Called under gcLock exclusive.
   */
  gcRoots: (() => Promise<Iterable<Digest>>)[];
  /** Where pull, push, tag, untag, delete, import and load are announced (the daemon's event bus); absent: nowhere. */
  events?: EventSink;
}
