/** The containers as `sbx ps` rows and docker's inspect JSON, shaped from the manager's records. */
import { FIXED_HOST_CONFIG, healthSuffix, humanDuration, matchContainer, type EndpointSettings, parseFilters, type PortMapping, type ContainerInspect, type ContainerState, type ContainerSummary } from '../../protocol/index.js';
import { resolveImage, type ImageStores } from '../images/resolve.js';
import type { Container } from './container.js';
import type { ContainerManager } from './manager.js';
import { describeMounts } from './mounts.js';
import { runHostInspect, runInspect } from './run-options.js';
import { resourcesInspect } from './resources.js';
import { logPath, type ContainerStateRecord } from './records.js';
import { join } from 'node:path';

/** The keys `ps --filter` takes (docker's, those sbx has). */
const PS_FILTERS = ['status', 'name', 'label', 'ancestor', 'id', 'exited', 'health'] as const;

/**
 * Running containers (all: every one) passing docker's `ps` filters, newest first. A status
 * filter lists stopped containers without `all`, as docker's. @throws invalid_argument (a bad filter)
 */
export function listContainers(m: ContainerManager, all = false, filterArgs: string[] = []): ContainerSummary[] {
  const filters = parseFilters(filterArgs, PS_FILTERS);
  const every = all || filters.has('status');
  return m.ids().map((id) => m.get(id))
    .filter((c) => every || c.state.status === 'running')
    .sort((a, b) => b.config.created.localeCompare(a.config.created))
    .map((c) => ({ c, row: summary(c) }))
    // Labels where the container record has them (the run flag that sets them comes with --label).
    .filter(({ c, row }) => matchContainer(filters, { ...row, labels: c.config.labels }))
    .map(({ row }) => row);
}

/**
 * `ps` as docker's: listContainers, with ancestor=IMAGE resolved to the image's ID, so that a
 * container matches when its image is that image or one built on it (its layers start with the
 * ancestor's); the value as typed still matches too. An ancestor that names no image matches nothing.
 */
export async function psContainers(m: ContainerManager, images: ImageStores, all = false, filterArgs: string[] = []): Promise<ContainerSummary[]> {
  const ancestors = filterArgs.filter((f) => f.startsWith('ancestor=')).map((f) => f.slice('ancestor='.length));
  const rows = listContainers(m, all, filterArgs.filter((f) => !f.startsWith('ancestor=')));
  if (!ancestors.length) return rows;
  const seen = new Map<string, Promise<{ id: string; layers: string[] } | undefined>>();
  const image = (ref: string): Promise<{ id: string; layers: string[] } | undefined> => {
    if (!seen.has(ref)) seen.set(ref, resolveImage(images, ref).then((i) => ({ id: i.configDigest, layers: i.config.rootfs.diff_ids }), () => undefined));
    return seen.get(ref)!;
  };
  const wanted = (await Promise.all(ancestors.map(image))).filter((w) => w !== undefined);
  const out: ContainerSummary[] = [];
  for (const row of rows) {
    if (ancestors.some((v) => matchContainer(new Map([['ancestor', [v]]]), row))) { out.push(row); continue; }
    const mine = wanted.length ? await image(row.imageId) : undefined;
    if (mine && wanted.some((w) => w.id === mine.id || (w.layers.length > 0 && w.layers.every((d, i) => mine.layers[i] === d)))) out.push(row);
  }
  return out;
}

function summary(c: Container): ContainerSummary {
  const row: ContainerSummary = {
    id: c.config.id, name: c.config.name, image: c.config.image, imageId: c.config.imageId,
    command: [...c.config.entrypoint, ...c.config.cmd].join(' '), created: c.config.created,
    state: shownState(c.state), status: statusText(c.state) + (c.state.status === 'running' ? healthSuffix(c.health?.Status) : ''),
  };
  if (c.state.status === 'running' && c.health) row.health = c.health.Status;
  if (c.state.status === 'exited') row.exitCode = c.state.exitCode;
  const ports = c.published ?? c.config.ports;
  if (ports?.length) row.ports = ports;
  if (c.config.labels && Object.keys(c.config.labels).length) row.labels = { ...c.config.labels };
  const mounts = (c.config.volumes ?? []).filter((m) => !m.fromTmpfs); // --tmpfs is not among docker's Mounts
  if (mounts.length) row.mounts = mounts.map((m) => m.source);
  const volumes = mounts.filter((m) => m.type === 'volume').length;
  if (volumes) row.localVolumes = volumes;
  const networks = Object.keys(networkSettings(c).Networks).sort();
  if (networks.length) row.networks = networks;
  return row;
}

/** docker's container inspect; GraphDriver is left out when the container has no root file system. */
export async function inspectContainer(m: ContainerManager, ref: string): Promise<ContainerInspect> {
  const c = m.get(ref);
  const cfg = c.config;
  const args = [...cfg.entrypoint, ...cfg.cmd];
  const mounts = describeMounts(cfg.volumes, cfg.binds, m.volumes);
  const out: ContainerInspect = {
    Id: cfg.id, Name: `/${cfg.name}`, Created: cfg.created, Path: args[0] ?? '', Args: args.slice(1), Image: cfg.imageId,
    State: {
      Status: shownState(c.state), Running: c.state.status === 'running', Paused: !!c.state.paused, OOMKilled: c.state.oomKilled,
      Pid: c.state.pid, ExitCode: c.state.exitCode, Error: c.state.error, StartedAt: c.state.startedAt, FinishedAt: c.state.finishedAt,
      Restarting: !!c.state.restarting, Dead: false,
      ...(c.health ? { Health: { ...c.health, Log: [...c.health.Log] } } : {}),
    },
    RestartCount: c.state.restartCount ?? 0,
    ResolvConfPath: join(c.dir, 'resolv.conf'), HostnamePath: join(c.dir, 'hostname'), HostsPath: join(c.dir, 'hosts'), LogPath: logPath(c.dir),
    Driver: '', Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null,
    Config: {
      Image: cfg.image, Hostname: cfg.hostname, User: cfg.user, Env: cfg.env, Cmd: cfg.cmd,
      Entrypoint: cfg.entrypoint.length ? cfg.entrypoint : null, WorkingDir: cfg.workdir, Tty: cfg.tty, OpenStdin: cfg.openStdin,
      Domainname: '', AttachStdin: cfg.openStdin, AttachStdout: false, AttachStderr: false, StdinOnce: false, Volumes: null, OnBuild: null,
      ...(cfg.healthcheck ? { Healthcheck: cfg.healthcheck } : {}),
      ...runInspect(cfg),
    },
    HostConfig: { NetworkMode: cfg.network, Memory: cfg.memory, PidsLimit: cfg.pidsLimit || null, ...resourcesInspect(cfg), ...FIXED_HOST_CONFIG,
      PublishAllPorts: !!cfg.publishAll, ConsoleSize: [cfg.consoleSize?.rows ?? 0, cfg.consoleSize?.cols ?? 0],
      RestartPolicy: cfg.restartPolicy ?? { Name: 'no', MaximumRetryCount: 0 }, Init: cfg.init || null, AutoRemove: cfg.autoRemove, PortBindings: portMap(cfg.ports ?? [], true),
      Privileged: !!cfg.privileged, CapAdd: cfg.capAdd ?? null, CapDrop: cfg.capDrop ?? null,
      Devices: (cfg.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
      SecurityOpt: cfg.securityOpt ?? null,
      ExtraHosts: cfg.extraHosts ?? null, Dns: cfg.dns?.servers ?? [], DnsSearch: cfg.dns?.search ?? [], DnsOptions: cfg.dns?.options ?? [],
      Binds: mounts.binds, VolumesFrom: cfg.volumesFrom ?? null,
      ...(mounts.hostMounts ? { Mounts: mounts.hostMounts } : {}), ...(mounts.tmpfs ? { Tmpfs: mounts.tmpfs } : {}),
      ...runHostInspect(cfg),
    },
    NetworkSettings: networkSettings(c),
    Mounts: mounts.mounts,
  };
  try {
    const r = await m.rootfs(cfg.id);
    const data: Record<string, string> = { UpperDir: r.upperdir, LowerDir: r.lowerdirs.join(':') };
    if (r.workdir) data.WorkDir = r.workdir;
    out.GraphDriver = { Name: r.driver, Data: data };
    out.Driver = r.driver;
  } catch { /* no rootfs */ }
  return out;
}

const NO_ENDPOINT: EndpointSettings = { NetworkID: '', EndpointID: '', IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Aliases: null, IPAMConfig: null, Links: null, DNSNames: null };

/** docker's NetworkSettings: the endpoint while running on a network, the published ports. */
function networkSettings(c: Container): ContainerInspect['NetworkSettings'] {
  const e = c.nets?.get('bridge')?.endpoint;
  const ports = portMap(c.published ?? [], false);
  const networks: ContainerInspect['NetworkSettings']['Networks'] = {};
  const mode = c.config.network;
  for (const { endpoint: x } of c.nets?.values() ?? []) {
    networks[x.network] = { ...NO_ENDPOINT, NetworkID: x.networkId, IPAddress: x.address, IPPrefixLen: x.prefix, Gateway: x.gateway, MacAddress: x.mac, Aliases: x.aliases.length ? x.aliases : null };
  }
  if (mode === 'none' || mode === 'host') networks[mode] = NO_ENDPOINT;
  // networks it will join when started (docker lists them for a created or stopped container, without an address)
  const aliases = c.config.networkAliases?.length ? c.config.networkAliases : null;
  for (const n of [mode, ...c.config.networks ?? []]) {
    if (n !== 'none' && n !== 'host' && n !== 'default' && !n.startsWith('container:') && !networks[n]) networks[n] = { ...NO_ENDPOINT, Aliases: aliases };
  }
  return {
    Bridge: '', SandboxID: '', SandboxKey: '', EndpointID: '',
    IPAddress: e && e.network === 'bridge' ? e.address : '', IPPrefixLen: e && e.network === 'bridge' ? e.prefix : 0,
    Gateway: e && e.network === 'bridge' ? e.gateway : '', MacAddress: e && e.network === 'bridge' ? e.mac : '', Ports: ports, Networks: networks,
  };
}

/** docker's port map: "80/tcp" → [{HostIp, HostPort}]; in PortBindings a free-port request is HostPort "". */
function portMap(ports: PortMapping[], requested: boolean): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    (out[`${p.containerPort}/${p.protocol ?? 'tcp'}`] ??= []).push({ HostIp: p.hostIp, HostPort: requested && !p.hostPort ? '' : String(p.hostPort) });
  }
  return out;
}

/** docker shows a paused container's state as "paused" (its records say running). */
function shownState(s: ContainerStateRecord): ContainerState {
  if (s.status === 'exited' && s.restarting) return 'restarting';
  return s.status === 'running' && s.paused ? 'paused' : s.status;
}

function statusText(s: ContainerStateRecord): string {
  const ago = (iso: string): string => humanDuration((Date.now() - Date.parse(iso)) / 1000);
  if (s.status === 'running') return `Up ${ago(s.startedAt)}${s.paused ? ' (Paused)' : ''}`;
  if (s.status === 'exited' && s.restarting) return `Restarting (${s.exitCode}) ${ago(s.finishedAt)} ago`;
  if (s.status === 'exited') return `Exited (${s.exitCode}) ${ago(s.finishedAt)} ago`;
  if (s.status === 'removing') return 'Removal In Progress';
  return 'Created';
}
