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
import type { Rootfs } from './rootfs.js';
import type { SnapshotDirs, Snapshotter } from './snapshotter.js';
import type { FsView } from './view.js';
import { NativeDiffer } from './native-differ.js';
import { OverlayDiffer } from './overlay-differ.js';

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
  withTree<T>(rootfs: Rootfs, fn: (dir: string) => Promise<T>): Promise<T>;
}

export interface DifferDeps { snapshotter: Snapshotter; content: ContentStore }

/** The differ for the snapshotter's format (picked once, next to the snapshotter). */
export function createDiffer(deps: DifferDeps): Differ {
  return deps.snapshotter.driver === 'overlay' ? new OverlayDiffer(deps) : new NativeDiffer(deps);
}
