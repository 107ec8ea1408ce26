/**
 * docker's volume routes: GET /volumes ({"Volumes":[…],"Warnings":null}; filters name, label,
 * dangling, driver), POST /volumes/create, GET and DELETE /volumes/{name}, POST /volumes/prune.
 * The VolumeStore's shapes are docker's already. Prune removes every unused volume, as docker
 * does at the API version sbx answers as (1.41; anonymous ones only from 1.42).
 */
import { SbxError, type Volume } from '../../../protocol/index.js';
import type { Services } from '../../services.js';
import { filterArgs } from './filters.js';
import { qbool, type DockerRouter } from './http.js';

function matches(s: Services, v: Volume, filters: string[]): boolean {
  const by = new Map<string, string[]>();
  for (const f of filters) { const [k, x = ''] = f.split(/=(.*)/s); by.set(k!, [...(by.get(k!) ?? []), x]); }
  for (const [k, xs] of by) {
    const ok = xs.some((x) => {
      switch (k) {
        case 'name': return v.Name.includes(x);
        case 'driver': return x === 'local';
        case 'dangling': return (s.volumes.usersOf(v.Name).length === 0) === (x === 'true' || x === '1');
        case 'label': { const [lk, lv] = x.split(/=(.*)/s); return lk! in v.Labels && (lv === undefined || v.Labels[lk!] === lv); }
        default: throw new SbxError('invalid_argument', `volume ls: filter ${JSON.stringify(k)} is not supported by sbx (name, label, dangling, driver)`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

export function registerDockerVolumes(r: DockerRouter, s: Services): void {
  r.on('GET', '/volumes', async ({ query }) => {
    const filters = filterArgs(query.get('filters'));
    return { json: { Volumes: s.volumes.list().filter((v) => matches(s, v, filters)), Warnings: null } };
  });

  r.on('POST', '/volumes/create', async ({ body }) => {
    if (body.Driver && body.Driver !== 'local') throw new SbxError('invalid_argument', `create volume: driver ${JSON.stringify(body.Driver)} is not supported by sbx (local)`);
    if (body.DriverOpts && Object.keys(body.DriverOpts as object).length) throw new SbxError('invalid_argument', 'create volume: DriverOpts are not supported by sbx');
    const name = typeof body.Name === 'string' ? body.Name : '';
    return { status: 201, json: await s.volumes.create(name, (body.Labels ?? {}) as Record<string, string>) };
  });

  r.on('GET', '/volumes/:name', async ({ params }) => ({ json: s.volumes.inspect(params.name!) }));

  r.on('DELETE', '/volumes/:name', async ({ params, query }) => {
    const name = params.name!;
    // docker's force only quiets a missing volume: one in use is refused either way
    if (qbool(query, 'force') && !s.volumes.has(name)) return undefined;
    await s.volumes.remove(name);
    return undefined;
  });

  r.on('POST', '/volumes/prune', async ({ query }) => {
    for (const f of filterArgs(query.get('filters'))) if (!/^all=/.test(f)) throw new SbxError('invalid_argument', `volume prune: filter ${JSON.stringify(f)} is not supported by sbx (all)`);
    const res = await s.volumes.prune(true);
    return { json: { VolumesDeleted: res.deleted.length ? res.deleted : null, SpaceReclaimed: res.reclaimed } };
  });
}
