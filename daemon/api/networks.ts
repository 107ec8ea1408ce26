/** `sbx network ...`: validate, one call into networks/, shape. */
import { Networks as Routes, SbxError } from '../../protocol/index.js';
import { connectManaged, disconnectManaged } from '../containers/network.js';
import { inspectNetwork, listNetworks } from '../networks/describe.js';
import type { Services } from '../services.js';
import type { ApiServer } from './server.js';

export function registerNetworks(api: ApiServer, s: Services): void {
  const n = s.networks;
  api.router
    .on(Routes.create, async (req) => {
      const labels: Record<string, string> = {};
      for (const l of req.labels ?? []) {
        const i = l.indexOf('=');
        if (i === 0) throw new SbxError('invalid_argument', `create network: invalid label ${JSON.stringify(l)}`);
        labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
      }
      const rec = await n.create(req.name, { ...(req.subnet ? { subnet: req.subnet } : {}), ...(req.gateway ? { gateway: req.gateway } : {}), internal: !!req.internal, labels });
      return { Id: rec.id, Warning: '' };
    })
    .on(Routes.list, async () => listNetworks(n))
    .on(Routes.inspect, async (req) => inspectNetwork(n, req.id))
    .on(Routes.remove, async (req) => n.remove(req.id))
    .on(Routes.connect, async (req) => connectManaged(s.containers, n, req.container, req.id, req.aliases ?? []))
    .on(Routes.disconnect, async (req) => disconnectManaged(s.containers, n, req.container, req.id))
    .on(Routes.prune, async () => ({ NetworksDeleted: await n.prune() }));
}
