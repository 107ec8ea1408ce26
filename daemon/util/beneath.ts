/**
 * Beneath: reading a tree that a container controls (its overlay upper dir, its full copy) as
 * root without ever leaving it, the way openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) would.
 * A container can swap any of its paths between a file, a directory and a symlink to a host
 * file at any moment, so a check by path (lstat) followed by a use by path (open, readdir,
 * link) may act on the host. Node has no openat, so every path is resolved from the trusted
 * root one component at a time, each opened as an O_PATH directory fd with O_NOFOLLOW through
 * `/proc/self/fd/<dirfd>/<name>` (the magic link resolves to exactly the directory the fd
 * holds, wherever it has moved); the last component is never followed either.
 *
 * Contract
 * - Paths are container paths: "/" or "/a/b" (a trailing "/" is ignored). Empty, "." and ".."
 *   components and NUL bytes are refused with SbxError invalid_argument: nothing here ever
 *   climbs out of the root.
 * - A path whose intermediate component is missing, not a directory, or a symlink (now) does
 *   not exist for these functions: lstat → undefined, readdir → [], open → undefined. They never
 *   act on what a symlink points to.
 * - open() returns what the last component is *now* (fstat of the opened fd), whatever an
 *   earlier lstat said: a file that became a symlink is a symlink, never its target. Only a
 *   regular file's bytes can be read (through the same inode), so a swapped-in FIFO or device
 *   is never opened for reading.
 * - xattrs are read with lgetxattr on the entry itself (@napi-rs/xattr does not follow).
 * - Nothing is cached: no fd outlives a call, so a view may be dropped without closing.
 * - The root itself is trusted (a directory sbxd made); only what is below it is not.
 */
import { closeSync, constants, fstatSync, openSync, type BigIntStats } from 'node:fs';
import { link, lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { getAttribute, listAttributes } from '@napi-rs/xattr';
import { SbxError } from '../../protocol/index.js';

/** O_PATH (Linux, asm-generic value: x86-64, arm64): Node does not export it. */
export const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const ENTRY_FLAGS = O_PATH | constants.O_NOFOLLOW;
/** Errors that mean "not there (any more) as a directory": the path does not exist for us. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

function gone(e: unknown): boolean {
  return GONE.has((e as NodeJS.ErrnoException).code ?? '');
}

/** The components of a container path; refuses anything that could climb or is not a name. */
export function components(path: string): string[] {
  if (path.includes('\0')) throw new SbxError('invalid_argument', `path ${JSON.stringify(path)}: contains a NUL byte`);
  const parts = path.split('/');
  if (parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..') {
      throw new SbxError('invalid_argument', `path ${JSON.stringify(path)}: "${p}" components are not allowed; give a clean absolute path`);
    }
  }
  return parts;
}

/** The magic path of an open fd, or of `name` inside the directory it holds. */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** An O_PATH fd on directory `name` inside directory fd `dirFd`, never through a symlink. */
export function openDirAt(dirFd: number, name: string): number {
  return openSync(fdPath(dirFd, name), DIR_FLAGS);
}

/** An entry opened without following it: its type and size now, and its bytes if a regular file. */
export interface Opened {
  stat: BigIntStats;
  /** A path naming exactly this inode (valid until close). */
  readonly path: string;
  /** A readable handle on the same inode; only for a regular file. The caller closes it. */
  reopen(): Promise<FileHandle>;
}

export class Beneath {
  constructor(readonly root: string) {}

  /**
   * Resolve the parent directory of `path` and call fn with a path naming the last component
   * that every caller uses without following it (lstat, readlink, lgetxattr, link, or an open
   * with O_NOFOLLOW); undefined when the parent is not reachable. The root is trusted, so a
   * top-level name is addressed from it directly; deeper ones go through O_PATH directory fds,
   * opened synchronously (microseconds each) and closed after fn settles.
   */
  private async atParent<T>(path: string, fn: (at: string, name: string) => Promise<T>): Promise<T | undefined> {
    const parts = components(path);
    if (parts.length === 0) return fn(this.root, '');
    const name = parts.pop()!;
    if (parts.length === 0) return fn(`${this.root}/${name}`, name);
    const fds: number[] = [];
    try {
      let fd: number;
      try {
        fd = openSync(`${this.root}/${parts[0]}`, DIR_FLAGS);
        fds.push(fd);
        for (const p of parts.slice(1)) { fd = openDirAt(fd, p); fds.push(fd); }
      } catch (e) {
        if (gone(e)) return undefined;
        throw e;
      }
      return await fn(fdPath(fd, name), name);
    } finally {
      for (const f of fds) closeSync(f);
    }
  }

  /** lstat without following anything. */
  async lstat(path: string): Promise<BigIntStats | undefined> {
    try {
      return await this.atParent(path, (at) => lstat(at, { bigint: true }));
    } catch (e) {
      if (gone(e)) return undefined;
      throw e;
    }
  }

  /** The names in directory `path`, unsorted; [] when it is missing or not a directory (now). */
  async readdir(path: string): Promise<string[]> {
    try {
      return await this.atParent(path, async (at, name) => {
        if (name === '') return readdir(at);
        const fd = openSync(at, DIR_FLAGS);
        try { return await readdir(fdPath(fd)); } finally { closeSync(fd); }
      }) ?? [];
    } catch (e) {
      if (gone(e)) return [];
      throw e;
    }
  }

  /** A symlink's target; undefined when `path` is not a symlink (now). */
  async readlink(path: string): Promise<string | undefined> {
    try {
      return await this.atParent(path, (at) => readlink(at));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (gone(e) || code === 'EINVAL') return undefined;
      throw e;
    }
  }

  /** The entry's xattr names (its own, never a symlink target's); [] where none can be read. */
  async listXattrs(path: string): Promise<string[]> {
    return (await this.atParent(path, (at) => listAttributes(at)).catch(() => undefined)) ?? [];
  }

  async getXattr(path: string, name: string): Promise<Buffer | null> {
    return (await this.atParent(path, (at) => getAttribute(at, name)).catch(() => undefined)) ?? null;
  }

  /** Open the entry itself (never followed) for fn; undefined when it is not there. */
  async open<T>(path: string, fn: (e: Opened) => Promise<T>): Promise<T | undefined> {
    let fd: number;
    const r = await this.atParent(path, async (at) => {
      try {
        fd = openSync(at, ENTRY_FLAGS);
      } catch (e) {
        if (gone(e)) return { missing: true as const };
        throw e;
      }
      const st = fstatSync(fd, { bigint: true });
      const opened: Opened = {
        stat: st,
        path: fdPath(fd),
        async reopen() {
          if (!st.isFile()) throw new SbxError('failed_precondition', `read ${path}: not a regular file`);
          return open(fdPath(fd), constants.O_RDONLY);
        },
      };
      try { return { value: await fn(opened) }; } finally { closeSync(fd); }
    });
    return r && 'value' in r ? r.value : undefined;
  }

  /** Hard-link the entry at `path` (itself, never a symlink's target) to host path `dst`. */
  async link(path: string, dst: string): Promise<void> {
    const done = await this.atParent(path, async (at) => { await link(at, dst); return true; });
    if (!done) throw Object.assign(new Error(`link ${path}: no such file or directory`), { code: 'ENOENT' });
  }
}
