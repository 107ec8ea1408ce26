/**
 * commitImage: a container rootfs's changes → a new image (the body of docker commit; the
 * one-call service over a container reference is containers/commit.ts commitContainer).
 *
 * Contract
 * - The layer is the container layer as an OCI tar, made by the differ (snapshots/differ.ts
 *   exportLayer). Mount stubs and `exclude` patterns are left out. Stored uncompressed
 *   (application/vnd.oci.image.layer.v1.tar); its digest is its diffID, computed while writing.
 * - An empty diff adds no layer: the history entry says empty_layer: true.
 * - `squash`: one layer holding the whole resulting tree (the image's layers + the changes);
 *   the parent's history entries are kept, marked empty_layer.
 * - Config = the container's config with `changes` applied by docker's rules (applyChanges),
 *   architecture/os from the image; history gains {created, created_by (the container's
 *   command), author, comment, empty_layer}. With sourceDateEpoch, created times and file mtimes
 *   are clamped to it, so the same changes give the same digests.
 * - The parent's layers are reused as they are (same blobs): images stay shared, stored once.
 * - Nothing is visible until done: blobs first, then the tag (or an untagged index entry) in one
 *   atomic index rewrite, all under gcLock shared. A crash leaves at most unreferenced blobs.
 * - A running container is frozen while its layer is read (unless pause is false) and thawed
 *   afterwards, also on failure.
 * - keepSnapshot (see CommitSource): after the image is stored, the container's snapshot is
 *   settled and adopted as the layer's chainID snapshot (kept: true), under gcLock shared.
 *
 * Errors: invalid_argument (a bad change line, reference or exclude pattern, all checked before
 * any work), failed_precondition (an overlay redirect/metacopy layer), plus the stores' errors.
 */
import {
  SbxError, type ContainerConfig, type Descriptor, type Digest, type HistoryEntry, type ImageConfig,
} from '../../protocol/index.js';
import { excludeFilter } from '../changes/stubs.js';
import type { ContentStore } from '../content/store.js';
import type { Differ, ExportOptions, Rootfs } from '../snapshots/differ.js';
import type { SharedLock } from '../util/lock.js';
import { applyChanges } from '../dockerfile/config-changes.js';
import type { LoadedImage } from './resolve.js';
import { chainIds, type Unpacker } from './unpack.js';
import { keepUntagged, moveTag, normalizeTag, type ImageStore } from './store.js';
import { writeImage } from './write.js';

export interface CommitDeps { content: ContentStore; images: ImageStore; gcLock: SharedLock; differ: Differ; unpacker: Unpacker }

export interface CommitSource {
  id: string;
  rootfs: Rootfs;
  /** The image the container was created from. */
  image: LoadedImage;
  /** The container's config (image config + run flags), docker's base for the new config. */
  config: ContainerConfig;
  /** Freeze the container's processes; returns the thaw. Absent when it is not running. */
  freeze?: () => Promise<() => Promise<void>>;
  /**
   * The container is stopped and removed right after the commit (a build step's): its snapshot
   * becomes the new layer's snapshot (Differ.settle, then Unpacker.adopt), so nothing unpacks the
   * layer again. Not with squash; a layer whose snapshot exists already is not replaced; a
   * failure to keep it is not the commit's (kept: false; the snapshot goes with the container).
   */
  keepSnapshot?: boolean;
}

export interface CommitOptions {
  author?: string;
  message?: string;
  changes?: string[];
  /** REPO[:TAG]; none → an untagged image. */
  reference?: string;
  pause?: boolean;
  squash?: boolean;
  exclude?: string[];
  sourceDateEpoch?: number;
  /** The history entry's created_by (default: the container's command, as docker commit writes it). */
  createdBy?: string;
  signal?: AbortSignal;
}

export interface CommitResult {
  /** Image ID (config digest). */
  id: Digest;
  manifest: Descriptor;
  /** Normalised tag, when one was given. */
  name?: string;
  /** The new layer; absent for an empty diff. */
  layer?: { diffId: Digest; size: number };
  /** With keepSnapshot: the container's snapshot is now the layer's (named chainID). */
  kept?: boolean;
}

export function validateCommitOptions(opts: CommitOptions): void {
  if (opts.reference !== undefined) normalizeTag(opts.reference);
  if (opts.changes) applyChanges({}, opts.changes);
  excludeFilter(opts.exclude);
  const sde = opts.sourceDateEpoch;
  if (sde !== undefined && (!Number.isInteger(sde) || sde < 0)) {
    throw new SbxError('invalid_argument', `source date epoch ${sde}: expected a whole number of seconds ≥ 0`);
  }
  for (const [k, v] of [['author', opts.author], ['message', opts.message]] as const) {
    if (v !== undefined && typeof v !== 'string') throw new SbxError('invalid_argument', `${k}: expected a string`);
  }
}

export async function commitImage(deps: CommitDeps, src: CommitSource, opts: CommitOptions = {}): Promise<CommitResult> {
  validateCommitOptions(opts);
  const config = applyChanges(src.config, opts.changes ?? []);
  const exclude = excludeFilter(opts.exclude);
  const name = opts.reference === undefined ? undefined : normalizeTag(opts.reference);

  return deps.gcLock.withShared(async () => {
    const thaw = opts.pause !== false && src.freeze ? await src.freeze() : undefined;
    let layer: { descriptor: Descriptor; diffId: Digest } | undefined;
    const exportOpts: ExportOptions = {
      exclude, squash: opts.squash ?? false,
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    try {
      layer = await deps.differ.exportLayer(src.rootfs, exportOpts);
    } finally {
      await thaw?.();
    }
    opts.signal?.throwIfAborted();

    const parent = src.image.config;
    const created = opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000).toISOString() : new Date().toISOString();
    const entry: HistoryEntry = { created, created_by: opts.createdBy ?? [...(src.config.Entrypoint ?? []), ...(src.config.Cmd ?? [])].join(' ') };
    if (opts.author) entry.author = opts.author;
    if (opts.message) entry.comment = opts.message;
    if (!layer) entry.empty_layer = true;

    let layers: Descriptor[];
    let diffIds: Digest[];
    let history: HistoryEntry[];
    if (opts.squash) {
      layers = layer ? [layer.descriptor] : [];
      diffIds = layer ? [layer.diffId] : [];
      history = [...(parent.history ?? []).map((h) => ({ ...h, empty_layer: true })), entry];
    } else {
      layers = [...src.image.manifest.layers, ...(layer ? [layer.descriptor] : [])];
      diffIds = [...parent.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])];
      history = [...(parent.history ?? []), entry];
    }
    const image: ImageConfig = {
      created,
      ...(opts.author ? { author: opts.author } : {}),
      architecture: parent.architecture,
      os: parent.os,
      ...(parent.variant ? { variant: parent.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    };
    const { manifest, configDigest } = await writeImage(deps.content, layers, image);
    opts.signal?.throwIfAborted();
    await deps.images.update((tags, untagged) => {
      if (name) moveTag(tags, untagged, name, manifest);
      else keepUntagged(tags, untagged, manifest);
    });
    const result: CommitResult = { id: configDigest, manifest };
    if (name) result.name = name;
    if (layer) result.layer = { diffId: layer.diffId, size: layer.descriptor.size };
    if (src.keepSnapshot && layer && !opts.squash) result.kept = await keep(deps, src, parent.rootfs.diff_ids, layer.diffId, exportOpts);
    return result;
  });
}

/** The container's snapshot as the new layer's (its parent must be the image's top layer). */
async function keep(deps: CommitDeps, src: CommitSource, parentDiffIds: Digest[], diffId: Digest, o: ExportOptions): Promise<boolean> {
  const chain = chainIds([...parentDiffIds, diffId]);
  if (src.rootfs.chainId !== chain[chain.length - 2]) return false;
  // The image is stored: failing to keep the snapshot costs only a later unpack, never the commit.
  try {
    if (!(await deps.differ.settle(src.rootfs, o))) return false;
    return await deps.unpacker.adopt(src.rootfs.key, chain[chain.length - 1]!, diffId);
  } catch {
    return false;
  }
}
