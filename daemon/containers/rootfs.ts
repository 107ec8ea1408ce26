/**
 * A container's root filesystem (snapshots/differ.ts Rootfs): the active snapshot `container-<id>`
 * over the image's top chainID. This is the one place the runtime, `sbx diff` and `sbx commit` go through.
 *
 * Where the bytes live (never build these paths by hand; call rootfsOf(id)):
 * - overlay: upperdir = $SBX_ROOT/snapshots/<dir>/fs (the container layer, overlay whiteouts),
 *   workdir = $SBX_ROOT/snapshots/<dir>/work, lowerdirs = the image's layers, top first, shared
 *   read-only by every container and image that has them ($SBX_ROOT/snapshots/<chainID hex>/fs).
 * - native: upperdir is a complete private copy of the image; lowerdirs[0] the image's tree.
 * `mounts` show the merged tree; perform them with mount.ts mountAll (or mountArgs inside a mount
 * namespace; overlay mounts must run with Mount.cwd as working directory). Nothing is mounted
 * by these functions, so a daemon crash never leaves a host mount behind.
 */
import { SbxError, type Digest, type ImageConfig, type Manifest } from '../../protocol/index.js';
import type { Rootfs } from '../snapshots/differ.js';
import type { Unpacker } from '../images/unpack.js';
import type { Mount, Snapshotter } from '../snapshots/snapshotter.js';

export interface RootfsDeps { snapshotter: Snapshotter; unpacker: Unpacker }

export function containerKey(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new SbxError('invalid_argument', `container id ${JSON.stringify(id)}: not a valid id`);
  return `container-${id}`;
}

/**
 * Unpack the image (if needed) and create the container's writable layer over it.
 * @throws already_exists (the container has one), plus unpack's errors
 */
export async function prepareRootfs(deps: RootfsDeps, id: string, image: { manifest: Manifest; config: ImageConfig },
  opts: { signal?: AbortSignal } = {}): Promise<Rootfs> {
  const key = containerKey(id);
  const { chainId } = await deps.unpacker.unpack(image, opts);
  await deps.snapshotter.prepare(key, chainId, { 'sbx.container': id });
  return rootfsOf(deps, id);
}

/** The rootfs of an existing container. @throws not_found */
export async function rootfsOf(deps: Pick<RootfsDeps, 'snapshotter'>, id: string): Promise<Rootfs> {
  const key = containerKey(id);
  const sn = deps.snapshotter;
  const info = await sn.stat(key).catch((e) => {
    if (e instanceof SbxError && e.code === 'not_found') throw new SbxError('not_found', `rootfs of container ${id}: not found`);
    throw e;
  });
  const [mounts, dirs] = await Promise.all([sn.mounts(key), sn.dirs(key)]);
  const r: Rootfs = { key, driver: sn.driver, mounts, upperdir: dirs.upper, lowerdirs: dirs.lowers, format: dirs.format };
  if (dirs.work) r.workdir = dirs.work;
  if (info.parent) r.chainId = info.parent as Digest;
  return r;
}

/** Ids of the containers that have a rootfs, for startup recovery (remove those with no container). */
export async function listRootfs(deps: Pick<RootfsDeps, 'snapshotter'>): Promise<string[]> {
  return (await deps.snapshotter.list()).filter((i) => i.kind === 'active' && i.key.startsWith('container-')).map((i) => i.key.slice('container-'.length));
}

/** Delete the container's writable layer (unmount it first). Idempotent. */
export async function removeRootfs(deps: Pick<RootfsDeps, 'snapshotter'>, id: string): Promise<void> {
  try {
    await deps.snapshotter.remove(containerKey(id));
  } catch (e) {
    if (!(e instanceof SbxError && e.code === 'not_found')) throw e;
  }
}
