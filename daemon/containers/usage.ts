/**
 * The Containers row of `sbx system df`: every container, the running ones, and the bytes of
 * their writable layers (docker's SizeRw: the files each added or changed over its image), in all
 * and of the stopped ones (what removing them would free).
 */
import type { UsageRow } from '../../protocol/index.js';
import type { Differ } from '../snapshots/differ.js';
import type { ContainerManager } from './manager.js';

export async function containerUsage(containers: ContainerManager, differ: Differ): Promise<UsageRow> {
  const row: UsageRow = { total: 0, active: 0, size: 0, reclaimable: 0 };
  for (const id of containers.ids()) {
    const running = containers.isRunning(id);
    let rw = 0;
    const rootfs = await containers.rootfs(id).catch(() => undefined);
    if (rootfs) for (const c of await differ.changes(rootfs)) if (c.op !== 'delete') rw += c.size ?? 0;
    row.total++;
    row.size += rw;
    if (running) row.active++;
    else row.reclaimable += rw;
  }
  return row;
}
