/**
 * `rmi` with docker's rules:
 * - by tag: untag; when it was the image's last tag, the image is deleted too;
 * - by ID/digest: the image with all its tags; refused when several repositories name it,
 *   unless forced;
 * - an image a container uses (services.imageUsers) is refused unless forced; forced, its tags go
 *   but the image stays (untagged) for the container. By ID, an image a running (or paused)
 *   container uses is refused even when forced (docker's "cannot be forced").
 * Refusals are failed_precondition with docker's text ("conflict: unable to …").
 * Deleting an image then collects unreferenced blobs and unpacked layer snapshots (layers another
 * image or a container uses stay).
 */
import { SbxError, familiarString, parseReference, type Digest } from '../../protocol/index.js';
import type { ImageDeps, ImageUser } from './deps.js';
import { collectGarbage } from './gc.js';
import { listStoredImages, resolveImage } from './resolve.js';
import { pruneLayers } from './unpack.js';

export interface RemoveResult { untagged: string[]; deleted: string[] }

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);
const familiar = (n: string): string => { try { return familiarString(parseReference(n)); } catch { return n; } };

export async function removeImage(s: ImageDeps, input: string, force = false): Promise<RemoveResult> {
  const r = await resolveImage(s, input);
  const all = await listStoredImages(s);
  const byTag = r.name !== undefined;
  // By ID every stored target with that config goes; by tag or digest, the one resolved.
  const targets = all.filter((i) => (byTag || input.includes('@') ? i.target.digest === r.target.digest : i.configDigest === r.configDigest));
  const names = [...new Set(targets.flatMap((t) => t.names))];
  const digests = new Set<Digest>([r.configDigest, ...targets.flatMap((t) => [t.target.digest, t.descriptor.digest])]);
  const users = new Map<string, ImageUser>();
  for (const d of digests) for (const u of await s.imageUsers(d)) users.set(u.id, u);
  const running = [...users.values()].find((u) => u.running);

  if (byTag && names.length > 1) {
    await untag(s, [r.name!], r.target.digest);
    return announceRemoval(s, r.configDigest, { untagged: [familiar(r.name!)], deleted: [] });
  }
  // docker's order of checks: a running user, then other repositories, then a stopped user.
  if (!byTag && running) {
    throw new SbxError('failed_precondition', `conflict: unable to delete ${short(r.configDigest)} (cannot be forced) - image is being used by running container ${short(running.id)}`);
  }
  if (!byTag && names.length > 1 && !force) {
    throw new SbxError('failed_precondition', `conflict: unable to delete ${short(r.configDigest)} (must be forced) - image is referenced in multiple repositories`);
  }
  if (users.size > 0 && !force) {
    const c = [...users.values()][0]!;
    throw new SbxError('failed_precondition', byTag
      ? `conflict: unable to remove repository reference "${input}" (must force) - container ${short(c.id)} is using its referenced image ${short(r.configDigest)}`
      : `conflict: unable to delete ${short(r.configDigest)} (must be forced) - image is being used by stopped container ${short(c.id)}`);
  }
  const keepImage = users.size > 0;
  const targetDigests = new Set(targets.map((t) => t.target.digest));
  await s.gcLock.withShared(() => s.images.update((tags, untagged) => {
    for (const n of names) {
      const t = tags.get(n);
      if (t && !targetDigests.has(t.target.digest)) throw new SbxError('conflict', `remove image ${input}: tag ${familiar(n)} moved meanwhile; try again`);
      tags.delete(n);
    }
    for (let i = untagged.length - 1; i >= 0; i--) if (targetDigests.has(untagged[i]!.digest)) untagged.splice(i, 1);
    if (keepImage) for (const t of targets) untagged.push({ mediaType: t.target.mediaType, digest: t.target.digest, size: t.target.size });
  }));
  const result: RemoveResult = { untagged: names.map(familiar).sort(), deleted: keepImage ? [] : [r.configDigest] };
  announceRemoval(s, r.configDigest, result);
  if (!keepImage) {
    await collectGarbage(s);
    await pruneLayers(s);
  }
  return result;
}

async function untag(s: ImageDeps, names: string[], expect: Digest): Promise<void> {
  await s.images.update((tags) => {
    for (const n of names) {
      const t = tags.get(n);
      if (!t) throw new SbxError('not_found', `image ${familiar(n)}: no such image`);
      if (t.target.digest !== expect) throw new SbxError('conflict', `untag ${familiar(n)}: it moved meanwhile; try again`);
      tags.delete(n);
    }
  });
}

/** docker's untag (one per name) and delete events, both with the image ID as actor and name. */
function announceRemoval(s: ImageDeps, id: Digest, r: RemoveResult): RemoveResult {
  for (const _ of r.untagged) s.events?.emit('image', 'untag', id, { name: id });
  for (const d of r.deleted) s.events?.emit('image', 'delete', d, { name: d });
  return r;
}
