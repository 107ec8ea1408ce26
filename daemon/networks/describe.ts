/** Networks as docker's `network inspect` shows them (the predefined host and none included). */
import type { NetworkInspect } from '../../protocol/index.js';
import type { Networks, NetworkRecord } from './networks.js';
import { macOf } from './subnets.js';

const pseudo = (name: 'host' | 'none'): NetworkInspect => shape({
  id: (name === 'host' ? 'a' : 'b').repeat(64), name, driver: name === 'host' ? 'host' : 'null', created: new Date(0).toISOString(),
  subnet: '', gateway: '', internal: false, labels: {},
}, []);

function shape(r: NetworkRecord | (Omit<NetworkRecord, 'driver'> & { driver: string }), members: ReturnType<Networks['members']>, prefix = 0, macOf = (a: string) => a): NetworkInspect {
  const containers: NetworkInspect['Containers'] = {};
  for (const m of members) containers[m.id] = { Name: m.name, EndpointID: m.id.slice(0, 64), MacAddress: macOf(m.address), IPv4Address: `${m.address}/${prefix}`, IPv6Address: '' };
  return {
    Name: r.name, Id: r.id, Created: r.created, Scope: 'local', Driver: r.driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: r.subnet ? [{ Subnet: r.subnet, Gateway: r.gateway }] : [] },
    Internal: r.internal, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: {}, Labels: r.labels,
  };
}

export function inspectNetwork(n: Networks, ref: string): NetworkInspect {
  if (ref === 'host' || ref === 'none') return pseudo(ref);
  const r = n.get(ref);
  return shape(r, n.members(ref), Number(r.subnet.split('/')[1]), macOf);
}

export function listNetworks(n: Networks): NetworkInspect[] {
  return [...n.list().map((r) => inspectNetwork(n, r.id)), pseudo('host'), pseudo('none')];
}
