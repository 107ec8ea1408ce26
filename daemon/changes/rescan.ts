/**
 * The journal's rescan (journal.ts): what a walk of some roots of a container's layer finds,
 * compared with what the journal last recorded, as add/modify/delete records (the rules are on
 * Journal). Which roots to walk: minimalScan over the paths the watcher marked dirty.
 */
import { comparePaths, type ChangeOp, type ChangeRecord, type EntryKind } from '../../protocol/index.js';
import { compareViews } from '../snapshots/compare.js';
import { DirView, childPath, isWhiteout, lstatEntry, parentOf } from '../snapshots/view.js';
import type { JournalTarget } from './journal.js';

/** What the journal last recorded about a path. mtime -1 = unknown (replayed from the file). */
export interface Sig { op: ChangeOp; kind: EntryKind; size: number; mode: number; uid: number; gid: number; mtime: bigint }

export interface ScanRoot { path: string; deep: boolean }

/** Deep roots swallow everything under them; shallow entries stay unless covered. */
export function minimalScan(batch: Map<string, boolean>): ScanRoot[] {
  if (batch.get('/')) return [{ path: '/', deep: true }];
  const deep = new Set([...batch].filter(([, d]) => d).map(([p]) => p));
  const out: ScanRoot[] = [];
  for (const [path, d] of batch) {
    if (ancestorsOf(path).some((a) => deep.has(a)) || (path !== '/' && deep.has('/'))) continue;
    out.push({ path, deep: d });
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

function changed(a: Sig, b: Sig): boolean {
  if (a.kind !== b.kind) return true;
  if (a.mode >= 0 && (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid)) return true;
  if (b.kind === 'dir') return false;
  if (a.size !== b.size) return true;
  return a.mtime >= 0n && a.mtime !== b.mtime;
}

function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  for (let a = parentOf(p); a !== '/'; a = parentOf(a)) out.push(a);
  return out;
}

/**
 * Scan each root of the container's layer (its whole tree against the image when it has no
 * layer) and compare what is there with `state`, the last recorded state of each path, which is
 * brought up to date. Returns the records, sorted by path. `exclude`: paths left out.
 */
export async function rescanRoots(
  state: Map<string, Sig>, target: Pick<JournalTarget, 'layer' | 'tree' | 'lower'>, exclude: (p: string) => boolean, roots: ScanRoot[],
): Promise<Omit<ChangeRecord, 'seq' | 'ts'>[]> {
  const now = new Map<string, Sig>();
  /** Paths whose whole subtree was looked at: what is missing under them is gone. */
  const complete = new Set<string>();
  const { lower } = target;
  const full = target.layer === undefined;
  const root = (target.layer ?? target.tree)!;
  if (!(await lstatEntry(root))) return []; // the container was removed: nothing to say
  // The container writes here as we read: every read stays beneath it (view.ts).
  const upper = new DirView(root);
  if (full) {
    for (const c of await compareViews(lower, upper, { exclude: exclude })) {
      const e = c.op === 'delete' ? undefined : await upper.lstat(c.path);
      now.set(c.path, e
        ? { op: c.op, kind: e.kind, size: e.kind === 'file' ? e.size : 0, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtimeSec * 1_000_000_000n + BigInt(e.mtimeNsec) }
        : { op: 'delete', kind: c.kind, size: 0, mode: 0, uid: 0, gid: 0, mtime: 0n });
    }
    roots = [{ path: '/', deep: true }];
    complete.add('/');
  }
  const visit = async (p: string, deep: boolean): Promise<void> => {
    if (p !== '/' && exclude(p)) return;
    const e = await upper.lstat(p);
    if (!e) return;
    if (p !== '/') {
      const le = await lower.lstat(p);
      if (isWhiteout(e)) {
        if (le) now.set(p, { op: 'delete', kind: le.kind, size: 0, mode: 0, uid: 0, gid: 0, mtime: 0n });
        return;
      }
      now.set(p, { op: le ? 'modify' : 'add', kind: e.kind, size: e.kind === 'file' ? e.size : 0, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtimeSec * 1_000_000_000n + BigInt(e.mtimeNsec) });
    }
    if (e.kind !== 'dir') return;
    if (!deep && state.get(p)?.kind === 'dir') return;
    complete.add(p);
    for (const name of await upper.readdir(p)) await visit(childPath(p, name), true);
  };
  for (const r of full ? [] : roots) {
    await visit(r.path, r.deep);
    if (now.get(r.path)?.kind !== 'dir') complete.add(r.path);
  }

  const out: Omit<ChangeRecord, 'seq' | 'ts'>[] = [];
  const rec = (op: ChangeOp, path: string, s: Sig): void => {
    out.push(op !== 'delete' && s.kind === 'file' ? { op, path, kind: s.kind, size: s.size } : { op, path, kind: s.kind });
  };
  for (const [p, s] of now) {
    const old = state.get(p);
    if (!old) { rec(s.op, p, s); continue; }
    if (s.op === 'delete') { if (old.op !== 'delete') rec('delete', p, s); continue; }
    if (old.op === 'delete') { rec('add', p, s); continue; }
    if (changed(old, s)) rec('modify', p, s);
  }
  // Paths gone from the container layer: a deleted tree is one record, at its top.
  const rootSet = new Set(roots.map((r) => r.path));
  const looked = (p: string): boolean => complete.has('/') || rootSet.has(p) || ancestorsOf(p).some((a) => complete.has(a));
  const gone = [...state.keys()].filter((p) => !now.has(p) && looked(p)).sort(comparePaths);
  const covered = new Set<string>();
  for (const p of gone) {
    const old = state.get(p)!;
    if (ancestorsOf(p).some((a) => covered.has(a) || now.get(a)?.op === 'delete')) continue;
    if (old.op === 'add') { rec('delete', p, old); covered.add(p); }
  }
  for (const p of gone) state.delete(p);
  for (const [p, s] of now) state.set(p, s);
  return out.sort((a, b) => comparePaths(a.path, b.path));
}
