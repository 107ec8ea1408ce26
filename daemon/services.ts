/**
 * The daemon's services, built once by daemon.ts (the composition root) and handed to every API
 * handler. No module-level singletons: tests build their own with a temp root.
 */
import type { ImageDeps } from './images/deps.js';
import type { Differ } from './snapshots/differ.js';
import type { Snapshotter } from './snapshots/snapshotter.js';
import type { RegistryClient } from './remotes/client.js';
import type { ChangeRecorder } from './changes/recorder.js';
import type { ContainerManager } from './containers/manager.js';
import type { Networks } from './networks/networks.js';
import type { VolumeStore } from './volumes/store.js';
import type { BuildCache } from './build/cache.js';
import type { CacheMounts } from './build/cache-mounts.js';
import type { CacheSource } from './build/prune.js';
import type { EventBus } from './events/bus.js';

/** ImageDeps' fields (config, log, content, images, unpacker, gcLock, imageUsers, gcRoots) are documented there. */
export interface Services extends ImageDeps {
  /** Layers and container roots ($SBX_ROOT/snapshots); container roots via containers/rootfs.ts. */
  snapshotter: Snapshotter;
  /** A container's changes, views and layer export, for the snapshotter's format (snapshots/differ.ts). */
  differ: Differ;
  /** Pull/push client with the daemon's credentials ($SBX_ROOT/auth.json, docker's config as fallback). */
  registry: RegistryClient;
  /** Change journals of running containers (containers/<id>/changes.jsonl), following the manager's started/exited. */
  changes: ChangeRecorder;
  /** Containers: records, sessions, lifecycle (commit: rootfs(id), isRunning(id), freeze/thaw(id)); emits started/exited. */
  containers: ContainerManager;
  /** Networks (bridge and user networks): their namespaces, members and addresses (networks/networks.ts). */
  networks: Networks;
  /** Local volumes ($SBX_ROOT/volumes/NAME/_data); in use while a container record mounts them. */
  volumes: VolumeStore;
  /** The build's step cache ($SBX_ROOT/build/cache.json): step key → image. */
  buildCache: BuildCache;
  /** RUN --mount=type=cache directories ($SBX_ROOT/build/cache-mounts), kept between builds. */
  cacheMounts: CacheMounts;
  /**
   * What builds keep between builds, for `sbx builder prune` and `sbx system df`: the step cache
   * first; a room with more (RUN --mount=type=cache directories) appends its source here.
   */
  cacheSources: CacheSource[];
  /** The daemon's event stream (`sbx events`, docker's /events): rooms emit through it as an EventSink. */
  events: EventBus;
  /** Things to close on shutdown, last registered first. */
  closers: (() => Promise<void>)[];
}
