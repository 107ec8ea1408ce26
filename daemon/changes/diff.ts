/**
 * diff: `sbx diff` as one call. With one name: a container against its image (the differ's
 * changes, by the snapshot format's fast path). With two: any two containers or images, their
 * whole trees walked side by side. `patch` adds unified diffs of changed text files.
 *
 * Errors: not_found (no such container, or no such container or image), plus the stores' errors.
 */
import { SbxError, type Change, type DiffResult } from '../../protocol/index.js';
import type { Differ } from '../snapshots/differ.js';
import { compareViews } from '../snapshots/compare.js';
import type { FsView } from '../snapshots/view.js';
import type { ContainerAccess, ContainerView } from './containers.js';
import { excludeFilter } from './stubs.js';

export interface DiffDeps {
  containers: ContainerAccess;
  differ: Differ;
  /** The whole tree of an image (unpacked if needed). @throws not_found (no such image) */
  imageTree(ref: string): Promise<FsView>;
}

export interface DiffQuery {
  from: string;
  /** Absent: `from` (a container) against its image. */
  to?: string;
  patch?: boolean;
}

export async function diff(deps: DiffDeps, q: DiffQuery): Promise<DiffResult> {
  const exclude = excludeFilter();
  let before: FsView;
  let after: FsView;
  let changes: Change[];
  if (q.to === undefined) {
    const c = deps.containers.find(q.from);
    const r = await deps.containers.rootfs(c.id);
    ({ lower: before, merged: after } = deps.differ.view(r));
    changes = await deps.differ.changes(r, { exclude });
  } else {
    before = await treeOf(deps, q.from);
    after = await treeOf(deps, q.to);
    changes = await compareViews(before, after, { exclude });
  }
  const out: DiffResult = { changes };
  // the text-diff library loads on the first --patch request, not with every daemon
  if (q.patch) out.patches = await (await import('./patch.js')).patchesFor(changes, before, after);
  return out;
}

/** The whole tree of a container (its layer over the image) or of an image (its unpacked chain). */
async function treeOf(deps: DiffDeps, ref: string): Promise<FsView> {
  let c: ContainerView | undefined;
  try { c = deps.containers.find(ref); } catch (e) {
    if (!(e instanceof SbxError) || (e.code !== 'not_found' && e.code !== 'unavailable')) throw e;
  }
  if (c) return deps.differ.view(await deps.containers.rootfs(c.id)).merged;
  return deps.imageTree(ref).catch((e: unknown) => {
    if (e instanceof SbxError && e.code === 'not_found') throw new SbxError('not_found', `diff ${ref}: no such container or image`);
    throw e;
  });
}
