/**
 * docker's network routes: GET /networks (filters name, id, label, driver, type), GET
 * /networks/{id}, POST /networks/create, DELETE /networks/{id}, POST /networks/{id}/connect and
 * /disconnect, POST /networks/prune. They call networks/ and containers/network.ts as /v1 does;
 * the shapes are already docker's (networks/describe.ts). A create option sbx does not do is
 * refused naming it.
 */
import { SbxError, type NetworkInspect } from '../../../protocol/index.js';
import { connectManaged, disconnectManaged } from '../../containers/network.js';
import { PREDEFINED } from '../../networks/networks.js';
import { inspectNetwork, listNetworks } from '../../networks/describe.js';
import type { Services } from '../../services.js';
import { filterArgs } from './filters.js';
import type { DockerRouter } from './http.js';

type Obj = Record<string, unknown>;

/** docker's network filters: name (substring), id (prefix), label (KEY or KEY=VALUE), driver, type (custom/builtin). */
function matches(n: NetworkInspect, filters: string[]): boolean {
  const by = new Map<string, string[]>();
  for (const f of filters) { const [k, v = ''] = f.split(/=(.*)/s); by.set(k!, [...(by.get(k!) ?? []), v]); }
  for (const [k, vs] of by) {
    const ok = vs.some((v) => {
      switch (k) {
        case 'name': return n.Name.includes(v);
        case 'id': return n.Id.startsWith(v);
        case 'driver': return n.Driver === v;
        case 'type': return v === 'builtin' ? PREDEFINED.includes(n.Name) : v === 'custom' ? !PREDEFINED.includes(n.Name) : false;
        case 'label': { const [lk, lv] = v.split(/=(.*)/s); return lk! in n.Labels && (lv === undefined || n.Labels[lk!] === lv); }
        default: throw new SbxError('invalid_argument', `network ls: filter ${JSON.stringify(k)} is not supported by sbx (name, id, label, driver, type)`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** The create body's IPAM: one config with an optional subnet and gateway. */
function ipam(v: unknown): { subnet?: string; gateway?: string } {
  const i = (v ?? {}) as Obj;
  if (i.Driver && i.Driver !== 'default') throw new SbxError('invalid_argument', `create network: IPAM driver ${JSON.stringify(i.Driver)} is not supported by sbx (default)`);
  if (i.Options && Object.keys(i.Options as Obj).length) throw new SbxError('invalid_argument', 'create network: IPAM.Options is not supported by sbx');
  const configs = (i.Config ?? []) as Obj[];
  if (configs.length > 1) throw new SbxError('invalid_argument', 'create network: sbx takes one IPAM config (one subnet)');
  const c = configs[0] ?? {};
  if (c.IPRange || (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses as Obj).length)) throw new SbxError('invalid_argument', 'create network: IPRange and AuxiliaryAddresses are not supported by sbx');
  return { ...(c.Subnet ? { subnet: String(c.Subnet) } : {}), ...(c.Gateway ? { gateway: String(c.Gateway) } : {}) };
}

export function registerDockerNetworks(r: DockerRouter, s: Services): void {
  const n = s.networks;
  r.on('GET', '/networks', async ({ query }) => {
    const filters = filterArgs(query.get('filters'));
    return { json: listNetworks(n).filter((x) => matches(x, filters)) };
  });

  r.on('GET', '/networks/:id', async ({ params }) => ({ json: inspectNetwork(n, params.id!) }));

  r.on('POST', '/networks/create', async ({ body }) => {
    const name = body.Name;
    if (typeof name !== 'string' || !name) throw new SbxError('invalid_argument', 'create network: Name is required');
    if (body.Driver && body.Driver !== 'bridge') throw new SbxError('invalid_argument', `create network: driver ${JSON.stringify(body.Driver)} is not supported by sbx (bridge)`);
    if (body.EnableIPv6) throw new SbxError('invalid_argument', 'create network: EnableIPv6 is not supported by sbx');
    if (body.Ingress || body.ConfigOnly || (body.ConfigFrom && (body.ConfigFrom as Obj).Network)) throw new SbxError('invalid_argument', 'create network: Ingress and ConfigOnly/ConfigFrom (swarm) are not supported by sbx');
    if (body.Options && Object.keys(body.Options as Obj).length) throw new SbxError('invalid_argument', `create network: Options ${Object.keys(body.Options as Obj).join(', ')} are not supported by sbx`);
    const rec = await n.create(name, { ...ipam(body.IPAM), internal: body.Internal === true, labels: (body.Labels ?? {}) as Record<string, string> });
    return { status: 201, json: { Id: rec.id, Warning: '' } };
  });

  r.on('DELETE', '/networks/:id', async ({ params }) => { await n.remove(params.id!); return undefined; });

  r.on('POST', '/networks/:id/connect', async ({ params, body }) => {
    const ep = (body.EndpointConfig ?? {}) as Obj;
    for (const k of ['IPAMConfig', 'Links', 'IPAddress', 'MacAddress', 'DriverOpts']) {
      const v = ep[k];
      if (v && (typeof v !== 'object' || Object.values(v as Obj).some((x) => x && (!Array.isArray(x) || x.length)))) throw new SbxError('invalid_argument', `connect: EndpointConfig.${k} is not supported by sbx`);
    }
    await connectManaged(s.containers, n, String(body.Container ?? ''), params.id!, (ep.Aliases as string[] | null) ?? []);
    return { status: 200 };
  });

  r.on('POST', '/networks/:id/disconnect', async ({ params, body }) => {
    await disconnectManaged(s.containers, n, String(body.Container ?? ''), params.id!);
    return { status: 200 };
  });

  r.on('POST', '/networks/prune', async ({ query }) => {
    if (filterArgs(query.get('filters')).length) throw new SbxError('invalid_argument', 'network prune: filters are not supported by sbx');
    const gone = await n.prune();
    return { json: { NetworksDeleted: gone.length ? gone : null } };
  });
}
