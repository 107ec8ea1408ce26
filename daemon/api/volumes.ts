/** Volume routes: `sbx volume create|ls|inspect|rm|prune` over the VolumeStore. */
import { SbxError, Volumes } from '../../protocol/index.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

export function registerVolumes(api: ApiServer, s: Services): void {
  api.router
    .on(Volumes.create, async (req) => {
      const labels: Record<string, string> = {};
      for (const l of req.labels ?? []) {
        const eq = l.indexOf('=');
        if (eq === 0) throw new SbxError('invalid_argument', `invalid label ${JSON.stringify(l)}: empty key`);
        labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
      }
      return s.volumes.create(req.name ?? '', labels);
    })
    .on(Volumes.list, async (req) => s.volumes.list().filter((v) => req.dangling === undefined || (s.volumes.usersOf(v.Name).length === 0) === req.dangling))
    .on(Volumes.inspect, async (req) => s.volumes.inspect(req.name))
    .on(Volumes.remove, async (req) => {
      // docker's -f only quiets a missing volume: one in use is refused either way
      if (req.force && !s.volumes.has(req.name)) return;
      await s.volumes.remove(req.name);
    })
    .on(Volumes.prune, async (req) => {
      const r = await s.volumes.prune(req.all ?? false);
      return { VolumesDeleted: r.deleted, SpaceReclaimed: r.reclaimed };
    });
}
