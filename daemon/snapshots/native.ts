/**
 * Copy-based snapshotter (containerd's "native"), for hosts where overlayfs cannot be mounted.
 * Every snapshot's fs/ is a complete tree: prepare copies the parent with `cp -a --reflink=auto`
 * (keeps owners, modes, times, xattrs, devices, hard links; reflinks where the filesystem can),
 * so mounts are plain bind mounts. Costs O(files) per prepare; changes are found by comparing
 * fs/ with the parent's fs/.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SbxError } from '../../protocol/index.js';
import { MetaSnapshotter, type Meta } from './metastore.js';
import { VIEW_FLAGS } from './overlay.js';
import type { Mount, SnapshotDirs, SnapshotKind, Snapshotter } from './snapshotter.js';

const pexec = promisify(execFile);

export async function openNativeSnapshotter(root: string): Promise<Snapshotter> {
  return new NativeSnapshotter(root).open();
}

class NativeSnapshotter extends MetaSnapshotter {
  readonly driver = 'native' as const;

  protected async populate(dir: string, _kind: SnapshotKind, chain: Meta[]): Promise<void> {
    if (chain.length === 0) {
      await mkdir(join(dir, 'fs'), { mode: 0o755 });
      return;
    }
    try {
      await pexec('cp', ['-a', '--reflink=auto', '--', this.path(chain[0]!, 'fs'), join(dir, 'fs')], { maxBuffer: 1 << 20 });
    } catch (e) {
      throw new SbxError('internal', `copy snapshot ${chain[0]!.dir}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, { cause: e });
    }
  }

  protected mountsOf(meta: Meta): Mount[] {
    return [{ type: 'bind', source: this.path(meta, 'fs'), options: ['rbind', ...(meta.kind === 'view' ? VIEW_FLAGS : ['rw'])] }];
  }

  protected dirsOf(meta: Meta, chain: Meta[]): SnapshotDirs {
    return { format: 'full', whiteouts: 'remove', upper: this.path(meta, 'fs'), lowers: chain.map((m) => this.path(m, 'fs')) };
  }

  protected async seal(): Promise<void> { /* the copy is already complete */ }
}
