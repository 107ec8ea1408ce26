/**
 * commitContainer: `sbx commit CONTAINER [REPO[:TAG]]` as one call (docker's POST /commit).
 *
 * Contract
 * - ref is a container name, full ID or unique ID prefix (not_found, invalid_argument).
 * - The options are checked before any work (invalid_argument: a bad change line, reference or
 *   exclude pattern); then the container's image is resolved (failed_precondition when it is
 *   gone), the container's live change journal settles (its last rescan first, so the journal
 *   has recorded everything the image will hold), and images/commit.ts commitImage writes the
 *   image from the container's rootfs and config (its image's config with the run flags applied,
 *   docker's base). A running container is frozen while its layer is read (unless pause is false).
 * - The result is images/commit.ts's CommitResult (image ID, manifest, tag, layer).
 */
import { SbxError } from '../../protocol/index.js';
import { containerAccess, type ManagedContainers } from '../changes/containers.js';
import { commitImage, validateCommitOptions, type CommitDeps, type CommitOptions, type CommitResult } from '../images/commit.js';
import { resolveImage } from '../images/resolve.js';
import { familiar } from '../images/load-formats.js';
import type { EventSink } from '../events/bus.js';

export interface ContainerCommitDeps extends CommitDeps {
  containers: ManagedContainers;
  /** The change recorder: a running container's journal, to settle before its layer is read. */
  changes: { live(id: string): Promise<{ flush(): Promise<void> } | undefined> };
  /** Where the container's commit (and the new tag) is announced; absent: nowhere. */
  events?: EventSink;
}

export async function commitContainer(deps: ContainerCommitDeps, ref: string, opts: CommitOptions = {}): Promise<CommitResult> {
  validateCommitOptions(opts);
  const access = containerAccess(deps);
  const c = access.find(ref);
  const image = await resolveImage(deps, c.imageId).catch((e: unknown) => {
    throw SbxError.wrap(e, `commit container ${c.name}: its image ${c.image} is gone`, 'failed_precondition');
  });
  const rootfs = await access.rootfs(c.id);
  await (await deps.changes.live(c.id))?.flush();
  const r = await commitImage(deps, {
    id: c.id, rootfs, image, config: { ...image.config.config, ...c.config },
    ...(c.running ? {
      freeze: async () => {
        await access.freeze(c.id);
        return () => access.thaw(c.id);
      },
    } : {}),
  }, opts);
  deps.events?.emit('container', 'commit', c.id, { comment: opts.message ?? '', imageID: r.id, imageRef: r.name ? familiar(r.name) : '', image: c.image, name: c.name });
  if (r.name) deps.events?.emit('image', 'tag', r.id, { name: familiar(r.name) });
  return r;
}
