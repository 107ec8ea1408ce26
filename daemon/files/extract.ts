/**
 * extractBeneath: a tar from a client (`sbx cp SRC c:DEST`, docker's PUT archive) extracted into a
 * directory of a container's tree held as an O_PATH fd, as docker's archive.Untar does for
 * `docker cp`, without ever following a link the container (or the tar) planted:
 * - names are relative to the directory ("./" and leading "/" dropped); ".." is refused;
 * - every parent is walked from the directory's fd one O_NOFOLLOW component at a time (missing
 *   ones are made 0755); a parent that is a symlink is refused, so an entry "x/y" after a link "x"
 *   writes nothing through it;
 * - files are created O_EXCL|O_NOFOLLOW after the old entry is unlinked; a directory never
 *   replaces a non-directory, nor the reverse, with `noOverwriteDirNonDir` (docker cp sets it);
 * - owners are root's (0:0) unless `copyUidGid` (`sbx cp -a`), modes and mtimes are the tar's;
 *   hard links resolve beneath the directory too; xattrs are not copied (docker cp's default).
 * Errors: invalid_argument (a malformed or unsafe entry), failed_precondition (a type conflict),
 * internal (the file system failed). A failure leaves what was extracted so far, as docker's does.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, type Stats } from 'node:fs';
import { lchown, link, lutimes, mkdir, open, rm, symlink, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { SbxError } from '../../protocol/index.js';
import { extractor } from '../archive/tar-stream-patches.js';
import { fdPath, openDirAt } from '../util/beneath.js';

const pexec = promisify(execFile);

export interface ExtractOptions {
  copyUidGid?: boolean;
  noOverwriteDirNonDir?: boolean;
  signal?: AbortSignal;
  /** Container path of the directory, for messages. */
  shown: string;
}

interface Header {
  name: string; type?: string | null; mode?: number | null; uid?: number | null; gid?: number | null;
  mtime?: Date | null; linkname?: string | null; devmajor?: number | null; devminor?: number | null;
}

export async function extractBeneath(dirFd: number, tar: Readable, o: ExtractOptions): Promise<number> {
  const ex = extractor();
  const feeding = pipeline(tar, ex as unknown as NodeJS.WritableStream, o.signal ? { signal: o.signal } : {});
  let feedError: unknown;
  feeding.catch((e: unknown) => { feedError ??= e; });
  let entries = 0;
  try {
    for await (const entry of ex) {
      entries++;
      await one(dirFd, entry.header as Header, entry as unknown as AsyncIterable<Buffer>, o);
    }
    await feeding;
  } catch (e) {
    ex.destroy();
    await feeding.catch(() => undefined);
    const err = e instanceof SbxError || feedError === undefined ? e : feedError;
    if (err instanceof SbxError) throw err;
    throw new SbxError('invalid_argument', `extract into ${o.shown}: ${(err as Error).message}`, { cause: err });
  }
  return entries;
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) { /* skip */ }
}

function parts(name: string): string[] {
  const ps = name.split('/').filter((p) => p !== '' && p !== '.');
  if (ps.includes('..')) throw new SbxError('invalid_argument', `archive entry ${JSON.stringify(name)}: ".." is not allowed`);
  if (name.includes('\0')) throw new SbxError('invalid_argument', 'archive entry: a name with a NUL byte');
  return ps;
}

/** Walk (and make) the parents of `ps` from `dirFd`; the fds opened, the last one the parent. */
async function parents(dirFd: number, ps: string[], shown: string, make: boolean): Promise<number[]> {
  const fds: number[] = [];
  try {
    for (const p of ps) {
      const at = fds[fds.length - 1] ?? dirFd;
      let st: Stats | undefined;
      try { st = lstatSync(fdPath(at, p)); } catch { st = undefined; }
      if (!st) {
        if (!make) throw new SbxError('invalid_argument', `archive: ${shown}: no such directory ${p}`);
        await mkdir(fdPath(at, p), 0o755);
      } else if (!st.isDirectory()) {
        throw new SbxError('failed_precondition', `extract into ${shown}: ${p} is not a directory (a symlink is never followed)`);
      }
      fds.push(openDirAt(at, p));
    }
    return fds;
  } catch (e) {
    for (const f of fds) closeSync(f);
    throw e;
  }
}

async function one(dirFd: number, h: Header, body: AsyncIterable<Buffer>, o: ExtractOptions): Promise<void> {
  o.signal?.throwIfAborted();
  const ps = parts(h.name);
  if (ps.length === 0) { await drain(body); return; } // the "./" entry: the directory itself
  const name = ps.pop()!;
  const shownPath = `${o.shown.replace(/\/$/, '')}/${[...ps, name].join('/')}`;
  const fds = await parents(dirFd, ps, o.shown, true);
  const at = fds[fds.length - 1] ?? dirFd;
  const target = fdPath(at, name);
  const uid = o.copyUidGid ? h.uid ?? 0 : 0;
  const gid = o.copyUidGid ? h.gid ?? 0 : 0;
  const mode = (h.mode ?? 0o644) & 0o7777;
  const mtime = h.mtime ?? new Date();
  try {
    let old: Stats | undefined;
    try { old = lstatSync(target); } catch { old = undefined; }
    const isDir = h.type === 'directory';
    if (old && old.isDirectory() !== isDir) {
      if (o.noOverwriteDirNonDir) {
        throw new SbxError('failed_precondition', old.isDirectory()
          ? `cannot overwrite directory "${shownPath}" with non-directory "${h.name}"`
          : `cannot overwrite non-directory "${shownPath}" with directory "${h.name}"`);
      }
      await rm(target, { recursive: true, force: true });
      old = undefined;
    } else if (old && !isDir) {
      await unlink(target);
    }
    switch (h.type) {
      case 'directory': {
        if (!old) await mkdir(target, mode);
        const fd = openSync(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
        try { setMeta(fd, uid, gid, mode, mtime); } finally { closeSync(fd); }
        await drain(body);
        return;
      }
      case 'file': case 'contiguous-file': case undefined: case null: {
        const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) await fh.write(chunk);
          setMeta(fh.fd, uid, gid, mode, mtime);
        } finally {
          await fh.close();
        }
        return;
      }
      case 'symlink':
        await drain(body);
        await symlink(h.linkname ?? '', target);
        await lchown(target, uid, gid);
        await lutimes(target, mtime, mtime);
        return;
      case 'link': {
        await drain(body);
        const lp = parts(h.linkname ?? '');
        const lname = lp.pop();
        if (!lname) throw new SbxError('invalid_argument', `archive entry ${h.name}: hard link without a target`);
        const lfds = await parents(dirFd, lp, o.shown, false);
        try { await link(fdPath(lfds[lfds.length - 1] ?? dirFd, lname), target); } finally { for (const f of lfds) closeSync(f); }
        return;
      }
      case 'character-device': case 'block-device': case 'fifo': {
        await drain(body);
        const kind = h.type === 'fifo' ? ['p'] : [h.type === 'block-device' ? 'b' : 'c', String(h.devmajor ?? 0), String(h.devminor ?? 0)];
        // mknod(8) runs in a child: it reaches our directory fd through our /proc entry.
        await pexec('mknod', ['-m', (mode & 0o777).toString(8), `/proc/${process.pid}/fd/${at}/${name}`, ...kind]);
        await lchown(target, uid, gid);
        return;
      }
      default:
        await drain(body); // pax/gnu extension headers are consumed by tar-stream; anything else is skipped
    }
  } catch (e) {
    if (e instanceof SbxError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EROFS') throw new SbxError('failed_precondition', `extract ${shownPath}: read-only file system`, { cause: e });
    throw new SbxError('internal', `extract ${shownPath}: ${err.message}`, { cause: e });
  } finally {
    for (const f of fds) closeSync(f);
  }
}

/** Owner first: chown clears setuid/setgid, so the mode comes after it. */
function setMeta(fd: number, uid: number, gid: number, mode: number, mtime: Date): void {
  fchownSync(fd, uid, gid);
  fchmodSync(fd, mode);
  futimesSync(fd, mtime, mtime);
}
