/**
 * Store modes: $SBX_ROOT and everything sbxd keeps under it are reachable by root only, so a
 * local user can neither read image blobs and container files nor run a setuid binary or open
 * a device node from an unpacked layer or a container layer.
 *
 * Contract
 * - tightenStore(root) makes `root` root-owned 0700 and removes group/other bits from the
 *   store's own directories (0700) and files (0600), walking only the store's bookkeeping:
 *   it never descends into a layer's or a container's tree (snapshots/<dir>/…,
 *   containers/<id>/…) or a RUN cache mount (build/cache-mounts/<hex>/…), whose modes belong
 *   to the image, the container and the build. Symlinks and
 *   sockets are left as they are (the API socket's mode is the API server's business).
 * - Idempotent and cheap on a tight root (one lstat per store entry, no chmod).
 * - Roots written by older sbxd (0711 root, 0755 snapshots, 0644 blobs) are fixed on start.
 */
import { chmod, chown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE } from './fs.js';

/**
 * Directories (root-relative) whose children are trees that belong to layers, containers or
 * RUN cache mounts (build/cache-mounts/<hex>/fs): fix the child, not below.
 */
const OPAQUE_CHILDREN = new Set(['snapshots', 'containers', 'build/cache-mounts']);

export async function tightenStore(root: string): Promise<void> {
  const st = await lstat(root);
  if (!st.isDirectory()) throw new TypeError(`SBX_ROOT ${root}: not a directory`);
  // Whoever owns the root could loosen it again: sbxd runs as root and keeps it root's.
  if (st.uid !== 0 || st.gid !== 0) await chown(root, 0, 0);
  await walk(root, '', false);
}

async function walk(dir: string, rel: string, opaque: boolean): Promise<void> {
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
      else {
        const child = rel ? `${rel}/${name}` : name;
        await walk(p, child, OPAQUE_CHILDREN.has(child));
      }
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
