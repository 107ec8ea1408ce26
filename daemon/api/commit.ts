/** Commit API: POST /v1/containers/:id/commit → the new image (docker's POST /commit). */
import { Commit, type CommitRequest, type CommitResponse } from '../../protocol/index.js';
import type { CommitOptions } from '../images/commit.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

/** The request's types were checked by the router (protocol/commit.ts commitFields); commitContainer checks the values. */
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
  return o;
}

export function registerCommit(api: ApiServer, s: Services): void {
  api.router.on(Commit.commit, async (req, ctx): Promise<CommitResponse> => {
    const { commitContainer } = await import('../containers/commit.js'); // on first use, as images.ts's
    const r = await commitContainer(s, req.id, { ...optionsOf(req), signal: ctx.signal });
    const out: CommitResponse = { Id: r.id, Digest: r.manifest.digest };
    if (r.name) out.Name = r.name;
    if (r.layer) out.Layer = { DiffID: r.layer.diffId, Size: r.layer.size };
    return out;
  });
}
