/**
 * Differ: what a container's writable snapshot holds over its image, as changes, as read-only
 * views and as an OCI layer (containerd's diff.Comparer + diff.Applier's counterpart, reduced).
 * One per daemon, picked with the snapshotter (createDiffer): overlay-differ.ts reads an overlay
 * upper dir; native-differ.ts compares a full copy with its parent's tree. Nothing outside
 * daemon/snapshots/ needs to know which format a snapshot has.
 *
 * Contract
 * - changes(rootfs): docker's change list (compare.ts), sorted, `exclude`d paths left out.
 * - view(rootfs): the image's tree (`lower`) and the container's whole tree (`merged`), read
 *   beneath their roots, never following a link the container planted.
 * - follow(rootfs): what a live journal watches. `layer` is a directory holding only the
 *   container's own entries in overlay form (watch it, read it path by path); without one the
 *   journal compares `tree` with `lower` in full.
 * - exportLayer(rootfs, opts): the changes as an uncompressed OCI layer tar written into the
 *   content store; its digest is its diffID (computed while writing, so the blob is verified by
 *   construction). undefined when there is nothing to export (unless `squash`: then the whole
 *   tree). The caller freezes a running container around it.
 * - view(dirs) of an image's top layer snapshot: treeOf(dirs).
 * - settle(rootfs, opts): after exportLayer(rootfs, opts), rewrite the container's snapshot so it
 *   holds exactly what the layer holds (settle.ts: excluded paths, sockets, mtimes, xattrs), for
 *   Snapshotter.commit(chainID, rootfs.key) instead of an unpack. Only for a stopped container that
 *   is removed right after. false when the snapshot cannot stand for the layer (squash: its parent
 *   is not the layer's; a full tree with hard links the layer splits): remove it as usual.
 * - withTree(rootfs, fn): the container's whole tree as one read-only host directory for fn (a
 *   read-only overlay of its layer over the image's, or the native copy itself), for readers that
 *   need file descriptors (`sbx cp` out, `sbx export`); gone when fn settles. Read it beneath its
 *   root (util/beneath.ts): the container controls what is in it. Safe while the container runs.
 *
 * Errors: conflict (a directory vanished while being staged), failed_precondition (an overlay
 * redirect/metacopy entry), plus the content store's errors.
 */
import type { Change, Descriptor, Digest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import type { Mount, SnapshotDirs, Snapshotter } from './snapshotter.js';
import type { FsView } from './view.js';
import { NativeDiffer } from './native-differ.js';
import { OverlayDiffer } from './overlay-differ.js';

/**
 * A container's root as the differ reads it: made by containers/rootfs.ts (prepareRootfs, rootfsOf)
 * from the snapshot `container-<id>`; see there for where the bytes live.
 */
export interface Rootfs {
  /** The snapshot key: `container-<id>`. */
  key: string;
  driver: 'overlay' | 'native';
  /** The merged root, as mounts to perform on the target directory. */
  mounts: Mount[];
  /** The container's own writable layer (overlay) or full tree (native). */
  upperdir: string;
  /** overlay only. */
  workdir?: string;
  /** Image layers, top first (overlay); the image's complete tree first (native). */
  lowerdirs: string[];
  format: 'overlay' | 'full';
  /** The image's top chainID; undefined for an image without layers. */
  chainId?: Digest;
}

export interface DiffOptions {
  /** Container paths left out (mount stubs, --exclude patterns). */
  exclude?: (path: string) => boolean;
}

export interface ExportOptions extends DiffOptions {
  /** One layer holding the whole tree (the image's layers + the changes). */
  squash?: boolean;
  /** Clamp file mtimes to it (reproducible layers). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

export interface ExportedLayer {
  /** The blob in the content store (uncompressed tar: digest = diffID). */
  descriptor: Descriptor;
  diffId: Digest;
}

export interface FollowTarget {
  /** The container's own layer in overlay form, when the format has one. */
  layer?: string;
  /** The container's whole tree, when there is no layer (exactly one of the two is given). */
  tree?: string;
  /** The image's tree. */
  lower: FsView;
}

export interface Differ {
  changes(rootfs: Rootfs, opts?: DiffOptions): Promise<Change[]>;
  view(rootfs: Rootfs): { lower: FsView; merged: FsView };
  follow(rootfs: Rootfs): FollowTarget;
  /** The whole tree of a committed (image layer) snapshot, from its dirs. */
  treeOf(dirs: SnapshotDirs): FsView;
  exportLayer(rootfs: Rootfs, opts?: ExportOptions): Promise<ExportedLayer | undefined>;
  settle(rootfs: Rootfs, opts?: ExportOptions): Promise<boolean>;
  withTree<T>(rootfs: Rootfs, fn: (dir: string) => Promise<T>): Promise<T>;
}

export interface DifferDeps { snapshotter: Snapshotter; content: ContentStore }

/** The differ for the snapshotter's format (picked once, next to the snapshotter). */
export function createDiffer(deps: DifferDeps): Differ {
  return deps.snapshotter.driver === 'overlay' ? new OverlayDiffer(deps) : new NativeDiffer(deps);
}
