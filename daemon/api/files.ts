/**
 * Files API: docker's archive routes (`sbx cp` both ways; GET …/archive/stat is docker's HEAD) and
 * export. Inputs arrive checked against protocol/files.ts; one ContainerFiles call each.
 */
import { Files, PATH_STAT_HEADER } from '../../protocol/index.js';
import type { ContainerFiles } from '../files/service.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

export function registerFiles(api: ApiServer, s: Services): void {
  let service: ContainerFiles | undefined; // made on first use, as images.ts's handlers load theirs
  const files = async (): Promise<ContainerFiles> => {
    service ??= new (await import('../files/service.js')).ContainerFiles({ containers: s.containers, differ: s.differ, changes: s.changes });
    return service;
  };
  api.router
    .on(Files.stat, async (req) => (await files()).stat(req.id, req.path, { follow: req.follow ?? false }))
    .on(Files.archive, async (req, ctx) => {
      const { stat, stream } = await (await files()).archive(req.id, req.path, { follow: req.follow ?? false, signal: ctx.signal });
      ctx.download(stream, 'application/x-tar', { [PATH_STAT_HEADER]: Buffer.from(JSON.stringify(stat)).toString('base64') });
    })
    .on(Files.extract, async (req, ctx) => (await files()).extract(req.id, req.path, ctx.body, {
      copyUidGid: req.copyUIDGID ?? false, noOverwriteDirNonDir: req.noOverwriteDirNonDir ?? false, signal: ctx.signal,
    }))
    .on(Files.export, async (req, ctx) => { ctx.download(await (await files()).export(req.id, { signal: ctx.signal }), 'application/x-tar'); });
}
