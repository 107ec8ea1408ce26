/**
 * Snapshotter: copy-on-write directory trees for image layers and container roots
 * (containerd's snapshots.Snapshotter, reduced).
 *
 * Vocabulary (used everywhere, never mixed)
 * - `key`    names an active or view snapshot (a writable / read-only tree in use).
 * - `name`   names a committed snapshot (an immutable tree; image layers use their chainID).
 * - `parent` is always a committed snapshot; none means "start from an empty directory".
 * Keys and names share one namespace: a string names at most one snapshot.
 *
 * Lifecycle
 * - prepare(key, parent) creates an active snapshot on top of `parent` and returns the mounts
 *   that show it; view(key, parent) does the same read-only. Mounts are plain data: the caller
 *   performs them (snapshots/mount.ts mountAll, or its own mount(8) inside a namespace) and must
 *   unmount before commit() or remove().
 * - commit(name, key) freezes active `key` into committed `name`; `key` stops existing. Active
 *   snapshots never become committed ones by any other path, and committed ones never change.
 * - remove(key|name) deletes a snapshot. A committed snapshot that is the parent of another
 *   snapshot cannot be removed: children go first.
 * - Nothing half-made is visible: directories are created under fresh ids and the metadata file
 *   is rewritten atomically; open() deletes directories no metadata refers to (a crash's leftovers).
 *
 * Importing a layer (what images/unpack.ts does)
 *   const key = `extract-${random} ${chainId}`;
 *   await sn.prepare(key, parentChainId);              // parentChainId undefined for the base layer
 *   const { upper, whiteouts } = await sn.dirs(key);   // apply the tar straight into `upper`:
 *   await applyLayer(upper, tar, { whiteouts });
 *   await sn.commit(chainId, key);                     // already_exists: someone else won; remove(key)
 *
 * Running a container (what containers/rootfs.ts prepareRootfs does)
 *   const mounts = await sn.prepare(`container-${id}`, topChainId);
 *   await mountAll(mounts, merged);                    // ... run ...; unmount(merged)
 *   await sn.remove(`container-${id}`);
 *
 * Errors (SbxError codes)
 * - not_found: stat/mounts/dirs/commit/remove of an unknown key; prepare/view of an unknown parent.
 * - already_exists: prepare/view of a key, or commit to a name, that exists.
 * - failed_precondition: commit of a view or a committed snapshot; remove of a parent with children;
 *   a parent that is not committed.
 * - invalid_argument: an empty key or name, or one with control characters.
 */

export type SnapshotKind = 'active' | 'view' | 'committed';

/**
 * One mount, as data (containerd's mount.Mount). `type` 'overlay' or 'bind' (options carry
 * rbind/ro/rw). Overlay options refer to lower layers by short relative links: the mount must
 * run with `cwd` as its working directory (mount(8) resolves them there), which keeps 60+ layer
 * chains under the kernel's 4096-byte option limit.
 */
export interface Mount {
  type: 'overlay' | 'bind';
  source: string;
  options: string[];
  /** Working directory for the mount call when options hold relative paths. */
  cwd?: string;
}

export interface SnapshotInfo {
  /** The key (active/view) or name (committed). */
  key: string;
  kind: SnapshotKind;
  parent?: string;
  labels: Record<string, string>;
  createdAt: string;
}

/**
 * Where a snapshot's bytes live on the host, for code that reads or writes them without a mount
 * (layer extraction, `sbx diff`, `sbx commit`).
 * - format 'overlay': `upper` holds only this snapshot's own changes in overlayfs form (deleted
 *   entries are 0/0 character devices, a re-created directory carries trusted.overlay.opaque=y);
 *   `lowers` are the committed parents' own layers, top first; the full tree is their overlay.
 * - format 'full': `upper` is the complete tree (copy-based); `lowers[0]` is the complete tree
 *   of the parent (compare the two to find changes); further entries are older ancestors.
 * For a committed snapshot `upper` is its own directory and `work` is absent.
 */
export interface SnapshotDirs {
  format: 'overlay' | 'full';
  /** How a layer applied into `upper` records a deletion: as an overlay whiteout, or by removing the entry. */
  whiteouts: 'overlay' | 'remove';
  upper: string;
  work?: string;
  lowers: string[];
}

export interface Snapshotter {
  /** 'overlay' or 'native': the mechanism, for logs and `sbx info`. */
  readonly driver: 'overlay' | 'native';
  /** @throws not_found */
  stat(key: string): Promise<SnapshotInfo>;
  /**
   * Create active `key` over committed `parent` (or empty) and return its mounts (rw).
   * @throws already_exists (key), not_found (parent), failed_precondition (parent not committed)
   */
  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** Like prepare, read-only; a view cannot be committed. */
  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** The mounts of an existing active/view snapshot (again). @throws not_found, failed_precondition (committed) */
  mounts(key: string): Promise<Mount[]>;
  /** Host directories behind a snapshot. @throws not_found */
  dirs(key: string): Promise<SnapshotDirs>;
  /**
   * Freeze active `key` (unmounted) into committed `name`; `key` is gone afterwards.
   * @throws not_found (key), already_exists (name; `key` is left as it was), failed_precondition (not active)
   */
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  /** @throws not_found, failed_precondition (has children) */
  remove(key: string): Promise<void>;
  list(): Promise<SnapshotInfo[]>;
  close(): Promise<void>;
}

/** Keys of unpack work in progress; startup removes every snapshot whose key starts so. */
export const EXTRACT_PREFIX = 'extract-';
