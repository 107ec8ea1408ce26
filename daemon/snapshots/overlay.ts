/**
 * Kernel overlayfs snapshotter. A snapshot directory holds fs/ (the layer's own entries, in
 * overlay form: whiteouts are 0/0 char devices) and, while active, work/. Committed snapshots get
 * a short link l/<ID> -> ../<dir>/fs, as docker's overlay2 does, so a lowerdir chain of 60+ layers
 * stays far below the 4096-byte mount option limit; mounts therefore run with cwd = this root.
 */
import { mkdir, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MetaSnapshotter, randomId, type Meta } from './metastore.js';
import type { Mount, SnapshotDirs, SnapshotKind, Snapshotter } from './snapshotter.js';

/** Overlay options that keep the upper directory a plain, portable diff (no redirects, no metacopy). */
export const OVERLAY_OPTIONS = ['index=off', 'redirect_dir=off', 'metacopy=off'];

/**
 * A read-only view is for reading files (build, inspection), never for running them: no setuid
 * and no device nodes from a layer on the host.
 */
export const VIEW_FLAGS = ['ro', 'nosuid', 'nodev'];

export async function openOverlaySnapshotter(root: string): Promise<Snapshotter> {
  return new OverlaySnapshotter(root).open();
}

class OverlaySnapshotter extends MetaSnapshotter {
  readonly driver = 'overlay' as const;

  override async open(): Promise<this> {
    await super.open();
    // Links are recreated from metadata: a crash may have lost one or left a stale one.
    await rm(join(this.root, 'l'), { recursive: true, force: true });
    await mkdir(join(this.root, 'l'), { mode: 0o700 });
    let added = false;
    for (const m of this.snaps.values()) {
      if (m.kind !== 'committed') continue;
      added ||= m.link === undefined;
      await this.sealed(m);
    }
    if (added) await this.save();
    return this;
  }

  protected override reserved(): string[] { return ['l']; }

  protected async populate(dir: string, kind: SnapshotKind): Promise<void> {
    await mkdir(join(dir, 'fs'), { mode: 0o755 });
    if (kind === 'active') await mkdir(join(dir, 'work'), { mode: 0o700 });
  }

  protected mountsOf(meta: Meta, chain: Meta[]): Mount[] {
    const ro = meta.kind === 'view';
    if (chain.length === 0) return [{ type: 'bind', source: this.path(meta, 'fs'), options: ['rbind', ...(ro ? VIEW_FLAGS : ['rw'])] }];
    if (ro && chain.length === 1) return [{ type: 'bind', source: this.path(chain[0]!, 'fs'), options: ['rbind', ...VIEW_FLAGS] }];
    const lower = `lowerdir=${chain.map((m) => `l/${m.link}`).join(':')}`;
    const options = ro ? [lower, ...OVERLAY_OPTIONS, ...VIEW_FLAGS]
      : [lower, `upperdir=${this.path(meta, 'fs')}`, `workdir=${this.path(meta, 'work')}`, ...OVERLAY_OPTIONS];
    return [{ type: 'overlay', source: 'overlay', options, cwd: this.root }];
  }

  protected dirsOf(meta: Meta, chain: Meta[]): SnapshotDirs {
    const d: SnapshotDirs = { format: 'overlay', whiteouts: 'overlay', upper: this.path(meta, 'fs'), lowers: chain.map((m) => this.path(m, 'fs')) };
    if (meta.kind === 'active') d.work = this.path(meta, 'work');
    return d;
  }

  protected async seal(meta: Meta): Promise<void> {
    await rm(this.path(meta, 'work'), { recursive: true, force: true });
  }

  protected override async sealed(meta: Meta): Promise<void> {
    meta.link ??= randomId(10);
    await symlink(`../${meta.dir}/fs`, join(this.root, 'l', meta.link));
  }

  protected override async removed(meta: Meta): Promise<void> {
    if (meta.link) await unlink(join(this.root, 'l', meta.link)).catch(() => undefined);
  }
}
