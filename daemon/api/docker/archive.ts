/**
 * `docker cp` and `docker export`: HEAD /containers/{id}/archive (the path's stat in the
 * X-Docker-Container-Path-Stat header, base64 JSON), GET (a tar of the path, the same header),
 * PUT (a tar extracted into a directory of the container) and GET /containers/{id}/export. One
 * ContainerFiles call each, as the /v1 files routes make (files/service.ts).
 */
import { PATH_STAT_HEADER, SbxError, type PathStat } from '../../../protocol/index.js';
import { ContainerFiles } from '../../files/service.js';
import type { Services } from '../../services.js';
import { qbool, type DockerRouter } from './http.js';
import { sendStream } from './streams.js';

const TAR = 'application/x-tar';

export function registerDockerArchive(r: DockerRouter, s: Services): void {
  const files = new ContainerFiles({ containers: s.containers, differ: s.differ, changes: s.changes });
  const pathOf = (q: URLSearchParams): string => {
    const p = q.get('path');
    if (!p) throw new SbxError('invalid_argument', 'archive: a path is required (?path=)');
    return p;
  };
  const statHeader = (st: PathStat): Record<string, string> => ({ [PATH_STAT_HEADER]: Buffer.from(JSON.stringify(st)).toString('base64') });

  r.on('HEAD', '/containers/:id/archive', async ({ params, query }) => ({ status: 200, headers: statHeader(await files.stat(params.id!, pathOf(query))) }));

  r.on('GET', '/containers/:id/archive', async ({ params, query, res, signal }) => {
    const { stat, stream } = await files.archive(params.id!, pathOf(query), { signal });
    return sendStream(res, stream, { 'content-type': TAR, ...statHeader(stat) });
  });

  r.on('PUT', '/containers/:id/archive', async ({ params, query, req, signal }) => {
    await files.extract(params.id!, pathOf(query), req, {
      copyUidGid: qbool(query, 'copyUIDGID'), noOverwriteDirNonDir: qbool(query, 'noOverwriteDirNonDir'), signal,
    });
    return { status: 200 };
  });

  r.on('GET', '/containers/:id/export', async ({ params, res, signal }) => sendStream(res, await files.export(params.id!, { signal }), { 'content-type': TAR }));
}
