/**
 * The applier's view of the layers below an overlay upper directory: what they show at a path
 * (as overlayfs merges them), and the whiteout and lstat helpers the applier shares.
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttribute } from '@napi-rs/xattr';
import { SbxError } from '../../protocol/index.js';

/**
 * What the lower layers (top first) show at `rel` under an overlay upper directory `root`, as
 * overlayfs would merge them: undefined when absent, deleted, or hidden by `root`'s own whiteouts
 * and opaque directories. A symlink on the way is refused (`name`: the entry that asks), never followed.
 */
export async function lowerEntry(root: string, lowers: string[], name: string, rel: string): Promise<{ path: string; st: Stats } | undefined> {
  const parts = rel.split('/');
  let up = root;
  for (const comp of parts.slice(0, -1)) { // this layer's own whiteouts and opaque dirs hide the lowers
    up = join(up, comp);
    const st = await lstatOrNull(up);
    if (!st) break;
    if (!st.isDirectory() || (await getAttribute(up, 'trusted.overlay.opaque'))?.toString() === 'y') return undefined;
  }
  for (const layer of lowers) {
    let cur = layer;
    let opaque = false;
    let present = true;
    for (const comp of parts.slice(0, -1)) {
      cur = join(cur, comp);
      const st = await lstatOrNull(cur);
      if (!st) { present = false; break; }
      if (st.isSymbolicLink()) throw new SbxError('invalid_argument', `layer entry ${JSON.stringify(name)}: ${JSON.stringify(rel)} is under a symbolic link of a lower layer; refusing to write through it`);
      if (!st.isDirectory()) return undefined; // a whiteout or a file hides everything below
      opaque ||= (await getAttribute(cur, 'trusted.overlay.opaque'))?.toString() === 'y';
    }
    if (present) {
      const path = join(cur, parts[parts.length - 1]!);
      const st = await lstatOrNull(path);
      if (st) return isWhiteout(st) ? undefined : { path, st };
    }
    if (opaque) return undefined;
  }
  return undefined;
}

/** An overlayfs whiteout: a 0/0 character device. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export async function lstatOrNull(p: string): Promise<Stats | null> {
  try { return await lstat(p); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
