/**
 * Applier: writes one layer's tar entries onto a directory (applyLayer feeds it), safely.
 *
 * - No entry can write outside the root: absolute names and `..` components are refused, parents are
 *   walked component by component with lstat (a symlink as a parent is refused, so a link the
 *   layer planted is never followed), files are created with O_EXCL|O_NOFOLLOW after the old
 *   entry is unlinked, hard-link targets resolve the same way and must already exist inside.
 * - Whiteouts (`.wh.NAME`, `.wh..wh..opq`) hide lower-layer entries only, never the layer's own:
 *   'overlay' writes them as overlayfs does (0/0 char device, trusted.overlay.opaque=y) into an
 *   upper directory; 'remove' deletes the hidden entries from a complete tree (native snapshotter).
 * - Directory modes and times are set last (finish), after their children are written.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { setAttribute } from '@napi-rs/xattr';
import type tar from 'tar-stream';
import { SbxError } from '../../protocol/index.js';
import { isWhiteout, lowerEntry, lstatOrNull } from './lowers.js';
import { xattrsOf } from './pax.js';

const pexec = promisify(execFile);
const IS_ROOT = process.getuid?.() === 0;

/** Clean a tar path to a root-relative one. @throws invalid_argument on absolute paths and `..`. */
export function cleanPath(name: string, what = 'layer entry'): string {
  if (name.includes('\0')) throw new SbxError('invalid_argument', `${what} ${JSON.stringify(name)}: contains a NUL byte`);
  if (name.startsWith('/')) throw new SbxError('invalid_argument', `${what} ${JSON.stringify(name)}: absolute paths are not allowed`);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new SbxError('invalid_argument', `${what} ${JSON.stringify(name)}: ".." escapes the layer root`);
  return parts.join('/');
}

interface DirMeta { path: string; mode: number; mtime: Date }

export class Applier {
  /** Paths this layer wrote: whiteouts never hide them. */
  private readonly touched = new Set<string>();
  /** Directories (relative) already verified to be real directories, not links. */
  private readonly safe = new Set<string>(['']);
  private readonly dirs: DirMeta[] = [];

  constructor(private readonly root: string, private readonly mode: 'overlay' | 'remove', private readonly lowers: string[], private readonly keepRoot = false) {}

  async entry(h: tar.Header, data: AsyncIterable<Buffer>): Promise<void> {
    const rel = cleanPath(h.name);
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    const parentRel = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    if (base.startsWith('.wh.')) {
      await drain(data);
      return this.whiteout(h.name, parentRel, base.slice(4));
    }
    if (rel === '') {
      await drain(data);
      if (h.type !== 'directory') throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(h.name)}: the root must be a directory`);
      if (this.keepRoot) return;
      this.dirs.push({ path: this.root, mode: h.mode ?? 0o755, mtime: h.mtime ?? new Date(0) });
      await this.owner(this.root, h);
      return;
    }
    const parent = await this.parent(h.name, parentRel, true);
    const target = join(parent!, base);
    const existing = await lstatOrNull(target);
    const keepDir = existing?.isDirectory() === true && h.type === 'directory';
    if (existing && !keepDir) {
      await rm(target, { recursive: true, force: true });
      this.forget(rel);
    }
    this.touched.add(rel);
    switch (h.type) {
      case 'file':
      case 'contiguous-file': {
        const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of data) {
            for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          }
        } finally {
          await fh.close();
        }
        return this.finish1(target, h);
      }
      case 'directory':
        await drain(data);
        if (!keepDir) await mkdir(target, { mode: 0o700 });
        // Re-created over this layer's own whiteout: the lower directory's entries stay hidden.
        if (existing && isWhiteout(existing) && this.mode === 'overlay') await setAttribute(target, 'trusted.overlay.opaque', 'y');
        this.safe.add(rel);
        await this.owner(target, h);
        await this.xattrs(target, h);
        this.dirs.push({ path: target, mode: h.mode ?? 0o755, mtime: h.mtime ?? new Date(0) });
        return;
      case 'symlink':
        await drain(data);
        if (!h.linkname || h.linkname.includes('\0')) throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(h.name)}: bad symlink target`);
        await symlink(h.linkname, target);
        await this.owner(target, h);
        await lutimes(target, h.mtime ?? new Date(0), h.mtime ?? new Date(0));
        return;
      case 'link': {
        await drain(data);
        const lrel = cleanPath(h.linkname ?? '', `hard link ${JSON.stringify(h.name)} to`);
        const lparent = lrel === '' ? undefined : await this.parent(h.name, dirname(lrel) === '.' ? '' : dirname(lrel), false);
        const source = lparent === undefined ? undefined : join(lparent, lrel.slice(lrel.lastIndexOf('/') + 1));
        let st = source === undefined ? null : await lstatOrNull(source);
        if (st && isWhiteout(st)) st = null;
        if (!st && lrel !== '' && this.lowers.length > 0 && await this.copyUp(h.name, lrel)) st = await lstatOrNull(source!);
        if (!st || st.isDirectory()) {
          throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(h.name)}: hard link target ${JSON.stringify(h.linkname)} is not a file inside the layer`);
        }
        await link(source!, target);
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await drain(data);
        const kind = h.type === 'fifo' ? ['p'] : [h.type === 'block-device' ? 'b' : 'c', String(h.devmajor ?? 0), String(h.devminor ?? 0)];
        await mknod(target, kind, h.name);
        return this.finish1(target, h);
      }
      default:
        throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(h.name)}: unsupported type ${h.type}`);
    }
  }

  /**
   * Overlay mode: a hard link to a file of a lower layer. Links cannot cross layers, so the file is
   * copied up into this layer first (as overlayfs itself would on write), then linked there.
   */
  private async copyUp(name: string, rel: string): Promise<boolean> {
    const found = await lowerEntry(this.root, this.lowers, name, rel);
    if (!found || found.st.isDirectory()) return false;
    const slash = rel.lastIndexOf('/');
    const dir = await this.parent(name, slash < 0 ? '' : rel.slice(0, slash), true);
    await pexec('cp', ['-a', '--', found.path, join(dir!, rel.slice(slash + 1))]);
    return true;
  }

  /** Directory modes and times last: writing children changes a directory's mtime. */
  async finish(): Promise<void> {
    for (const d of this.dirs.reverse()) {
      await chmod(d.path, d.mode & 0o7777);
      await utimes(d.path, d.mtime, d.mtime);
    }
  }

  private async finish1(target: string, h: tar.Header): Promise<void> {
    await this.owner(target, h);
    await chmod(target, (h.mode ?? 0o644) & 0o7777); // after chown, which clears setuid
    await this.xattrs(target, h);
    await lutimes(target, h.mtime ?? new Date(0), h.mtime ?? new Date(0));
  }

  private async whiteout(name: string, parentRel: string, hidden: string): Promise<void> {
    if (hidden.startsWith('.wh.')) {
      if (hidden !== '.wh..opq') return; // aufs bookkeeping (.wh..wh.plnk, ...): nothing to apply
      return this.opaque(name, parentRel);
    }
    if (hidden === '' || hidden === '.' || hidden === '..') throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(name)}: malformed whiteout`);
    const rel = parentRel ? `${parentRel}/${hidden}` : hidden;
    if (this.touched.has(rel)) {
      // The layer both deletes NAME and brings its own NAME: only the lower one goes. For a
      // directory that means its lower entries go, i.e. it becomes opaque.
      const st = await lstatOrNull(join((await this.parent(name, parentRel, false))!, hidden));
      if (st?.isDirectory()) await this.opaque(name, rel);
      return;
    }
    const dir = await this.parent(name, parentRel, this.mode === 'overlay');
    if (dir === undefined) return;
    const target = join(dir, hidden);
    await rm(target, { recursive: true, force: true });
    this.forget(rel);
    if (this.mode === 'overlay') await mknod(target, ['c', '0', '0'], name);
  }

  /** Hide the lower layers' entries of directory `rel`; the layer's own entries stay. */
  private async opaque(name: string, rel: string): Promise<void> {
    if (this.mode === 'overlay') {
      const dir = await this.parent(name, rel, true);
      await setAttribute(dir!, 'trusted.overlay.opaque', 'y');
      return;
    }
    const dir = await this.parent(name, rel, false);
    if (dir !== undefined) await this.prune(dir, rel);
  }

  /** Remove everything under `dir` this layer did not write (recursing into the dirs it did). */
  private async prune(dir: string, rel: string): Promise<void> {
    for (const child of await readdir(dir)) {
      const crel = rel ? `${rel}/${child}` : child;
      const abs = join(dir, child);
      if (!this.touched.has(crel)) {
        await rm(abs, { recursive: true, force: true });
        this.forget(crel);
      } else if ((await lstat(abs)).isDirectory()) {
        await this.prune(abs, crel);
      }
    }
  }

  /**
   * The absolute path of directory `rel`, walked one component at a time with lstat: a missing
   * component is created (or, with create=false, the result is undefined), a symlink or a
   * non-directory is refused.
   */
  private async parent(name: string, rel: string, create: boolean): Promise<string | undefined> {
    if (this.safe.has(rel)) return rel ? join(this.root, rel) : this.root;
    let cur = '';
    for (const comp of rel.split('/')) {
      cur = cur ? `${cur}/${comp}` : comp;
      if (this.safe.has(cur)) continue;
      const p = join(this.root, cur);
      const st = await lstatOrNull(p);
      if (!st || (isWhiteout(st) && this.mode === 'overlay')) {
        if (!create) return undefined;
        if (st) {
          // This layer deleted the lower directory and now writes into a new one: hide the old entries.
          await rm(p);
          await mkdir(p, { mode: 0o755 });
          await setAttribute(p, 'trusted.overlay.opaque', 'y');
        } else {
          // Overlay: the directory may exist below; the layer must not shadow a lower symlink or file with it.
          const below = this.lowers.length ? await lowerEntry(this.root, this.lowers, name, cur) : undefined;
          if (below?.st.isSymbolicLink()) throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(name)}: parent ${JSON.stringify(cur)} is a symbolic link in a lower layer; refusing to write through it`);
          if (below && !below.st.isDirectory()) throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(name)}: parent ${JSON.stringify(cur)} is not a directory`);
          await mkdir(p, { mode: 0o755 });
        }
      } else if (st.isSymbolicLink()) {
        throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(name)}: parent ${JSON.stringify(cur)} is a symbolic link; refusing to write through it`);
      } else if (!st.isDirectory()) {
        throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(name)}: parent ${JSON.stringify(cur)} is not a directory`);
      }
      this.safe.add(cur);
    }
    return join(this.root, rel);
  }

  /** `rel` was removed or replaced: it and everything under it are no longer known-safe dirs. */
  private forget(rel: string): void {
    for (const s of this.safe) if (s === rel || s.startsWith(`${rel}/`)) this.safe.delete(s);
  }

  private async owner(path: string, h: tar.Header): Promise<void> {
    try {
      await lchown(path, h.uid ?? 0, h.gid ?? 0);
    } catch (e) {
      if (IS_ROOT || (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  }

  private async xattrs(path: string, h: tar.Header): Promise<void> {
    for (const [k, v] of xattrsOf(h)) {
      // overlayfs reads trusted.overlay.* (and user.overlay.* with userxattr) as instructions.
      if (k.startsWith('trusted.') || k.startsWith('user.overlay.')) continue;
      try {
        await setAttribute(path, k, v);
      } catch (e) {
        // Only file capabilities must survive; other namespaces (selinux, ACLs) may be unsupported here.
        if (k === 'security.capability' && IS_ROOT) throw SbxError.wrap(e, `layer entry ${h.name}: set xattr ${k}`);
      }
    }
  }
}

async function mknod(target: string, args: string[], name: string): Promise<void> {
  try {
    await pexec('mknod', [target, ...args]);
  } catch (e) {
    throw new SbxError(IS_ROOT ? 'internal' : 'failed_precondition', `layer entry ${JSON.stringify(name)}: mknod: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, { cause: e });
  }
}

async function drain(data: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of data) { /* skip */ }
}
