/**
 * Store modes: $SBX_ROOT and everything sbxd keeps under it are reachable by root only, so a
 * local user can neither read image blobs and container files nor run a setuid binary or open
 * a device node from an unpacked layer or a container layer.
 *
 * Contract
 * - tightenStore(root) makes `root` root-owned 0700 and removes group/other bits from the
 *   store's own directories (0700) and files (0600), walking only the store's bookkeeping:
 *   it never descends into a layer's or a container's tree (snapshots/<dir>/…,
 *   containers/<id>/…), whose modes belong to the image and the container. Symlinks and
 *   sockets are left as they are (the API socket's mode is the API server's business).
 * - Idempotent and cheap on a tight root (one lstat per store entry, no chmod).
 * - Roots written by older sbxd (0711 root, 0755 snapshots, 0644 blobs) are fixed on start.
 */
import { chmod, chown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE } from './fs.js';

/** Directories whose children are trees that belong to layers or containers: fix the child, not below. */
const OPAQUE_CHILDREN = new Set(['snapshots', 'containers']);

export async function tightenStore(root: string): Promise<void> {
  const st = await lstat(root);
  if (!st.isDirectory()) throw new TypeError(`SBX_ROOT ${root}: not a directory`);
  // Whoever owns the root could loosen it again: sbxd runs as root and keeps it root's.
  if (st.uid !== 0 || st.gid !== 0) await chown(root, 0, 0);
  await walk(root, 0, false);
}

async function walk(dir: string, depth: number, opaque: boolean): Promise<void> {
  await fix(dir, true);
  let names: string[];
  try { names = await readdir(dir); } catch { return; }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try { st = await lstat(p); } catch { continue; } // removed meanwhile
    if (st.isDirectory()) {
      // A snapshot's or container's own directory is tightened, its contents are not.
      if (opaque) await fix(p, true, st.mode);
      else await walk(p, depth + 1, depth === 0 && OPAQUE_CHILDREN.has(name));
    } else if (st.isFile()) {
      await fix(p, false, st.mode);
    }
  }
}

async function fix(path: string, dir: boolean, mode?: number): Promise<void> {
  const m = mode ?? (await lstat(path)).mode;
  if ((m & 0o077) === 0) return;
  await chmod(path, dir ? PRIVATE_DIR_MODE : m & PRIVATE_DIR_MODE & 0o700);
}
