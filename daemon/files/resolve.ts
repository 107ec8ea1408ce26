/**
 * Resolving a container path inside the container's root as runc's securejoin does, but on file
 * descriptors: a symlink met on the way is followed as if the root were "/" (an absolute target
 * restarts at the root, ".." stops at it), so no path ever leaves the tree. Every step is an
 * O_PATH directory fd opened from the previous one without following (util/beneath.ts openDirAt),
 * so a container that swaps a component for a symlink while we resolve gets a failed lookup,
 * never a walk out of its root.
 *
 * Contract
 * - resolveIn(rootFd, path, {follow}) returns the parent directory of the last component (an
 *   O_PATH fd the caller releases with close()) and the last component's name ('' for the root).
 *   The last component is followed only with `follow` (and always when the path ends in "/" or
 *   "/."); it may be missing (exists false), its parents may not: undefined then.
 * - More than 40 links on the way: SbxError invalid_argument (ELOOP's limit).
 */
import { closeSync, fstatSync, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { SbxError } from '../../protocol/index.js';
import { fdPath, openDirAt } from '../util/beneath.js';

const MAX_LINKS = 40;

export interface Resolved {
  /** O_PATH fd of the directory holding the last component. */
  dirFd: number;
  /** The last component; '' when the path is the root itself. */
  name: string;
  /** Clean absolute path it resolved to ("/etc/shadow"). */
  path: string;
  /** lstat of the last component, when it exists. */
  stat?: Stats;
  /** Release the fds (not rootFd). */
  close(): void;
}

export function resolveIn(rootFd: number, path: string, opts: { follow?: boolean } = {}): Resolved | undefined {
  if (path.includes('\0')) throw new SbxError('invalid_argument', `path ${JSON.stringify(path)}: contains a NUL byte`);
  const followLast = opts.follow === true || /\/\.?$/.test(path);
  const queue = path.split('/').filter((p) => p !== '' && p !== '.');
  const fds: number[] = [];
  const names: string[] = [];
  let links = 0;
  const top = (): number => fds[fds.length - 1] ?? rootFd;
  const release = (): void => { for (const f of fds.splice(0)) closeSync(f); names.length = 0; };
  try {
    while (queue.length) {
      const c = queue.shift()!;
      if (c === '..') {
        const f = fds.pop();
        if (f !== undefined) { closeSync(f); names.pop(); }
        continue;
      }
      const last = queue.length === 0;
      let st: Stats;
      try {
        st = lstatSync(fdPath(top(), c));
      } catch (e) {
        if (!gone(e)) throw e;
        if (!last) { release(); return undefined; }
        return done(top(), c, undefined);
      }
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) throw new SbxError('invalid_argument', `path ${path}: too many levels of symbolic links`);
        let target: string;
        try { target = readlinkSync(fdPath(top(), c)); } catch (e) {
          if (gone(e) || (e as NodeJS.ErrnoException).code === 'EINVAL') { release(); return undefined; }
          throw e;
        }
        if (target.startsWith('/')) release();
        queue.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
        continue;
      }
      if (last) return done(top(), c, st);
      if (!st.isDirectory()) { release(); return undefined; }
      try {
        fds.push(openDirAt(top(), c));
        names.push(c);
      } catch (e) {
        if (!gone(e)) throw e;
        release();
        return undefined; // swapped while we looked: it is not a directory now
      }
    }
    // The root, or a path that climbed back to a directory (".", "a/.."): name its parent.
    if (fds.length === 0) return done(rootFd, '', undefined);
    const dir = fds.pop()!;
    const name = names.pop()!;
    closeSync(dir);
    return done(top(), name, lstatSync(fdPath(top(), name)));
  } catch (e) {
    release();
    throw e;
  }

  function done(dirFd: number, name: string, stat: Stats | undefined): Resolved {
    const held = fds.splice(0);
    const r: Resolved = {
      dirFd, name, path: `/${[...names, name].filter(Boolean).join('/')}`,
      close: () => { for (const f of held) closeSync(f); },
    };
    if (stat) r.stat = stat;
    else if (name === '') r.stat = fstatSync(rootFd);
    return r;
  }
}

function gone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}
