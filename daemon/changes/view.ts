/**
 * FsView: a read-only view of a root file system addressed by container paths ("/etc/motd").
 * Two mechanisms: DirView (one plain directory: a native snapshot, a merged mount) and
 * LayeredView (overlay lower layers, top first, resolved the way the kernel does: a char device
 * 0/0 hides the name below it, `trusted.overlay.opaque=y` hides the directory's lower content,
 * a non-directory hides everything below it).
 *
 * Contract
 * - lstat() never follows symlinks and returns undefined for a missing (or whited-out) path.
 * - readdir() returns the visible names, sorted; [] for a missing path or a non-directory.
 * - source() names the host path holding the entry's bytes (for reading content), or undefined.
 */
import { lstat, readdir } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { getAttributeSync } from '@napi-rs/xattr';
import type { EntryKind } from '../../protocol/index.js';

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

export interface FsView {
  lstat(path: string): Promise<Entry | undefined>;
  readdir(path: string): Promise<string[]>;
  source(path: string): Promise<string | undefined>;
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

export async function lstatEntry(hostPath: string): Promise<Entry | undefined> {
  try {
    return toEntry(await lstat(hostPath, { bigint: true }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export async function readdirSorted(hostPath: string): Promise<string[]> {
  try {
    return (await readdir(hostPath)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}

export function isWhiteout(e: Entry | undefined): boolean {
  return e !== undefined && e.kind === 'char' && e.rdev === 0;
}

export function isOpaque(hostDir: string): boolean {
  try {
    const v = getAttributeSync(hostDir, OPAQUE_XATTR);
    return v !== null && v.length === 1 && v[0] === 0x79; // 'y'
  } catch {
    return false;
  }
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
  constructor(readonly root: string) {}
  lstat(path: string): Promise<Entry | undefined> { return lstatEntry(hostPath(this.root, path)); }
  readdir(path: string): Promise<string[]> { return readdirSorted(hostPath(this.root, path)); }
  async source(path: string): Promise<string | undefined> { return hostPath(this.root, path); }
}

/** The merged view of overlay lower layers (host directories, top layer first). */
export class LayeredView implements FsView {
  /** Container dir → the layers that contribute to it, top first. */
  private readonly dirs = new Map<string, Promise<string[]>>();

  constructor(readonly layers: readonly string[]) {}

  private dirLayers(path: string): Promise<string[]> {
    let p = this.dirs.get(path);
    if (!p) {
      p = path === '/' ? Promise.resolve([...this.layers]) : this.resolveDir(path);
      this.dirs.set(path, p);
    }
    return p;
  }

  private async resolveDir(path: string): Promise<string[]> {
    const out: string[] = [];
    for (const layer of await this.dirLayers(parentOf(path))) {
      const e = await lstatEntry(hostPath(layer, path));
      if (!e) continue;
      if (e.kind !== 'dir') break; // a whiteout or a file hides the lower layers
      out.push(layer);
      if (isOpaque(hostPath(layer, path))) break;
    }
    return out;
  }

  private async find(path: string): Promise<{ layer: string; entry: Entry } | undefined> {
    if (path === '/') {
      const layer = this.layers[0];
      if (!layer) return undefined;
      const entry = await lstatEntry(layer);
      return entry ? { layer, entry } : undefined;
    }
    for (const layer of await this.dirLayers(parentOf(path))) {
      const entry = await lstatEntry(hostPath(layer, path));
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
      const dir = hostPath(layer, path);
      for (const name of await readdirSorted(dir)) {
        if (seen.has(name)) continue;
        seen.set(name, !isWhiteout(await lstatEntry(`${dir}/${name}`)));
      }
    }
    return [...seen].filter(([, visible]) => visible).map(([n]) => n).sort();
  }

  async source(path: string): Promise<string | undefined> {
    const f = await this.find(path);
    return f ? hostPath(f.layer, path) : undefined;
  }
}

/** A view with nothing in it (the parent of a base image). */
export const EMPTY_VIEW: FsView = {
  async lstat() { return undefined; },
  async readdir() { return []; },
  async source() { return undefined; },
};
