/**
 * A container's network at start: which namespace it gets (none, host, another container's, or a
 * place on a bridge network through daemon/networks), its /etc/hosts extras (--add-host, the
 * host-gateway alias, its network peers) and /etc/resolv.conf (--dns*), and what to undo at exit.
 */
import { SbxError, type CreateContainerRequest } from '../../protocol/index.js';
import type { Networks } from '../networks/networks.js';
import { PREDEFINED } from '../networks/networks.js';
import type { ContainerSpec } from '../runtime/runtime.js';
import type { Container } from './container.js';

/** The create request's network fields, checked against the known networks. @throws invalid_argument, not_found */
export function validateNetwork(networks: Networks, req: CreateContainerRequest, peer: (ref: string) => unknown): void {
  const mode = req.network ?? 'bridge';
  if (mode.startsWith('container:')) {
    if (req.ports?.length) throw new SbxError('invalid_argument', 'create container: conflicting options: port publishing and the container type network mode');
    peer(mode.slice('container:'.length));
  } else if (!PREDEFINED.includes(mode)) networks.get(mode);
  if (mode === 'host' && req.ports?.length) throw new SbxError('invalid_argument', 'create container: published ports are discarded when using host network mode');
  if (req.networkAliases?.length && (PREDEFINED.includes(mode) || mode.startsWith('container:'))) {
    throw new SbxError('invalid_argument', 'create container: network-scoped aliases are only supported for user-defined networks');
  }
  for (const h of req.extraHosts ?? []) {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1);
    if (i < 1 || !(ip === 'host-gateway' || /^[0-9a-fA-F.:]+$/.test(ip))) throw new SbxError('invalid_argument', `create container: invalid IP address in add-host: "${ip}"`);
  }
  for (const d of req.dns ?? []) if (!/^[0-9a-fA-F.:]+$/.test(d)) throw new SbxError('invalid_argument', `create container: ${d} is not an ip address`);
}

/** Fill `spec` with the container's network; resolves to the undo (leave the network), if any. */
export async function joinNetwork(networks: Networks, c: Container, spec: ContainerSpec, pidOf: (ref: string) => number): Promise<(() => Promise<void>) | undefined> {
  const cfg = c.config;
  if (cfg.dns) spec.dns = cfg.dns;
  const extra = (gw?: string): string[] => (cfg.extraHosts ?? []).map((h) => {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1) === 'host-gateway' ? gw ?? '127.0.0.1' : h.slice(i + 1);
    return `${ip}\t${h.slice(0, i)}`;
  });
  if (cfg.network.startsWith('container:')) {
    const ref = cfg.network.slice('container:'.length);
    const pid = pidOf(ref);
    if (!pid) throw new SbxError('failed_precondition', `start container ${cfg.name}: cannot join network of a non running container: ${ref}`);
    spec.netnsOf = `/proc/${pid}/ns/net`;
  }
  if (cfg.network === 'none' || cfg.network === 'host' || cfg.network.startsWith('container:')) {
    spec.hosts = [...spec.hosts ?? [], ...extra()];
    return undefined;
  }
  const net = cfg.network;
  const { net: attachment, hosts, endpoint } = await networks.attach(net, {
    id: cfg.id, name: cfg.name, hostname: cfg.hostname, aliases: cfg.networkAliases ?? [], hostsFile: `${c.dir}/hosts`,
  });
  const gw = hosts.find((l) => l.includes('host.docker.internal'))?.split('\t')[0];
  spec.net = attachment;
  spec.hosts = [...spec.hosts ?? [], ...hosts, ...extra(gw)];
  c.endpoint = endpoint;
  return async () => { delete c.endpoint; await networks.detach(net, cfg.id); };
}
