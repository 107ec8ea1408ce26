/**
 * `container prune`: remove every stopped container (created or exited; never running or paused)
 * that passes the filters, summing the writable layers it had (docker's SpaceReclaimed).
 */
import { matchContainer, parseFilters, type ContainersPruneResult } from '../../protocol/index.js';
import type { Differ } from '../snapshots/differ.js';
import { listContainers } from './describe.js';
import type { ContainerManager } from './manager.js';

const PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

export async function pruneContainers(m: ContainerManager, differ: Differ, filterArgs: string[]): Promise<ContainersPruneResult> {
  const filters = parseFilters(filterArgs, PRUNE_FILTERS);
  const out: ContainersPruneResult = { deleted: [], reclaimed: 0 };
  for (const row of listContainers(m, true)) {
    if (row.state !== 'created' && row.state !== 'exited') continue;
    // Labels where the container record has them (the run flag that sets them comes with --label).
    const labels = (m.get(row.id).config as { labels?: Record<string, string> }).labels;
    if (!matchContainer(filters, { ...row, labels })) continue;
    let rw = 0;
    const rootfs = await m.rootfs(row.id).catch(() => undefined);
    if (rootfs) for (const c of await differ.changes(rootfs)) if (c.op !== 'delete') rw += c.size ?? 0;
    try {
      await m.remove(row.id);
    } catch {
      continue; // started or removed meanwhile: not pruned, as docker skips it
    }
    out.deleted.push(row.id);
    out.reclaimed += rw;
  }
  return out;
}
