/**
 * The daemon's services, built once by daemon.ts (the composition root) and handed to every API
 * handler. No module-level singletons: tests build their own with a temp root.
 */
import type { Digest } from '../protocol/index.js';
import type { Config } from './config.js';
import type { ContentStore } from './content/store.js';
import type { ImageStore } from './images/store.js';
import type { Unpacker } from './images/unpack.js';
import type { Snapshotter } from './snapshots/snapshotter.js';
import type { RegistryClient } from './registry/client.js';
import type { SharedLock } from './util/lock.js';
import type { Logger } from './util/log.js';
import type { ChangeRecorder } from './changes/recorder.js';

import type { ContainerManager } from './containers/manager.js';

export interface Services {
  config: Config;
  log: Logger;
  content: ContentStore;
  images: ImageStore;
  /** Layers and container roots ($SBX_ROOT/snapshots); container roots via snapshots/rootfs.ts. */
  snapshotter: Snapshotter;
  /** Image layers → committed snapshots named by chainID. */
  unpacker: Unpacker;
  /** Pull/push client with the daemon's credentials ($SBX_ROOT/auth.json, docker's config as fallback). */
  registry: RegistryClient;
  /** Change journals of running containers (containers/<id>/changes.jsonl), following the manager's started/exited. */
  changes: ChangeRecorder;
  /** Containers: records, sessions, lifecycle (commit: rootfs(id), isRunning(id), freeze/thaw(id)); emits started/exited. */
  containers: ContainerManager;
  /** Held shared by anything that writes blobs then tags them; exclusive by garbage collection. */
  gcLock: SharedLock;
  /**
   * Containers that use an image, by any of its digests (config digest = image ID, manifest
   * digest, or the index digest a tag points at). `rmi` refuses (failed_precondition) to remove an
   * image with users unless forced. Default: none. The containers feature replaces it.
   */
  imageUsers: (digest: Digest) => Promise<string[]>;
  /**
   * Extra garbage-collection roots: blobs that must survive even though no image in index.json
   * references them (e.g. the embedded registry's repositories). Called under gcLock exclusive.
   */
  gcRoots: (() => Promise<Iterable<Digest>>)[];
  /** Things to close on shutdown, last registered first. */
  closers: (() => Promise<void>)[];
}
