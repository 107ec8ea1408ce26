/**
 * docker's image archive and prune routes: GET /images/{name}/get and /images/get?names= (docker
 * save: the archive `docker load` reads), POST /images/load (a docker or OCI archive in the body;
 * docker's "Loaded image" lines), POST /images/prune (dangling, or every unused image with
 * dangling=false). Each calls the image service /v1 uses.
 */
import { pipeline } from 'node:stream';
import { SbxError } from '../../../protocol/index.js';
import { loadArchive } from '../../images/load.js';
import { pruneImages } from '../../images/prune.js';
import { saveImages } from '../../images/save.js';
import type { Services } from '../../services.js';
import { filterArgs } from './filters.js';
import { DOCKER_API_VERSION, type DockerReq, type DockerRouter } from './http.js';
import { streamJson } from './progress.js';

async function save(s: Services, names: string[], r: DockerReq): Promise<'handled'> {
  const archive = await saveImages(s, names, 'docker');
  r.res.writeHead(200, { 'content-type': 'application/x-tar', 'api-version': DOCKER_API_VERSION });
  pipeline(archive, r.res, () => undefined);
  return 'handled';
}

export function registerDockerImageArchives(r: DockerRouter, s: Services): void {
  r.on('GET', '/images/get', async (req) => {
    const names = req.query.getAll('names').filter(Boolean);
    if (!names.length) throw new SbxError('invalid_argument', 'save: name at least one image (names=...)');
    return save(s, names, req);
  });
  r.onImage('GET', 'get', async (name, _q, req) => save(s, [name], req));

  r.on('POST', '/images/load', async (req) => streamJson(req, async (out) => {
    const res = await loadArchive(s, req.req, req.signal);
    for (const name of res.loaded) out.write({ stream: `Loaded image: ${name}\n` });
    for (const id of res.ids) if (!res.loaded.length) out.write({ stream: `Loaded image ID: ${id}\n` });
  }), { raw: true });

  r.on('POST', '/images/prune', async ({ query }) => {
    let all = false;
    for (const [k, v] of filterArgs(query.get('filters')).map((a) => a.split(/=(.*)/s) as [string, string])) {
      if (k !== 'dangling') throw new SbxError('invalid_argument', `image prune: filter ${JSON.stringify(k)} is not supported by sbx (only dangling)`);
      if (!['true', '1', 'false', '0'].includes(v.toLowerCase())) throw new SbxError('invalid_argument', `image prune: invalid dangling filter ${JSON.stringify(v)} (true or false)`);
      all = v === 'false' || v === '0';
    }
    const res = await pruneImages(s, all);
    const deleted = [...res.untagged.map((u) => ({ Untagged: u })), ...res.deleted.map((d) => ({ Deleted: d }))];
    return { json: { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: res.reclaimed } };
  });
}
