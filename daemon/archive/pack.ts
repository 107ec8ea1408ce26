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
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Stats } from 'node:fs';
import { getAttribute, listAttributes } from '@napi-rs/xattr';
import tar, { type Pack } from 'tar-stream';
import { SbxError, MediaType, type Descriptor, type Digest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';

export interface PackOptions {
  /** Clamp every mtime to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /** Rootfs path ("/a/b") → true to leave it (and, for a directory, everything under it) out. */
  exclude?: (path: string) => boolean;
  /** Convert overlayfs upperdir whiteouts and opaque directories into OCI whiteout entries. */
  whiteouts?: 'overlay';
  signal?: AbortSignal;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

const KEEP_XATTR = (name: string): boolean => name === 'security.capability' || (name.startsWith('user.') && !name.startsWith('user.overlay.'));

export function packTree(root: string, opts: PackOptions = {}): Readable {
  const pack = tar.pack();
  installBinaryPax(pack);
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

interface Header {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo' | 'pax-header';
  mode?: number; uid?: number; gid?: number; size?: number; mtime?: Date;
  linkname?: string | null; devmajor?: number; devminor?: number;
  pax?: Record<string, string>;
  /** Kept xattrs, written as PAX records by installBinaryPax. */
  xattrs?: [string, Buffer][];
}

async function fill(pack: Pack, root: string, opts: PackOptions): Promise<void> {
  const links = new Map<string, string>();
  const clamp = (st: Stats): Date => {
    let s = Math.floor(st.mtimeMs / 1000);
    if (opts.sourceDateEpoch !== undefined && s > opts.sourceDateEpoch) s = opts.sourceDateEpoch;
    return new Date(Math.max(0, s) * 1000);
  };

  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      throw new SbxError('internal', `pack: read directory ${dir}: ${(e as Error).message}`, { cause: e });
    }
    // Stat first so that entries sort by the names they get in the tar (".wh.x" sorts with them).
    const items: { name: string; out: string; st: Stats }[] = [];
    for (const name of names) {
      opts.signal?.throwIfAborted();
      const path = rel ? `${rel}/${name}` : name;
      if (opts.exclude?.(`/${path}`)) continue;
      let st: Stats;
      try { st = await lstat(join(dir, name)); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // vanished while walking
        throw new SbxError('internal', `pack: stat ${join(dir, name)}: ${(e as Error).message}`, { cause: e });
      }
      const whiteout = opts.whiteouts === 'overlay' && st.isCharacterDevice() && st.rdev === 0;
      items.push({ name, out: whiteout ? `${WHITEOUT_PREFIX}${name}` : name, st });
    }
    items.sort((a, b) => Buffer.compare(Buffer.from(a.out), Buffer.from(b.out)));
    for (const { name, st } of items) {
      opts.signal?.throwIfAborted();
      const abs = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: clamp(st) };
      if (st.isSocket()) continue;
      if (opts.whiteouts === 'overlay' && st.isCharacterDevice() && st.rdev === 0) {
        const wh = rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
        await add(pack, { ...base, name: wh, type: 'file', mode: 0o600, size: 0, mtime: new Date(0) });
        continue;
      }
      if (st.isDirectory()) {
        const xattrs = await readXattrs(abs);
        await add(pack, { ...base, name: `${path}/`, type: 'directory', xattrs: xattrs.kept });
        if (opts.whiteouts === 'overlay' && xattrs.opaque) {
          await add(pack, { uid: st.uid, gid: st.gid, mode: 0o600, mtime: new Date(0), name: `${path}/${OPAQUE_WHITEOUT}`, type: 'file', size: 0 });
        }
        await walk(abs, path);
        continue;
      }
      if (st.isSymbolicLink()) {
        await add(pack, { ...base, name: path, type: 'symlink', linkname: await readlink(abs) });
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          await add(pack, { ...base, name: path, type: 'link', linkname: first, size: 0 });
          continue;
        }
        links.set(key, path);
      }
      const xattrs = (await readXattrs(abs)).kept;
      if (st.isFile()) {
        await addFile(pack, { ...base, name: path, type: 'file', size: st.size, xattrs }, abs);
      } else if (st.isFIFO()) {
        await add(pack, { ...base, name: path, type: 'fifo', xattrs });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await add(pack, {
          ...base, name: path, type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: major(st.rdev), devminor: minor(st.rdev), xattrs,
        });
      }
    }
  };

  let st: Stats;
  try { st = await lstat(root); } catch (e) {
    throw new SbxError('not_found', `pack ${root}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) throw new SbxError('invalid_argument', `pack ${root}: not a directory`);
  await walk(root, '');
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

function add(pack: Pack, h: Header): Promise<void> {
  preparePax(h);
  const cb = (resolve: () => void, reject: (e: Error) => void) => (err?: Error | null): void => (err ? reject(err) : resolve());
  // A regular file without a body (a whiteout) still needs its (empty) body, or tar-stream waits for one.
  return new Promise((resolve, reject) => {
    if (h.type === 'file') pack.entry(h as Parameters<Pack['entry']>[0], Buffer.alloc(0), cb(resolve, reject));
    else pack.entry(h as Parameters<Pack['entry']>[0], cb(resolve, reject));
  });
}

async function addFile(pack: Pack, h: Header, abs: string): Promise<void> {
  preparePax(h);
  let done!: Promise<void>;
  const sink = (() => {
    let s!: ReturnType<Pack['entry']>;
    done = new Promise((resolve, reject) => { s = pack.entry(h as Parameters<Pack['entry']>[0], (err) => (err ? reject(err) : resolve())); });
    return s;
  })();
  const size = h.size ?? 0;
  let seen = 0;
  try {
    if (size > 0) {
      for await (const chunk of createReadStream(abs, { start: 0, end: size - 1 }) as AsyncIterable<Buffer>) {
        seen += chunk.length;
        if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
    }
    if (seen !== size) throw new SbxError('conflict', `pack: ${abs} changed size while being read (${seen} of ${size} bytes)`);
  } catch (e) {
    sink.destroy(e as Error);
    await done.catch(() => {});
    throw e instanceof SbxError ? e : new SbxError('internal', `pack: read ${abs}: ${(e as Error).message}`, { cause: e });
  }
  (sink as unknown as { end(): void }).end();
  await done;
}

// --- PAX ---------------------------------------------------------------------------------------
// tar-stream writes PAX records as UTF-8 strings, which would mangle binary xattr values such as
// security.capability. We keep tar-stream's framing and replace only how a PAX record set is
// built: from Buffers, with the same length-prefixed "LEN key=value\n" records Go writes.

const USTAR_ID_MAX = 0o777777;

function fitsUstar(s: string, max: number): boolean {
  return /^[\x20-\x7e]*$/.test(s) && s.length <= max;
}

function preparePax(h: Header): void {
  const needs = !fitsUstar(h.name, 100) || (h.linkname != null && !fitsUstar(h.linkname, 100))
    || (h.xattrs?.length ?? 0) > 0 || (h.uid ?? 0) > USTAR_ID_MAX || (h.gid ?? 0) > USTAR_ID_MAX;
  if (needs) h.pax = {};
}

function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustarSafe(s: string, max: number): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

type TsHeaders = { encode(h: Header): Buffer | null };
let tsHeaders: TsHeaders | undefined;
function headersModule(): TsHeaders {
  if (!tsHeaders) {
    const require = createRequire(import.meta.url);
    tsHeaders = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as TsHeaders;
  }
  return tsHeaders;
}

function installBinaryPax(pack: Pack): void {
  const p = pack as unknown as { _encodePax(h: Header): void; push(b: Buffer): boolean };
  p._encodePax = function encodePax(this: typeof p, h: Header): void {
    const enc = headersModule();
    const records: Buffer[] = [];
    const dirSlash = h.type === 'directory' && !h.name.endsWith('/') ? '/' : '';
    if (!fitsUstar(h.name + dirSlash, 100)) records.push(record('path', Buffer.from(h.name + dirSlash)));
    if (h.linkname != null && !fitsUstar(h.linkname, 100)) records.push(record('linkpath', Buffer.from(h.linkname)));
    if ((h.uid ?? 0) > USTAR_ID_MAX) records.push(record('uid', Buffer.from(String(h.uid))));
    if ((h.gid ?? 0) > USTAR_ID_MAX) records.push(record('gid', Buffer.from(String(h.gid))));
    for (const [k, v] of h.xattrs ?? []) records.push(record(`SCHILY.xattr.${k}`, v));
    const data = Buffer.concat(records);
    const shortName = ustarSafe(h.name, 99);
    const paxHeader = enc.encode({
      name: ustarSafe(`PaxHeaders.0/${shortName.split('/').filter(Boolean).pop() ?? 'x'}`, 100),
      mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: h.mtime ?? new Date(0), type: 'pax-header',
    });
    const main = enc.encode({
      ...h, name: shortName,
      linkname: h.linkname == null ? h.linkname : ustarSafe(h.linkname, 100),
      uid: Math.min(h.uid ?? 0, USTAR_ID_MAX), gid: Math.min(h.gid ?? 0, USTAR_ID_MAX),
    });
    if (!paxHeader || !main) throw new SbxError('internal', `pack: cannot encode header for ${h.name}`);
    this.push(paxHeader);
    this.push(data);
    const pad = data.length % 512;
    if (pad) this.push(Buffer.alloc(512 - pad));
    this.push(main);
  };
}

function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}
