/**
 * The overlay snapshotter's differ: a container's upper dir already is its layer (overlay
 * whiteouts: 0/0 char devices, trusted.overlay.opaque=y), so changes are read from it against
 * the layered lower dirs and the layer is the upper dir packed with whiteouts converted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SbxError, type Change } from '../../protocol/index.js';
import { packToStore } from '../archive/pack.js';
import { overlayChanges } from './compare.js';
import type { DiffOptions, Differ, DifferDeps, ExportOptions, ExportedLayer, FollowTarget, Rootfs } from './differ.js';
import { mountAll, unmount } from './mount.js';
import { OVERLAY_OPTIONS, VIEW_FLAGS } from './overlay.js';
import { settleOverlayUpper, type SettleOptions } from './settle.js';
import type { SnapshotDirs } from './snapshotter.js';
import { LayeredView, type FsView } from './view.js';

export class OverlayDiffer implements Differ {
  constructor(private readonly deps: DifferDeps) {}

  changes(rootfs: Rootfs, opts: DiffOptions = {}): Promise<Change[]> {
    return overlayChanges(rootfs.upperdir, new LayeredView(rootfs.lowerdirs), opts.exclude ? { exclude: opts.exclude } : {});
  }

  view(rootfs: Rootfs): { lower: FsView; merged: FsView } {
    return { lower: new LayeredView(rootfs.lowerdirs), merged: new LayeredView([rootfs.upperdir, ...rootfs.lowerdirs]) };
  }

  follow(rootfs: Rootfs): FollowTarget {
    return { layer: rootfs.upperdir, lower: new LayeredView(rootfs.lowerdirs) };
  }

  treeOf(dirs: SnapshotDirs): FsView {
    return new LayeredView([dirs.upper, ...dirs.lowers]);
  }

  async exportLayer(rootfs: Rootfs, o: ExportOptions = {}): Promise<ExportedLayer | undefined> {
    const pack = packOptions(o);
    if (o.squash) return this.withTree(rootfs, (dir) => packToStore(this.deps.content, dir, pack));
    if ((await this.changes(rootfs, o)).length === 0) return undefined;
    return packToStore(this.deps.content, rootfs.upperdir, { ...pack, whiteouts: 'overlay' });
  }

  async settle(rootfs: Rootfs, o: ExportOptions = {}): Promise<boolean> {
    if (o.squash) return false;
    await settleOverlayUpper(rootfs.upperdir, settleOptions(o));
    return true;
  }

  /** Mount the container's whole tree read-only (its layer as the top lower dir) for `fn`. */
  async withTree<T>(rootfs: Rootfs, fn: (dir: string) => Promise<T>): Promise<T> {
    const m = rootfs.mounts[0];
    if (!m || m.type !== 'overlay') throw new SbxError('internal', `squash container layer ${rootfs.key}: no overlay mount`);
    // The mount's own lower dirs are short links relative to m.cwd (the 4096-byte option limit).
    const lowerOpt = m.options.find((o) => o.startsWith('lowerdir='));
    const lowers = lowerOpt ? `:${lowerOpt.slice('lowerdir='.length)}` : '';
    const target = await mkdtemp(join(dirname(rootfs.upperdir), '.squash-'));
    try {
      await mountAll([{ ...m, options: [`lowerdir=${rootfs.upperdir}${lowers}`, ...OVERLAY_OPTIONS, ...VIEW_FLAGS] }], target);
      try {
        return await fn(target);
      } finally {
        await unmount(target);
      }
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  }
}

/** packToStore's options from an export's. */
export function packOptions(o: ExportOptions): { exclude: (p: string) => boolean; signal?: AbortSignal; sourceDateEpoch?: number } {
  return {
    exclude: o.exclude ?? (() => false),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.sourceDateEpoch !== undefined ? { sourceDateEpoch: o.sourceDateEpoch } : {}),
  };
}

/** settle.ts's options from an export's. */
export function settleOptions(o: ExportOptions): SettleOptions {
  return { ...(o.exclude ? { exclude: o.exclude } : {}), ...(o.sourceDateEpoch !== undefined ? { sourceDateEpoch: o.sourceDateEpoch } : {}) };
}
