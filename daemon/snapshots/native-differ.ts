/**
 * The native (copy-based) snapshotter's differ: a container's snapshot is a complete tree, so
 * changes come from walking it against its parent's tree, and the layer is staged: the changed
 * entries as hard links (same inodes, so same bytes and metadata) plus 0/0 whiteouts next to the
 * tree, then packed as an overlay upper dir would be.
 */
import { execFile } from 'node:child_process';
import { chmod, lchown, lutimes, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SbxError, type Change } from '../../protocol/index.js';
import { packToStore } from '../archive/pack.js';
import { Beneath } from '../util/beneath.js';
import { compareViews } from './compare.js';
import type { DiffOptions, Differ, DifferDeps, ExportOptions, ExportedLayer, FollowTarget, Rootfs } from './differ.js';
import { packOptions, settleOptions } from './overlay-differ.js';
import { settleFullTree } from './settle.js';
import type { SnapshotDirs } from './snapshotter.js';
import { DirView, EMPTY_VIEW, hostPath, toEntry, type FsView } from './view.js';

const pexec = promisify(execFile);

export class NativeDiffer implements Differ {
  constructor(private readonly deps: DifferDeps) {}

  changes(rootfs: Rootfs, opts: DiffOptions = {}): Promise<Change[]> {
    const { lower, merged } = this.view(rootfs);
    return compareViews(lower, merged, opts.exclude ? { exclude: opts.exclude } : {});
  }

  view(rootfs: Rootfs): { lower: FsView; merged: FsView } {
    return { lower: rootfs.lowerdirs[0] ? new DirView(rootfs.lowerdirs[0]) : EMPTY_VIEW, merged: new DirView(rootfs.upperdir) };
  }

  follow(rootfs: Rootfs): FollowTarget {
    return { tree: rootfs.upperdir, lower: this.view(rootfs).lower };
  }

  treeOf(dirs: SnapshotDirs): FsView {
    return new DirView(dirs.upper);
  }

  /** The copy is the tree; nothing to mount. */
  withTree<T>(rootfs: Rootfs, fn: (dir: string) => Promise<T>): Promise<T> {
    return fn(rootfs.upperdir);
  }

  async exportLayer(rootfs: Rootfs, o: ExportOptions = {}): Promise<ExportedLayer | undefined> {
    const pack = packOptions(o);
    if (o.squash) return packToStore(this.deps.content, rootfs.upperdir, pack);
    const changes = await this.changes(rootfs, o);
    if (changes.length === 0) return undefined;
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
      return await packToStore(this.deps.content, stage, { ...pack, whiteouts: 'overlay' });
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  async settle(rootfs: Rootfs, o: ExportOptions = {}): Promise<boolean> {
    if (o.squash) return false;
    return settleFullTree(rootfs.upperdir, rootfs.lowerdirs[0], await this.changes(rootfs, o), settleOptions(o));
  }
}
