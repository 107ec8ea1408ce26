/** Commit API: POST /v1/containers/:id/commit → the new image (docker's POST /commit). */
import { Commit, SbxError, type CommitRequest, type CommitResponse } from '../../protocol/index.js';
import { containerAccess } from '../changes/containers.js';
import { commitContainer, validateCommitOptions, type CommitOptions } from '../images/commit.js';
import { resolveImage } from '../images/resolve.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

function strings(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'string')) throw new SbxError('invalid_argument', `commit: ${what} must be strings`);
  return list as string[];
}

function bool(v: unknown, what: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new SbxError('invalid_argument', `commit: ${what} must be true or false`);
}

export function optionsOf(req: CommitRequest): CommitOptions {
  const o: CommitOptions = {};
  if (req.reference !== undefined && req.reference !== '') o.reference = String(req.reference);
  if (req.author !== undefined) o.author = String(req.author);
  if (req.message !== undefined) o.message = String(req.message);
  const changes = strings(req.changes, 'changes');
  if (changes) o.changes = changes;
  const exclude = strings(req.exclude, 'exclude');
  if (exclude) o.exclude = exclude;
  const pause = bool(req.pause, 'pause');
  if (pause !== undefined) o.pause = pause;
  const squash = bool(req.squash, 'squash');
  if (squash !== undefined) o.squash = squash;
  if (req.sourceDateEpoch !== undefined) o.sourceDateEpoch = Number(req.sourceDateEpoch);
  validateCommitOptions(o);
  return o;
}

export function registerCommit(api: ApiServer, s: Services): void {
  api.router.on(Commit.commit, async (req, ctx): Promise<CommitResponse> => {
    if (typeof req.id !== 'string' || !req.id) throw new SbxError('invalid_argument', 'commit: expected a container');
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
