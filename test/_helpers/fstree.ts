/**
 * Build small file trees for tests, including overlay's own marks (as root): whiteouts (char
 * device 0/0 via mknod(1)) and opaque directories (trusted.overlay.opaque=y), and real overlay
 * mounts over them.
 */
import { execFile } from 'node:child_process';
import { chmod, lutimes, mkdir, symlink, writeFile, link } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { setAttribute } from '@napi-rs/xattr';

const pexec = promisify(execFile);

export type Node =
  | string                                   // a regular file with this content
  | { dir: true; mode?: number; opaque?: boolean; mtime?: number }
  | { file: string | Buffer; mode?: number; mtime?: number }
  | { symlink: string }
  | { link: string }                         // a hard link to another path of the same tree
  | { whiteout: true };

/** Create `spec` under `root`. Keys are relative paths; a key ending in "/" is a directory. */
export async function writeTree(root: string, spec: Record<string, Node>): Promise<void> {
  await mkdir(root, { recursive: true });
  const mtimes: [string, number][] = [];
  for (const [key, node] of Object.entries(spec)) {
    const p = join(root, key);
    await mkdir(dirname(p), { recursive: true });
    if (typeof node === 'string') {
      await writeFile(p, node);
    } else if ('dir' in node) {
      await mkdir(p, { recursive: true });
      if (node.mode !== undefined) await chmod(p, node.mode);
      if (node.opaque) await setAttribute(p, 'trusted.overlay.opaque', 'y');
      if (node.mtime !== undefined) mtimes.push([p, node.mtime]);
    } else if ('file' in node) {
      await writeFile(p, node.file);
      if (node.mode !== undefined) await chmod(p, node.mode);
      if (node.mtime !== undefined) mtimes.push([p, node.mtime]);
    } else if ('symlink' in node) {
      await symlink(node.symlink, p);
    } else if ('link' in node) {
      await link(join(root, node.link), p);
    } else {
      await pexec('mknod', [p, 'c', '0', '0']);
    }
  }
  for (const [p, t] of mtimes.reverse()) await lutimes(p, t, t);
}

/** Mount overlay (lowers top first) at `merged`; returns the unmount function. */
export async function mountOverlay(lowers: string[], upper: string, work: string, merged: string): Promise<() => Promise<void>> {
  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  await pexec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`, merged]);
  return async () => { await pexec('umount', [merged]); };
}

export async function sh(cwd: string, script: string): Promise<string> {
  const { stdout } = await pexec('sh', ['-ec', script], { cwd });
  return stdout;
}
