/**
 * An image's file tree for the builder, without a container: a read-only FsView over its unpacked
 * layers (the parent's tree for COPY's and WORKDIR's checks), or a mounted read-only view
 * (COPY --from, whose sources are read as plain host paths). Views and mounts are dropped when
 * `fn` returns or throws.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedImage } from '../images/resolve.js';
import type { Unpacker } from '../images/unpack.js';
import type { Differ } from '../snapshots/differ.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { EMPTY_VIEW, type FsView } from '../snapshots/view.js';

export interface TreeDeps { unpacker: Unpacker; snapshotter: Snapshotter; differ: Differ }

export async function imageView(deps: TreeDeps, image: LoadedImage): Promise<FsView> {
  if (image.manifest.layers.length === 0) return EMPTY_VIEW;
  const { chainId } = await deps.unpacker.unpack(image);
  if (!chainId) return EMPTY_VIEW;
  return deps.differ.treeOf(await deps.snapshotter.dirs(chainId));
}

/** Mount the image's tree read-only under `tmp` for `fn`; an image without layers is an empty dir. */
export async function withMountedImage<T>(deps: TreeDeps, image: LoadedImage, tmp: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const target = await mkdtemp(join(tmp, 'from-'));
  try {
    if (image.manifest.layers.length === 0) return await fn(target);
    const { chainId } = await deps.unpacker.unpack(image);
    const key = `build-view-${randomBytes(6).toString('hex')}`;
    const mounts = await deps.snapshotter.view(key, chainId, { 'sbx.build': 'view' });
    try {
      await mountAll(mounts, target);
      try {
        return await fn(target);
      } finally {
        await unmount(target);
      }
    } finally {
      await deps.snapshotter.remove(key).catch(() => undefined);
    }
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

/** `--chown=USER[:GROUP]`: numbers as they are, names looked up in the image's /etc/passwd and /etc/group. */
export async function resolveOwner(view: FsView, spec: string | undefined, fail: (why: string) => Error): Promise<{ uid: number; gid: number }> {
  if (spec === undefined || spec === '') return { uid: 0, gid: 0 };
  const [u, g] = spec.split(':') as [string, string | undefined];
  const table = async (file: string): Promise<string[][]> => {
    const r = await view.readFile(file, 1 << 20);
    return r?.data ? r.data.toString('utf8').split('\n').map((l) => l.split(':')) : [];
  };
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const row = (await table('/etc/passwd')).find((r) => r[0] === u);
    if (!row) throw fail(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}: no such user: ${u}`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = (await table('/etc/group')).find((r) => r[0] === g);
      if (!row) throw fail(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${g}: no such group: ${g}`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? uid };
}
