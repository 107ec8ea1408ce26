/** Commit API: POST /v1/containers/:id/commit → the new image (docker's POST /commit). */
import { Commit, SbxError, type CommitRequest, type CommitResponse } from '../../protocol/index.js';
import { containerAccess } from '../changes/containers.js';
import { commitContainer, validateCommitOptions, type CommitOptions } from '../images/commit.js';
import { resolveImage } from '../images/resolve.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

/** The request's types were checked by the router (protocol/commit.ts commitFields). */
export function optionsOf(req: CommitRequest): CommitOptions {
  const o: CommitOptions = {};
  if (req.reference !== undefined && req.reference !== '') o.reference = req.reference;
  if (req.author !== undefined) o.author = req.author;
  if (req.message !== undefined) o.message = req.message;
  if (req.changes) o.changes = req.changes;
  if (req.exclude) o.exclude = req.exclude;
  if (req.pause !== undefined) o.pause = req.pause;
  if (req.squash !== undefined) o.squash = req.squash;
  if (req.sourceDateEpoch !== undefined) o.sourceDateEpoch = req.sourceDateEpoch;
  validateCommitOptions(o);
  return o;
}

export function registerCommit(api: ApiServer, s: Services): void {
  api.router.on(Commit.commit, async (req, ctx): Promise<CommitResponse> => {
    const opts = optionsOf(req);
    const access = containerAccess(s);
    const c = access.find(req.id);
    const image = await resolveImage(s, c.imageId).catch((e: unknown) => {
      throw SbxError.wrap(e, `commit container ${c.name}: its image ${c.image} is gone`, 'failed_precondition');
    });
    const rootfs = await access.rootfs(c.id);
    // The journal's last rescan first, so that it has recorded everything the image will hold.
    await (await s.changes.live(c.id))?.flush();
    const r = await commitContainer(s, {
      id: c.id, rootfs, image, config: { ...image.config.config, ...c.config },
      ...(c.running ? {
        freeze: async () => {
          await access.freeze(c.id);
          return () => access.thaw(c.id);
        },
      } : {}),
    }, { ...opts, signal: ctx.signal });
    const out: CommitResponse = { Id: r.id, Digest: r.manifest.digest };
    if (r.name) out.Name = r.name;
    if (r.layer) out.Layer = { DiffID: r.layer.diffId, Size: r.layer.size };
    return out;
  });
}
