/**
 * commitContainer: a container's file system changes → a new image (docker commit).
 *
 * Contract
 * - The layer is the container layer as an OCI tar: overlay → packTree(upperdir) with overlay
 *   whiteouts converted (.wh.NAME, .wh..wh..opq); native (full copy) → the changes against the
 *   image's tree, staged as hard links plus whiteouts, then packed the same way. Mount stubs and
 *   `exclude` patterns are left out. Stored uncompressed (application/vnd.oci.image.layer.v1.tar);
 *   its digest is its diffID, computed while writing.
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
 *
 * Errors: invalid_argument (a bad change line, reference or exclude pattern, all checked before
 * any work), failed_precondition (an overlay redirect/metacopy layer), plus the stores' errors.
 */
import { execFile } from 'node:child_process';
import { chmod, lchown, lutimes, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  SbxError, type ContainerConfig, type Descriptor, type Digest, type HistoryEntry, type ImageConfig,
} from '../../protocol/index.js';
import { packToStore } from '../archive/pack.js';
import { compareViews, overlayChanges } from '../changes/compare.js';
import { excludeFilter } from '../changes/stubs.js';
import { DirView, LayeredView, hostPath, toEntry } from '../changes/view.js';
import { Beneath } from '../util/beneath.js';
import type { ContentStore } from '../content/store.js';
import type { Rootfs } from '../snapshots/rootfs.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import type { SharedLock } from '../util/lock.js';
import { applyChanges } from '../dockerfile/config-changes.js';
import type { LoadedImage } from './resolve.js';
import { moveTag, normalizeTag, type ImageStore } from './store.js';
import { writeImage } from './write.js';

const pexec = promisify(execFile);

export interface CommitDeps { content: ContentStore; images: ImageStore; gcLock: SharedLock }

export interface CommitSource {
  id: string;
  rootfs: Rootfs;
  /** The image the container was created from. */
  image: LoadedImage;
  /** The container's config (image config + run flags), docker's base for the new config. */
  config: ContainerConfig;
  /** Freeze the container's processes; returns the thaw. Absent when it is not running. */
  freeze?: () => Promise<() => Promise<void>>;
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

export async function commitContainer(deps: CommitDeps, src: CommitSource, opts: CommitOptions = {}): Promise<CommitResult> {
  validateCommitOptions(opts);
  const config = applyChanges(src.config, opts.changes ?? []);
  const exclude = excludeFilter(opts.exclude);
  const name = opts.reference === undefined ? undefined : normalizeTag(opts.reference);

  return deps.gcLock.withShared(async () => {
    const thaw = opts.pause !== false && src.freeze ? await src.freeze() : undefined;
    let layer: { descriptor: Descriptor; diffId: Digest } | undefined;
    try {
      layer = await writeLayer(deps.content, src.rootfs, { exclude, squash: opts.squash ?? false, sourceDateEpoch: opts.sourceDateEpoch, signal: opts.signal });
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
      else if (!untagged.some((u) => u.digest === manifest.digest) && ![...tags.values()].some((t) => t.target.digest === manifest.digest)) untagged.push(manifest);
    });
    const result: CommitResult = { id: configDigest, manifest };
    if (name) result.name = name;
    if (layer) result.layer = { diffId: layer.diffId, size: layer.descriptor.size };
    return result;
  });
}

interface LayerOptions { exclude: (p: string) => boolean; squash: boolean; sourceDateEpoch?: number; signal?: AbortSignal }

/** Pack the container's layer into the store; undefined when there is nothing to commit. */
async function writeLayer(content: ContentStore, rootfs: Rootfs, o: LayerOptions): Promise<{ descriptor: Descriptor; diffId: Digest } | undefined> {
  const pack = { exclude: o.exclude, signal: o.signal, ...(o.sourceDateEpoch !== undefined ? { sourceDateEpoch: o.sourceDateEpoch } : {}) };
  const overlay = rootfs.format === 'overlay';
  const lower = overlay ? new LayeredView(rootfs.lowerdirs) : new DirView(rootfs.lowerdirs[0] ?? '/nonexistent');
  const changes = overlay
    ? await overlayChanges(rootfs.upperdir, lower, { exclude: o.exclude })
    : await compareViews(lower, new DirView(rootfs.upperdir), { exclude: o.exclude });
  if (changes.length === 0 && !o.squash) return undefined;

  if (o.squash) {
    if (!overlay) return packToStore(content, rootfs.upperdir, pack);
    return withMergedView(rootfs, (dir) => packToStore(content, dir, pack));
  }
  if (overlay) return packToStore(content, rootfs.upperdir, { ...pack, whiteouts: 'overlay' });

  // Copy-based: stage the changes as hard links (same inodes, so same bytes and metadata) and
  // whiteouts next to the tree, then pack the stage as an overlay upperdir.
  // The tree is the container's: links are made beneath it, never through a symlink it planted.
  const upper = new Beneath(rootfs.upperdir);
  const stage = await mkdtemp(join(dirname(rootfs.upperdir), '.commit-'));
  try {
    const dirs: string[] = [];
    for (const c of changes) {
      const dst = hostPath(stage, c.path);
      if (c.op === 'delete') { await pexec('mknod', [dst, 'c', '0', '0']); continue; }
      if (c.kind === 'dir') { await mkdir(dst); dirs.push(c.path); continue; }
      await upper.link(c.path, dst);
    }
    for (const d of dirs.reverse()) {
      const st = await upper.lstat(d);
      if (!st) throw new SbxError('conflict', `commit: ${d} changed while being committed; retry, or commit with --pause`);
      const e = toEntry(st);
      const dst = hostPath(stage, d);
      await lchown(dst, e.uid, e.gid);
      await chmod(dst, e.mode & 0o7777);
      await lutimes(dst, Number(e.mtimeSec), Number(e.mtimeSec));
    }
    return await packToStore(content, stage, { ...pack, whiteouts: 'overlay' });
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Mount the container's whole tree read-only (its layer as the top lowerdir) for `fn`. */
async function withMergedView<T>(rootfs: Rootfs, fn: (dir: string) => Promise<T>): Promise<T> {
  const m = rootfs.mounts[0];
  if (!m || m.type !== 'overlay') throw new SbxError('internal', `squash container layer ${rootfs.key}: no overlay mount`);
  const lowerOpt = m.options.find((o) => o.startsWith('lowerdir='));
  const lowers = lowerOpt ? lowerOpt.slice('lowerdir='.length) : '';
  const options = [
    ...m.options.filter((o) => !/^(lowerdir|upperdir|workdir)=/.test(o)),
    `lowerdir=${rootfs.upperdir}${lowers ? `:${lowers}` : ''}`,
    'ro', 'nosuid', 'nodev',
  ];
  const target = await mkdtemp(join(dirname(rootfs.upperdir), '.squash-'));
  try {
    await mountAll([{ ...m, options }], target);
    try {
      return await fn(target);
    } finally {
      await unmount(target);
    }
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}
