/** Build API: POST /v1/build (context tar in, BuildEvents out) and POST /v1/build/prune (sbx builder prune). */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Build, SbxError, type BuildRequest } from '../../protocol/index.js';
import { cleanTmp, tmpRoot } from '../build/tmp.js';
import { pruneBuildCache } from '../build/prune.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

/** `K=V` list → record; a bad entry is a 400 naming it. */
function pairs(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new SbxError('invalid_argument', `${what} ${JSON.stringify(kv)}: expected KEY=VALUE`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export function registerBuild(api: ApiServer, s: Services): void {
  void cleanTmp(s.config.root).catch(() => undefined);

  api.router.on(Build.build, async (req: BuildRequest, ctx) => {
    const buildArgs = pairs(req.buildArgs, 'build-arg');
    const labels = pairs(req.labels, 'label');
    const sde = req.sourceDateEpoch;
    if (sde !== undefined && sde < 0) throw new SbxError('invalid_argument', `source date epoch ${sde}: expected a whole number of seconds ≥ 0`);
    // the builder and the Dockerfile parser load with the first build, not with every daemon
    const [{ receiveContext }, { buildImage }] = await Promise.all([import('../build/context.js'), import('../build/executor.js')]);
    const context = await receiveContext(s.config.root, ctx.body, req.dockerfile ?? 'Dockerfile', ctx.signal);
    const tmp = await mkdtemp(join(tmpRoot(s.config.root), 'work-'));
    try {
      return await buildImage({ ...s, cache: s.buildCache }, {
        dockerfile: context.dockerfile, contextDir: context.dir, ignore: context.ignore, tmp,
        tags: req.tags ?? [], buildArgs, labels, noCache: req.noCache === true, pull: req.pull === true,
        ...(req.target !== undefined ? { target: req.target } : {}),
        ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
        signal: ctx.signal,
        emit: (event) => ctx.emit({ type: 'build', event }),
      });
    } catch (e) {
      const err = api.router.clientError(e, 'build');
      ctx.emit({ type: 'build', event: { kind: 'error', message: err.message } });
      throw err;
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await context.dispose();
    }
  });

  api.router.on(Build.prune, async (req) => pruneBuildCache(s.cacheSources, req.all === true));
}
