/**
 * FsView: a read-only view of a root file system addressed by container paths ("/etc/motd").
 * Two mechanisms: DirView (one plain directory: a native snapshot, a merged mount) and
 * LayeredView (overlay lower layers, top first, resolved the way the kernel does: a char device
 * 0/0 hides the name below it, `trusted.overlay.opaque=y` hides the directory's lower content,
 * a non-directory hides everything below it).
 *
 * Contract
 * - Every read resolves beneath the view's directories (util/beneath.ts): no symlink is ever
 *   followed, at the last component or above it, so a container that swaps its paths for
 *   symlinks to host files while the daemon reads them gets nothing from the host.
 * - lstat() returns undefined for a missing (or whited-out) path, or one under a symlink.
 * - readdir() returns the visible names, sorted; [] for a missing path or a non-directory.
 * - readFile() reads what the path is *now* (type and size from the opened inode, not from an
 *   earlier lstat); data only for a regular file of at most maxBytes.
 * - xattr() reads the entry's own extended attribute, null when absent.
 */
import { lstat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { EntryKind } from '../../protocol/index.js';
import { Beneath } from '../util/beneath.js';

export interface Entry {
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  rdev: number;
  mtimeSec: bigint;
  mtimeNsec: number;
  ino: bigint;
  nlink: number;
}

export interface FileRead {
  entry: Entry;
  /** The bytes of a regular file no larger than maxBytes. */
  data?: Buffer;
}

export interface FsView {
  lstat(path: string): Promise<Entry | undefined>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string, maxBytes: number): Promise<FileRead | undefined>;
  xattr(path: string, name: string): Promise<Buffer | null>;
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export function kindOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean }): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

export function toEntry(st: BigIntStats): Entry {
  return {
    kind: kindOf(st),
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    rdev: Number(st.rdev),
    mtimeSec: st.mtimeNs / 1_000_000_000n,
    mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
    ino: st.ino,
    nlink: Number(st.nlink),
  };
}

/** lstat of a trusted host path (one sbxd made); container paths go through a view. */
export async function lstatEntry(hostPath: string): Promise<Entry | undefined> {
  try {
    return toEntry(await lstat(hostPath, { bigint: true }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export function isWhiteout(e: Entry | undefined): boolean {
  return e !== undefined && e.kind === 'char' && e.rdev === 0;
}

function isOpaqueValue(v: Buffer | null): boolean {
  return v !== null && v.length === 1 && v[0] === 0x79; // 'y'
}

/** Read a file beneath `b` (never through a symlink); see FsView.readFile. */
async function readBeneath(b: Beneath, path: string, maxBytes: number): Promise<FileRead | undefined> {
  return b.open(path, async (o) => {
    const entry = toEntry(o.stat);
    if (!o.stat.isFile() || entry.size > maxBytes) return { entry };
    const fh = await o.reopen();
    try {
      return { entry, data: await fh.readFile() };
    } finally {
      await fh.close();
    }
  });
}

/** Join a container path onto a host directory ("/" → the directory itself). */
export function hostPath(root: string, path: string): string {
  return path === '/' ? root : root + path;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export class DirView implements FsView {
  private readonly b: Beneath;
  constructor(readonly root: string) { this.b = new Beneath(root); }
  async lstat(path: string): Promise<Entry | undefined> {
    const st = await this.b.lstat(path);
    return st && toEntry(st);
  }
  async readdir(path: string): Promise<string[]> { return (await this.b.readdir(path)).sort(); }
  readFile(path: string, maxBytes: number): Promise<FileRead | undefined> { return readBeneath(this.b, path, maxBytes); }
  xattr(path: string, name: string): Promise<Buffer | null> { return this.b.getXattr(path, name); }
  /** Whether directory `path` carries overlay's opaque mark (an overlay upper dir read as a tree). */
  async opaque(path: string): Promise<boolean> { return isOpaqueValue(await this.b.getXattr(path, OPAQUE_XATTR)); }
}

/** The merged view of overlay lower layers (host directories, top layer first). */
export class LayeredView implements FsView {
  /** Container dir → the layers that contribute to it, top first. */
  private readonly dirs = new Map<string, Promise<DirView[]>>();
  private readonly views: DirView[];

  constructor(readonly layers: readonly string[]) { this.views = layers.map((l) => new DirView(l)); }

  private dirLayers(path: string): Promise<DirView[]> {
    let p = this.dirs.get(path);
    if (!p) {
      p = path === '/' ? Promise.resolve([...this.views]) : this.resolveDir(path);
      this.dirs.set(path, p);
    }
    return p;
  }

  private async resolveDir(path: string): Promise<DirView[]> {
    const out: DirView[] = [];
    for (const layer of await this.dirLayers(parentOf(path))) {
      const e = await layer.lstat(path);
      if (!e) continue;
      if (e.kind !== 'dir') break; // a whiteout or a file hides the lower layers
      out.push(layer);
      if (await layer.opaque(path)) break;
    }
    return out;
  }

  private async find(path: string): Promise<{ layer: DirView; entry: Entry } | undefined> {
    if (path === '/') {
      const layer = this.views[0];
      if (!layer) return undefined;
      const entry = await layer.lstat('/');
      return entry ? { layer, entry } : undefined;
    }
    for (const layer of await this.dirLayers(parentOf(path))) {
      const entry = await layer.lstat(path);
      if (!entry) continue;
      return isWhiteout(entry) ? undefined : { layer, entry };
    }
    return undefined;
  }

  async lstat(path: string): Promise<Entry | undefined> {
    return (await this.find(path))?.entry;
  }

  async readdir(path: string): Promise<string[]> {
    const seen = new Map<string, boolean>();
    for (const layer of await this.dirLayers(path)) {
      for (const name of await layer.readdir(path)) {
        if (seen.has(name)) continue;
        seen.set(name, !isWhiteout(await layer.lstat(childPath(path, name))));
      }
    }
    return [...seen].filter(([, visible]) => visible).map(([n]) => n).sort();
  }

  async readFile(path: string, maxBytes: number): Promise<FileRead | undefined> {
    const f = await this.find(path);
    return f ? f.layer.readFile(path, maxBytes) : undefined;
  }

  async xattr(path: string, name: string): Promise<Buffer | null> {
    const f = await this.find(path);
    return f ? f.layer.xattr(path, name) : null;
  }
}

/** A view with nothing in it (the parent of a base image). */
export const EMPTY_VIEW: FsView = {
  async lstat() { return undefined; },
  async readdir() { return []; },
  async readFile() { return undefined; },
  async xattr() { return null; },
};
