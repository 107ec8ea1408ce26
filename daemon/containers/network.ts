/**
 * A container's network at start: which namespace it gets (none, host, another container's, or a
 * place on a bridge network through daemon/networks), its /etc/hosts extras (--add-host, the
 * host-gateway alias, its network peers) and /etc/resolv.conf (--dns*), and what to undo at exit.
 */
import { SbxError, type CreateContainerRequest } from '../../protocol/index.js';
import type { Networks } from '../networks/networks.js';
import { PREDEFINED } from '../networks/networks.js';
import { freeIfName, plug, unplug } from '../networks/plug.js';
import type { ContainerSpec } from '../runtime/runtime.js';
import type { Container } from './container.js';
import type { ContainerManager } from './manager.js';
import { writeConfig } from './records.js';

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

/** Fill `spec` with the container's network and record it in c.nets; resolves to the undo, if any. */
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
  // a user network's embedded DNS answers at its gateway (docker's 127.0.0.11); --dns still wins
  if (net !== 'bridge' && !cfg.dns?.servers.length) spec.dns = { servers: [attachment.gateway], search: cfg.dns?.search ?? [], options: cfg.dns?.options ?? [] };
  const leave = async (): Promise<void> => { c.nets?.delete(net); await networks.detach(net, cfg.id); };
  (c.nets ??= new Map()).set(net, { endpoint, ifname: 'eth0', leave });
  return leave;
}

/** Leave every network (the container exited). */
export async function leaveAll(c: Container): Promise<void> {
  for (const n of [...c.nets?.values() ?? []]) await n.leave();
  c.nets?.clear();
}

/** Hot-plug the running container `c` (PID 1 `pid`) into network `net`. */
async function plugInto(networks: Networks, c: Container, net: string, pid: number, aliases: string[]): Promise<void> {
  const cfg = c.config;
  const { net: a, endpoint } = await networks.attach(net, { id: cfg.id, name: cfg.name, hostname: cfg.hostname, aliases, hostsFile: `${c.dir}/hosts` });
  const ifname = await freeIfName(pid);
  try { await plug(a, pid, ifname); } catch (e) { await networks.detach(net, cfg.id); throw e; }
  const leave = async (): Promise<void> => { c.nets?.delete(net); await networks.detach(net, cfg.id); };
  (c.nets ??= new Map()).set(net, { endpoint, ifname, leave });
  // its own hosts file learns the new peers too
  await networks.refreshOne(net, cfg.id);
}

/** After start: join the networks connected beside the first one. */
export async function joinExtras(networks: Networks, c: Container, pid: number): Promise<void> {
  for (const net of c.config.networks ?? []) await plugInto(networks, c, net, pid, c.config.networkAliases ?? []);
}

/** `sbx network connect`: record it; join now when the container runs. @throws not_found, failed_precondition, invalid_argument */
export async function connectContainer(networks: Networks, c: Container, net: string, aliases: string[], save: () => Promise<void>): Promise<void> {
  const rec = networks.get(net);
  const cfg = c.config;
  if (PREDEFINED.includes(rec.name) && rec.name !== 'bridge') throw new SbxError('invalid_argument', `container cannot be connected to network ${rec.name}`);
  if (cfg.network === 'host' || cfg.network.startsWith('container:')) throw new SbxError('failed_precondition', `container sharing network namespace with another container or host cannot be connected to any other network`);
  if (cfg.network === rec.name || cfg.networks?.includes(rec.name)) throw new SbxError('already_exists', `endpoint with name ${cfg.name} already exists in network ${rec.name}`);
  if (c.pid1) await plugInto(networks, c, rec.name, c.pid1, aliases);
  if (cfg.network === 'none') cfg.network = rec.name;
  else cfg.networks = [...cfg.networks ?? [], rec.name];
  if (aliases.length) cfg.networkAliases = [...new Set([...cfg.networkAliases ?? [], ...aliases])];
  await save();
}

/** `sbx network disconnect`: leave now when running; forget it. @throws not_found, failed_precondition */
export async function disconnectContainer(networks: Networks, c: Container, net: string, save: () => Promise<void>): Promise<void> {
  const rec = networks.get(net);
  const cfg = c.config;
  if (cfg.network !== rec.name && !cfg.networks?.includes(rec.name)) throw new SbxError('failed_precondition', `container ${cfg.id} is not connected to network ${rec.name}`);
  const live = c.nets?.get(rec.name);
  if (live && c.pid1) {
    await unplug(c.pid1, live.ifname).catch(() => undefined);
    await live.leave();
  }
  if (cfg.network === rec.name) {
    const [next, ...rest] = cfg.networks ?? [];
    cfg.network = next ?? 'none';
    if (rest.length) cfg.networks = rest; else delete cfg.networks;
  } else {
    cfg.networks = cfg.networks!.filter((n) => n !== rec.name);
    if (!cfg.networks.length) delete cfg.networks;
  }
  await save();
}

/** `sbx network connect|disconnect` of a container the manager holds, under its lock; the record is saved. */
export async function connectManaged(m: ContainerManager, networks: Networks, ref: string, net: string, aliases: string[] = []): Promise<void> {
  const c = m.get(ref);
  await m.locked(c.config.id, () => connectContainer(networks, c, net, aliases, () => writeConfig(c.dir, c.config)));
}
export async function disconnectManaged(m: ContainerManager, networks: Networks, ref: string, net: string): Promise<void> {
  const c = m.get(ref);
  await m.locked(c.config.id, () => disconnectContainer(networks, c, net, () => writeConfig(c.dir, c.config)));
}
