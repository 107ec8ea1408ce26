/**
 * Settle: make a container's snapshot hold exactly what its exported layer holds, so that it can
 * be committed as that layer's snapshot (keyed by chainID) instead of unpacking the layer again
 * (Differ.settle; images/unpack.ts Unpacker.adopt). The tar leaves things out or rounds them,
 * and the snapshot must not keep what the layer does not have:
 * - excluded paths (mount stubs, --exclude patterns) and sockets: the layer has nothing there, so
 *   the image shows the parent's entry (overlay: remove it from the upper; full tree: put the
 *   parent's entry back);
 * - mtimes: whole seconds, clamped to sourceDateEpoch; xattrs: only security.capability and
 *   user.* (plus overlay's opaque mark, which is how an unpacked layer records `.wh..wh..opq`);
 * - a directory's own mtime is what the layer recorded (restored after removing a child), or, for
 *   a full tree, the parent's when the layer does not hold the directory;
 * - the root directory: an unpacked snapshot's root is 0755 root:root (the tar has no entry for it);
 * - hard links: a full tree's changed file linked to an unchanged one is a separate file once
 *   unpacked: such a tree is not kept (false).
 * Only for a snapshot that nothing runs in and that is committed or removed right after: it is
 * rewritten in place. Never follows a symlink (only real directories are descended into).
 */
import { execFile } from 'node:child_process';
import type { BigIntStats, Dirent } from 'node:fs';
import { chmod, lchown, lstat, lutimes, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listAttributes, removeAttribute } from '@napi-rs/xattr';
import type { Change } from '../../protocol/index.js';
import { childPath } from './view.js';

const pexec = promisify(execFile);

export interface SettleOptions {
  exclude?: (path: string) => boolean;
  sourceDateEpoch?: number;
}

const KEEP_XATTR = (name: string): boolean => name === 'security.capability'
  || (name.startsWith('user.') && !name.startsWith('user.overlay.')) || name === 'trusted.overlay.opaque';

/** The mtime (whole seconds) the layer's tar records for `st`. */
function tarSeconds(st: BigIntStats, sde: number | undefined): number {
  const s = Number(st.mtimeNs / 1_000_000_000n);
  return Math.max(0, sde !== undefined && s > sde ? sde : s);
}

/** Set `path`'s times to `seconds`; a directory always (its children may have changed it since `st`). */
async function setSeconds(path: string, st: BigIntStats, seconds: number): Promise<void> {
  if (st.isDirectory() || st.mtimeNs !== BigInt(seconds) * 1_000_000_000n) await lutimes(path, seconds, seconds);
}

async function stripXattrs(path: string): Promise<void> {
  let names: string[];
  try { names = await listAttributes(path); } catch { return; }
  for (const n of names) if (!KEEP_XATTR(n)) await removeAttribute(path, n);
}

async function entries(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true });
}

async function settleRoot(root: string): Promise<void> {
  await stripXattrs(root);
  await lchown(root, 0, 0);
  await chmod(root, 0o755);
}

/** An overlay upper dir: remove what the layer left out, round what it rounded. */
export async function settleOverlayUpper(upper: string, o: SettleOptions): Promise<void> {
  const exclude = o.exclude ?? (() => false);
  const walk = async (dir: string, path: string): Promise<void> => {
    for (const d of await entries(dir)) {
      const p = childPath(path, d.name);
      const host = join(dir, d.name);
      if (exclude(p) || d.isSocket()) {
        await rm(host, { recursive: true, force: true });
        continue;
      }
      const st = await lstat(host, { bigint: true });
      if (st.isCharacterDevice() && st.rdev === 0n) continue; // a whiteout: its own form in a snapshot
      await stripXattrs(host);
      if (d.isDirectory()) await walk(host, p);
      await setSeconds(host, st, tarSeconds(st, o.sourceDateEpoch));
    }
  };
  await walk(upper, '/');
  await settleRoot(upper);
}

/**
 * A full tree over its parent's full tree: `exported` are the changes the layer holds (what
 * exportLayer staged). Returns false when the tree cannot be made exact (see hard links).
 */
export async function settleFullTree(tree: string, parent: string | undefined, exported: Change[], o: SettleOptions): Promise<boolean> {
  const exclude = o.exclude ?? (() => false);
  const inLayer = new Set(exported.filter((c) => c.op !== 'delete').map((c) => c.path));
  // A changed file hard-linked to a path the layer does not hold: unpacked, they are two files.
  const links = new Map<bigint, { nlink: bigint; n: bigint }>();
  for (const p of inLayer) {
    const st = await lstat(tree + p, { bigint: true });
    if (st.isDirectory() || st.nlink < 2n) continue;
    const l = links.get(st.ino) ?? { nlink: st.nlink, n: 0n };
    l.n += 1n;
    links.set(st.ino, l);
  }
  if ([...links.values()].some((l) => l.n !== l.nlink)) return false;
  const parentStat = async (p: string): Promise<BigIntStats | undefined> => {
    if (parent === undefined) return undefined;
    try { return await lstat(parent + p, { bigint: true }); } catch { return undefined; }
  };
  /** The parent's entry at `p` (or nothing) instead of the tree's. */
  const restore = async (p: string): Promise<void> => {
    await rm(tree + p, { recursive: true, force: true });
    if (await parentStat(p)) await pexec('cp', ['-a', '--reflink=auto', '--', parent + p, tree + p], { maxBuffer: 1 << 20 });
  };
  const walk = async (path: string): Promise<void> => {
    const dir = path === '/' ? tree : tree + path;
    const names = new Set<string>();
    for (const d of await entries(dir)) {
      names.add(d.name);
      const p = childPath(path, d.name);
      if (exclude(p) || d.isSocket()) { await restore(p); continue; }
      const st = await lstat(tree + p, { bigint: true });
      if (d.isDirectory()) await walk(p);
      await settleEntry(p, st);
    }
    // Excluded entries the container deleted come back from the parent.
    if (parent !== undefined) {
      let below: Dirent[] = [];
      try { below = await entries(path === '/' ? parent : parent + path); } catch { /* not a directory there */ }
      for (const d of below) if (!names.has(d.name) && exclude(childPath(path, d.name))) await restore(childPath(path, d.name));
    }
  };
  const settleEntry = async (p: string, st: BigIntStats): Promise<void> => {
    if (inLayer.has(p)) {
      await stripXattrs(tree + p);
      await setSeconds(tree + p, st, tarSeconds(st, o.sourceDateEpoch));
    } else if (st.isDirectory()) {
      // Not in the layer: unpacked, it is the parent's directory, with the parent's mtime.
      const ps = await parentStat(p);
      if (ps?.isDirectory()) await setSeconds(tree + p, st, Number(ps.mtimeNs / 1_000_000_000n));
    }
  };
  await walk('/');
  await settleRoot(tree);
  return true;
}
