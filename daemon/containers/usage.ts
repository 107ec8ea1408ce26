/**
 * The bytes containers hold: each one's writable layer (docker's SizeRw: the files it added or
 * changed over its image) and, for `ps -s`, that plus its image's (docker's SizeRootFs, "virtual");
 * and the Containers row of `sbx system df`: every container, the running ones, the bytes of their
 * writable layers in all and of the stopped ones (what removing them would free).
 */
import type { ContainerSummary, UsageRow } from '../../protocol/index.js';
import { imageSize, sized } from '../images/describe.js';
import type { LayerSizes } from '../images/layer-sizes.js';
import { resolveImage, type ImageStores } from '../images/resolve.js';
import type { Differ } from '../snapshots/differ.js';
import type { ContainerManager } from './manager.js';

/** The bytes of container `id`'s writable layer (0 when it has no root file system). */
export async function layerSize(containers: ContainerManager, differ: Differ, id: string): Promise<number> {
  let rw = 0;
  const rootfs = await containers.rootfs(id).catch(() => undefined);
  if (rootfs) for (const c of await differ.changes(rootfs)) if (c.op !== 'delete') rw += c.size ?? 0;
  return rw;
}

export interface SizeDeps extends ImageStores {
  containers: ContainerManager;
  differ: Differ;
  layerSizes: Pick<LayerSizes, 'ofAll'>;
}

/**
 * The rows with sizeRw and sizeRootFs (docker's ps --size). An image is sized once however many
 * rows use it; a row whose image is gone gets its layer's bytes alone as sizeRootFs.
 */
export async function withSizes(s: SizeDeps, rows: ContainerSummary[]): Promise<ContainerSummary[]> {
  const images = new Map<string, Promise<number>>();
  const image = (digest: string): Promise<number> => {
    if (!images.has(digest)) images.set(digest, resolveImage(s, digest).then((i) => sized(s.layerSizes, i)).then(imageSize, () => 0));
    return images.get(digest)!;
  };
  return Promise.all(rows.map(async (row) => {
    const sizeRw = await layerSize(s.containers, s.differ, row.id);
    return { ...row, sizeRw, sizeRootFs: sizeRw + (row.imageId ? await image(row.imageId) : 0) };
  }));
}

export async function containerUsage(containers: ContainerManager, differ: Differ): Promise<UsageRow> {
  const row: UsageRow = { total: 0, active: 0, size: 0, reclaimable: 0 };
  for (const id of containers.ids()) {
    const running = containers.isRunning(id);
    const rw = await layerSize(containers, differ, id);
    row.total++;
    row.size += rw;
    if (running) row.active++;
    else row.reclaimable += rw;
  }
  return row;
}
