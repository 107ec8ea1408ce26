import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Modes of what sbxd keeps under $SBX_ROOT: root only, as docker (0710/0700) and podman (0700)
 * keep their storage. Explicit modes rather than a process umask: sbxd's children (unshare,
 * sbx-init, the container's command) inherit the umask, and containers expect docker's 022.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Write a file so that readers see the old content or the new one, never a half-written one. */
export async function atomicWriteFile(path: string, data: string | Uint8Array, mode = PRIVATE_FILE_MODE): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try { await fh.sync(); } finally { await fh.close(); }
}

export async function readJSON<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

export async function readJSONOr<T>(path: string, fallback: T): Promise<T> {
  try {
    return await readJSON<T>(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw e;
  }
}

export async function writeJSON(path: string, value: unknown, mode = PRIVATE_FILE_MODE): Promise<void> {
  await atomicWriteFile(path, JSON.stringify(value, null, 2) + '\n', mode);
}

export async function pathExists(path: string): Promise<boolean> {
  try { await stat(path); return true; } catch { return false; }
}

/** Remove a tree so that it vanishes at once: rename aside, then delete. */
export async function removeAll(path: string): Promise<void> {
  const aside = join(dirname(path), `rm-${basename(path)}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await rm(aside, { recursive: true, force: true });
}

export async function ensureDir(path: string, mode = PRIVATE_DIR_MODE): Promise<string> {
  await mkdir(path, { recursive: true, mode });
  return path;
}
