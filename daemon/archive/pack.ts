/**
 * packTree: a directory tree → a deterministic tar stream (an OCI layer, uncompressed).
 *
 * Contract
 * - Entries come in walk order with the names of each directory sorted bytewise, so a parent
 *   always precedes its children and the same tree always gives the same bytes (and digest).
 *   Names are relative to `root` without "./" ("etc/", "etc/passwd"); the root itself is not an
 *   entry. Directories end with "/".
 * - Headers: mode (incl. setuid/setgid/sticky), numeric uid/gid (no uname/gname), mtime in whole
 *   seconds clamped to `sourceDateEpoch` when given; no atime/ctime. PAX records carry long or
 *   non-ASCII names and link targets, large ids and the xattrs kept (security.capability and
 *   user.*), as Go's archive/tar writes them ("SCHILY.xattr.<name>"), binary-safe.
 * - Hard links: the first path of an inode (same dev+ino) is a regular file entry; later ones are
 *   link entries naming it. Symlinks keep their target verbatim. Sockets are skipped; fifos and
 *   devices are kept.
 * - `exclude(path)` sees rootfs paths ("/etc/motd", "/tmp"); true drops the entry, and for a
 *   directory its whole subtree.
 * - `whiteouts: 'overlay'` reads `root` as an overlayfs upperdir: a char device 0/0 becomes an
 *   empty regular file ".wh.NAME" (mode 0600, mtime 0), and a directory whose
 *   trusted.overlay.opaque (or user.overlay.opaque) xattr is "y" is followed by a
 *   "DIR/.wh..wh..opq" entry before its other children; overlay's own xattrs are never copied.
 * - The stream fails (and stops) on any file system error, naming the path; a regular file whose
 *   size changes while it is read fails the stream too.
 */
import { closeSync, constants, fstatSync, openSync, type Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Stats } from 'node:fs';
import { getAttribute, listAttributes } from '@napi-rs/xattr';
import type { Pack } from 'tar-stream';
import { SbxError, MediaType, type Descriptor, type Digest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { O_PATH, fdPath } from '../util/beneath.js';
import { preparePax, type Header } from './pax.js';
import { binaryPaxPack } from './tar-stream-patches.js';

export interface PackOptions {
  /** Clamp every mtime to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /** Rootfs path ("/a/b") → true to leave it (and, for a directory, everything under it) out. */
  exclude?: (path: string) => boolean;
  /** Convert overlayfs upperdir whiteouts and opaque directories into OCI whiteout entries. */
  whiteouts?: 'overlay';
  signal?: AbortSignal;
  /** Rename the top component of entry names (and hard-link targets): `from`, `from/...` → `to`, `to/...`. */
  rebase?: { from: string; to: string };
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

const KEEP_XATTR = (name: string): boolean => name === 'security.capability' || (name.startsWith('user.') && !name.startsWith('user.overlay.'));

export function packTree(root: string, opts: PackOptions = {}): Readable {
  const pack = binaryPaxPack();
  const out = Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
  fill(pack, root, opts).then(() => pack.finalize(), (e: unknown) => {
    const err = e instanceof SbxError ? e : SbxError.wrap(e, `pack ${root}`);
    out.destroy(err);
    pack.destroy(err);
  });
  return out;
}

/**
 * Pack `root` straight into the content store as an uncompressed OCI layer. The layer's digest is
 * its diffID (sha256 of the tar), computed while writing.
 */
export async function packToStore(content: ContentStore, root: string, opts: PackOptions = {}): Promise<{ descriptor: Descriptor; diffId: Digest }> {
  const info = await content.write(packTree(root, opts), {}, opts.signal);
  return { descriptor: { mediaType: MediaType.ociLayer, digest: info.digest, size: info.size }, diffId: info.digest };
}

// ---------------------------------------------------------------------------------------------


async function fill(pack: Pack, root: string, opts: PackOptions): Promise<void> {
  const rb = opts.rebase;
  const rename = (n: string): string => (rb && (n === rb.from || n.startsWith(`${rb.from}/`)) ? rb.to + n.slice(rb.from.length) : n);
  const named = (h: Header): Header => (rb ? { ...h, name: rename(h.name), ...(h.type === 'link' && h.linkname ? { linkname: rename(h.linkname) } : {}) } : h);
  const add = (p: Pack, h: Header): Promise<void> => addEntry(p, named(h));
  const addFile = (p: Pack, h: Header, fd: number, shown: string): Promise<void> => addFileEntry(p, named(h), fd, shown);
  const links = new Map<string, string>();
  const clamp = (st: Stats): Date => {
    let s = Math.floor(st.mtimeMs / 1000);
    if (opts.sourceDateEpoch !== undefined && s > opts.sourceDateEpoch) s = opts.sourceDateEpoch;
    return new Date(Math.max(0, s) * 1000);
  };

  // Beneath the root only (util/beneath.ts): each directory is held by an O_PATH fd and every
  // child is reached through it without following symlinks, and an entry is packed as what its
  // opened inode is now, not what an earlier lstat said. A container that swaps a path for a
  // symlink to a host file while it is packed (commit --pause=false) gets the symlink packed.
  const walk = async (dirFd: number, rel: string): Promise<void> => {
    let names: Dirent[];
    try {
      names = await readdir(fdPath(dirFd), { withFileTypes: true });
    } catch (e) {
      if (rel && isGone(e)) return; // replaced while walking
      throw new SbxError('internal', `pack: read directory ${join(root, rel)}: ${(e as Error).message}`, { cause: e });
    }
    // Sort by the names entries get in the tar (".wh.x" sorts with them); the directory's types
    // say which names need an lstat to tell (only char devices can be whiteouts).
    const items: { name: string; out: string }[] = [];
    for (const d of names) {
      opts.signal?.throwIfAborted();
      const name = d.name;
      const path = rel ? `${rel}/${name}` : name;
      if (opts.exclude?.(`/${path}`)) continue;
      let whiteout = false;
      if (opts.whiteouts === 'overlay' && (d.isCharacterDevice() || !knownType(d))) {
        try { whiteout = isWhiteout(await lstat(fdPath(dirFd, name))); } catch (e) {
          if (isGone(e)) continue; // vanished while walking
          throw new SbxError('internal', `pack: stat ${join(root, path)}: ${(e as Error).message}`, { cause: e });
        }
      }
      items.push({ name, out: whiteout ? `${WHITEOUT_PREFIX}${name}` : name });
    }
    items.sort((a, b) => Buffer.compare(Buffer.from(a.out), Buffer.from(b.out)));
    for (const { name } of items) {
      opts.signal?.throwIfAborted();
      let fd: number;
      try { fd = openSync(fdPath(dirFd, name), O_PATH | constants.O_NOFOLLOW); } catch (e) {
        if (isGone(e)) continue;
        throw new SbxError('internal', `pack: open ${join(root, rel, name)}: ${(e as Error).message}`, { cause: e });
      }
      try {
        await entry(dirFd, fd, fstatSync(fd), name, rel);
      } finally {
        closeSync(fd);
      }
    }
  };

  const isWhiteout = (st: Stats): boolean => opts.whiteouts === 'overlay' && st.isCharacterDevice() && st.rdev === 0;

  /** Pack one entry: `fd` is an O_PATH fd on it, `st` its fstat. */
  const entry = async (dirFd: number, fd: number, st: Stats, name: string, rel: string): Promise<void> => {
    const at = fdPath(dirFd, name); // for lgetxattr/readlink, which never follow the last component
    const path = rel ? `${rel}/${name}` : name;
    const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: clamp(st) };
    if (st.isSocket()) return;
    if (isWhiteout(st)) {
      const wh = rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
      await add(pack, { ...base, name: wh, type: 'file', mode: 0o600, size: 0, mtime: new Date(0) });
      return;
    }
    if (st.isDirectory()) {
      const xattrs = await readXattrs(at);
      await add(pack, { ...base, name: `${path}/`, type: 'directory', xattrs: xattrs.kept });
      if (opts.whiteouts === 'overlay' && xattrs.opaque) {
        await add(pack, { uid: st.uid, gid: st.gid, mode: 0o600, mtime: new Date(0), name: `${path}/${OPAQUE_WHITEOUT}`, type: 'file', size: 0 });
      }
      await walk(fd, path);
      return;
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try { target = await readlink(at); } catch (e) {
        if (isGone(e) || (e as NodeJS.ErrnoException).code === 'EINVAL') return; // swapped again: not a symlink now
        throw e;
      }
      await add(pack, { ...base, name: path, type: 'symlink', linkname: target });
      return;
    }
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        await add(pack, { ...base, name: path, type: 'link', linkname: first, size: 0 });
        return;
      }
      links.set(key, path);
    }
    const xattrs = (await readXattrs(at)).kept;
    if (st.isFile()) {
      await addFile(pack, { ...base, name: path, type: 'file', size: st.size, xattrs }, fd, join(root, path));
    } else if (st.isFIFO()) {
      await add(pack, { ...base, name: path, type: 'fifo', xattrs });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await add(pack, {
        ...base, name: path, type: st.isCharacterDevice() ? 'character-device' : 'block-device',
        devmajor: major(st.rdev), devminor: minor(st.rdev), xattrs,
      });
    }
  };

  let rootFd: number;
  try { rootFd = openSync(root, O_PATH | constants.O_DIRECTORY); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new SbxError('invalid_argument', `pack ${root}: not a directory`);
    throw new SbxError('not_found', `pack ${root}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await walk(rootFd, '');
  } finally {
    closeSync(rootFd);
  }
}

function knownType(d: Dirent): boolean {
  return d.isFile() || d.isDirectory() || d.isSymbolicLink() || d.isCharacterDevice() || d.isBlockDevice() || d.isFIFO() || d.isSocket();
}

function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

async function readXattrs(path: string): Promise<{ kept: [string, Buffer][]; opaque: boolean }> {
  let names: string[];
  try { names = await listAttributes(path); } catch { return { kept: [], opaque: false }; }
  const kept: [string, Buffer][] = [];
  let opaque = false;
  for (const name of names.sort()) {
    if (name === 'trusted.overlay.opaque' || name === 'user.overlay.opaque') {
      const v = await getAttribute(path, name).catch(() => null);
      if (v && v.toString() === 'y') opaque = true;
      continue;
    }
    if (!KEEP_XATTR(name)) continue;
    const v = await getAttribute(path, name).catch(() => null);
    if (v) kept.push([name, v]);
  }
  return { kept, opaque };
}

function addEntry(pack: Pack, h: Header): Promise<void> {
  preparePax(h);
  const cb = (resolve: () => void, reject: (e: Error) => void) => (err?: Error | null): void => (err ? reject(err) : resolve());
  // A regular file without a body (a whiteout) still needs its (empty) body, or tar-stream waits for one.
  return new Promise((resolve, reject) => {
    if (h.type === 'file') pack.entry(h as Parameters<Pack['entry']>[0], Buffer.alloc(0), cb(resolve, reject));
    else pack.entry(h as Parameters<Pack['entry']>[0], cb(resolve, reject));
  });
}

const SMALL_FILE = 256 * 1024;

/** Add a regular file whose bytes come from O_PATH fd `fd` (reopened: the same inode). */
async function addFileEntry(pack: Pack, h: Header, fd: number, shown: string): Promise<void> {
  preparePax(h);
  const made: { sink?: ReturnType<Pack['entry']> } = {};
  // pack.entry throws at once on a pack the reader already destroyed: the executor turns that into
  // a rejection of `done`, which is then the answer (the reader left).
  const done = new Promise<void>((resolve, reject) => { made.sink = pack.entry(h as Parameters<Pack['entry']>[0], (err) => (err ? reject(err) : resolve())); });
  // Its error is reported through `done`; unheard, a destroyed sink's 'error' would crash sbxd,
  // and so would `done` rejecting while we wait for a drain that never comes (the reader left).
  done.catch(() => undefined);
  const sink = made.sink;
  if (!sink) return done;
  sink.on('error', () => {});
  const size = h.size ?? 0;
  let seen = 0;
  try {
    if (size > 0 && size <= SMALL_FILE) {
      // Most files of a layer: one read, no stream machinery.
      const fh = await open(fdPath(fd), constants.O_RDONLY);
      try {
        const buf = Buffer.allocUnsafe(size);
        while (seen < size) {
          const { bytesRead } = await fh.read(buf, seen, size - seen, seen);
          if (bytesRead === 0) break;
          seen += bytesRead;
        }
        sink.write(seen === size ? buf : buf.subarray(0, seen));
      } finally {
        await fh.close();
      }
    } else if (size > 0) {
      const fh = await open(fdPath(fd), constants.O_RDONLY);
      for await (const chunk of fh.createReadStream({ start: 0, end: size - 1 }) as AsyncIterable<Buffer>) {
        seen += chunk.length;
        if (!sink.write(chunk)) {
          if (sink.destroyed) break;
          await new Promise<void>((r) => {
            const go = (): void => { sink.off('drain', go); sink.off('close', go); r(); };
            sink.on('drain', go);
            sink.on('close', go);
          });
        }
      }
    }
    if (seen !== size) throw new SbxError('conflict', `pack: ${shown} changed size while being read (${seen} of ${size} bytes)`);
  } catch (e) {
    sink.destroy(e as Error);
    await done.catch(() => {});
    throw e instanceof SbxError ? e : new SbxError('internal', `pack: read ${shown}: ${(e as Error).message}`, { cause: e });
  }
  (sink as unknown as { end(): void }).end();
  await done;
}

function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}
