/**
 * What changed in a container's file system, by docker's rules (moby go-archive changes.go):
 * - a path new in the container is A, one that existed below and differs is C, one gone is D;
 * - a deleted tree is reported once, at its top;
 * - every directory above a change is listed as C (moby#13590), except "/";
 * - files differ when mode, uid, gid, rdev, size, mtime (second-granularity tolerance) or
 *   security.capability differ; directories only by mode, uid, gid (moby#9874, #11422);
 * - the list is sorted by path.
 *
 * Two mechanisms with the same result: overlayChanges() reads an overlay upperdir (char device
 * 0/0 = deleted, `trusted.overlay.opaque=y` = the directory's lower content is gone, anything else
 * present = added or copied up) against the lower view; compareViews() walks two whole trees
 * (the copy-based snapshotter, or any two containers/images).
 */
import { comparePaths, type Change } from '../../protocol/index.js';
import { DirView, childPath, isWhiteout, parentOf, type Entry, type FsView } from './view.js';

export interface CompareOptions {
  /** Leave this path (and everything under it) out; paths are container paths. */
  exclude?: (path: string) => boolean;
}

const CAPABILITY_XATTR = 'security.capability';

function sameFsTime(a: Entry, b: Entry): boolean {
  if (a.mtimeSec !== b.mtimeSec) return false;
  return a.mtimeNsec === b.mtimeNsec || a.mtimeNsec === 0 || b.mtimeNsec === 0;
}

/** docker's statDifferent. */
export function statDifferent(a: Entry, b: Entry): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  if (a.kind !== 'dir' && (!sameFsTime(a, b) || a.size !== b.size)) return true;
  return false;
}

async function capability(view: FsView, path: string): Promise<string> {
  try { return (await view.xattr(path, CAPABILITY_XATTR))?.toString('hex') ?? ''; } catch { return ''; }
}

function change(op: Change['op'], path: string, e: Entry): Change {
  const c: Change = { op, path, kind: e.kind };
  if (op !== 'delete' && e.kind === 'file') c.size = e.size;
  return c;
}

/** Add "C dir" for every directory above a change that is not listed yet, then sort. */
export function finishChanges(changes: Change[], kinds: Map<string, Entry['kind']> = new Map()): Change[] {
  const listed = new Set(changes.map((c) => c.path));
  const out = [...changes];
  for (const c of changes) {
    for (let p = parentOf(c.path); p !== '/'; p = parentOf(p)) {
      if (listed.has(p)) break;
      listed.add(p);
      out.push({ op: 'modify', path: p, kind: kinds.get(p) ?? 'dir' });
    }
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

/** The changes an overlay upperdir holds over its lower layers (read beneath `upper`, never following links). */
export async function overlayChanges(upperDir: string, lower: FsView, opts: CompareOptions = {}): Promise<Change[]> {
  const upper = new DirView(upperDir);
  const out: Change[] = [];
  const exclude = opts.exclude ?? (() => false);

  // Everything under a directory that is new (or replaced a non-directory) is simply added.
  const addTree = async (dir: string): Promise<void> => {
    for (const name of await upper.readdir(dir)) {
      const p = childPath(dir, name);
      if (exclude(p)) continue;
      const e = await upper.lstat(p);
      if (!e || isWhiteout(e)) continue;
      out.push(change('add', p, e));
      if (e.kind === 'dir') await addTree(p);
    }
  };

  const walk = async (dir: string, opaque: boolean): Promise<void> => {
    const names = await upper.readdir(dir);
    if (opaque) {
      // The directory was deleted and re-created: lower content not in upper is gone.
      const present = new Set<string>();
      for (const n of names) if (!isWhiteout(await upper.lstat(childPath(dir, n)))) present.add(n);
      for (const name of await lower.readdir(dir)) {
        const p = childPath(dir, name);
        if (present.has(name) || exclude(p)) continue;
        const le = await lower.lstat(p);
        if (le) out.push(change('delete', p, le));
      }
    }
    for (const name of names) {
      const p = childPath(dir, name);
      if (exclude(p)) continue;
      const e = await upper.lstat(p);
      if (!e) continue;
      const le = await lower.lstat(p);
      if (isWhiteout(e)) {
        if (le) out.push(change('delete', p, le));
        continue;
      }
      if (!le) {
        out.push(change('add', p, e));
        if (e.kind === 'dir') await addTree(p);
        continue;
      }
      if (e.kind === 'dir' && le.kind === 'dir') {
        if (statDifferent(le, e)) out.push(change('modify', p, e));
        await walk(p, await upper.opaque(p));
        continue;
      }
      if (e.kind === 'dir') {
        // A directory replaced a non-directory: changed, and all its content is new.
        out.push(change('modify', p, e));
        await addTree(p);
        continue;
      }
      // Copied up (or replaced) file: docker's overlay rule, a file present in both is changed,
      // unless nothing docker compares differs (an opaque dir re-created the same entry).
      if (!opaque || statDifferent(le, e) || (await capability(upper, p)) !== (await capability(lower, p))) {
        out.push(change('modify', p, e));
      }
    }
  };

  await walk('/', await upper.opaque('/'));
  return finishChanges(out);
}

/** docker's ChangesDirs: walk `to` against `from`. */
export async function compareViews(from: FsView, to: FsView, opts: CompareOptions = {}): Promise<Change[]> {
  const out: Change[] = [];
  const exclude = opts.exclude ?? (() => false);

  const walk = async (dir: string, fromIsDir: boolean): Promise<void> => {
    const names = await to.readdir(dir);
    const old = new Set(fromIsDir ? await from.readdir(dir) : []);
    for (const name of names) {
      const p = childPath(dir, name);
      if (exclude(p)) continue;
      const e = await to.lstat(p);
      if (!e) continue;
      const le = old.has(name) ? await from.lstat(p) : undefined;
      old.delete(name);
      if (!le) {
        out.push(change('add', p, e));
      } else if (statDifferent(le, e) || (e.kind === 'file' && (await capability(from, p)) !== (await capability(to, p)))) {
        out.push(change('modify', p, e));
      }
      if (e.kind === 'dir') await walk(p, le?.kind === 'dir');
    }
    for (const name of old) {
      const p = childPath(dir, name);
      if (exclude(p)) continue;
      const le = await from.lstat(p);
      if (le) out.push(change('delete', p, le));
    }
  };

  await walk('/', true);
  return finishChanges(out);
}
