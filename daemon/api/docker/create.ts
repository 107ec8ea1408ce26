/**
 * POST /containers/create: docker's Config + HostConfig + NetworkingConfig mapped onto sbx's
 * CreateContainerRequest. A field sbx does not do is refused with 400 naming it when it carries
 * a value; docker clients send many fields at their zero value, and those mean "not asked".
 */
import { SbxError, checkRequest, createContainerFields, object, type CreateContainerRequest, type PortMapping } from '../../../protocol/index.js';

type Obj = Record<string, unknown>;

/** Config fields about the client's own attach, not the container: accepted, nothing to do. */
const CLIENT_SIDE = new Set(['AttachStdin', 'AttachStdout', 'AttachStderr', 'StdinOnce', 'ExposedPorts', 'ArgsEscaped']);
/** Fields some clients copy into the body from elsewhere (dockerode: the name, which also rides in the query). */
const ECHOED = new Set(['name']);
const CONFIG = new Set(['Image', 'Cmd', 'Entrypoint', 'Env', 'WorkingDir', 'User', 'Hostname', 'Tty', 'OpenStdin', 'Volumes', 'Labels', 'HostConfig', 'NetworkingConfig']);
const HOST_CONFIG = new Set(['Binds', 'NetworkMode', 'PortBindings', 'PublishAllPorts', 'AutoRemove', 'Memory', 'PidsLimit', 'Init', 'Privileged',
  'CapAdd', 'CapDrop', 'Devices', 'SecurityOpt', 'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'Tmpfs', 'VolumesFrom', 'ConsoleSize', 'RestartPolicy', 'LogConfig']);
/** Values docker clients send by default that mean the same as sbx's behaviour. */
const DEFAULTS: Record<string, (v: unknown) => boolean> = {
  'HostConfig.NetworkMode': (v) => v === 'default',
  'HostConfig.RestartPolicy': (v) => isZero(v) || ((v as Obj).Name === 'no' && !(v as Obj).MaximumRetryCount),
  'HostConfig.PidsLimit': (v) => v === -1,
  // -1: the CLI's and the API's "not set" (the kernel's default swappiness)
  'HostConfig.MemorySwappiness': (v) => v === -1,
  // docker's own default size of /dev/shm, which dockerode's users often spell out
  'HostConfig.ShmSize': (v) => v === 64 * 1024 * 1024,
};

/** The sbx request for docker's create body (`name` from the query). */
export function createRequest(body: Obj, name: string | null): CreateContainerRequest {
  const host = (body.HostConfig ?? {}) as Obj;
  refuseUnsupported(body, CONFIG, 'Config');
  refuseUnsupported(host, HOST_CONFIG, 'HostConfig');
  const net = (body.NetworkingConfig ?? {}) as Obj;
  for (const k of Object.keys(net)) if (k !== 'EndpointsConfig' && !isZero(net[k])) unsupported(`NetworkingConfig.${k}`);
  if (!isZero(host.LogConfig) && (host.LogConfig as Obj).Type !== 'json-file') unsupported('HostConfig.LogConfig');

  const req: Obj = { image: body.Image };
  if (name) req.name = name.replace(/^\//, '');
  const copy = (to: string, v: unknown): void => { if (v !== undefined && v !== null && v !== '') req[to] = v; };
  copy('cmd', body.Cmd);
  if (Array.isArray(body.Entrypoint)) req.entrypoint = body.Entrypoint.length === 1 && body.Entrypoint[0] === '' ? [] : body.Entrypoint;
  copy('env', body.Env);
  copy('workdir', body.WorkingDir);
  copy('user', body.User);
  copy('hostname', body.Hostname);
  if (body.Tty) req.tty = true;
  if (body.OpenStdin) req.openStdin = true;
  const labels = Object.entries((body.Labels as Record<string, string> | null) ?? {}).map(([k, v]) => `${k}=${v}`);
  if (labels.length) req.labels = labels;
  const binds = [...((host.Binds as string[] | null) ?? []), ...Object.keys((body.Volumes as Obj | null) ?? {})];
  if (binds.length) req.binds = binds;
  if (typeof host.NetworkMode === 'string' && host.NetworkMode !== 'default' && host.NetworkMode !== '') req.network = host.NetworkMode;
  const ports = portBindings(host.PortBindings as Obj | null);
  if (ports.length) req.ports = ports;
  if (host.PublishAllPorts) req.publishAll = true;
  if (host.AutoRemove) req.autoRemove = true;
  if (host.Memory) req.memory = host.Memory;
  if (typeof host.PidsLimit === 'number' && host.PidsLimit > 0) req.pidsLimit = host.PidsLimit;
  if (host.Init) req.init = true;
  if (host.Privileged) req.privileged = true;
  for (const [from, to] of [['CapAdd', 'capAdd'], ['CapDrop', 'capDrop'], ['SecurityOpt', 'securityOpt'], ['ExtraHosts', 'extraHosts'],
    ['Dns', 'dns'], ['DnsSearch', 'dnsSearch'], ['DnsOptions', 'dnsOptions'], ['VolumesFrom', 'volumesFrom']] as const) {
    const v = host[from];
    if (Array.isArray(v) && v.length) req[to] = v;
  }
  if (Array.isArray(host.Devices) && host.Devices.length) {
    req.devices = (host.Devices as Obj[]).map((d) => ({ pathOnHost: d.PathOnHost, pathInContainer: d.PathInContainer || d.PathOnHost, cgroupPermissions: d.CgroupPermissions || 'rwm' }));
  }
  const tmpfs = Object.entries((host.Tmpfs as Record<string, string> | null) ?? {}).map(([p, o]) => (o ? `${p}:${o}` : p));
  if (tmpfs.length) req.tmpfs = tmpfs;
  const cs = host.ConsoleSize as number[] | null;
  if (Array.isArray(cs) && (cs[0] || cs[1])) req.consoleSize = { rows: cs[0], cols: cs[1] };
  const aliases = Object.values((net.EndpointsConfig as Record<string, Obj> | null) ?? {}).flatMap((e) => (e?.Aliases as string[] | null) ?? []);
  if (aliases.length) req.networkAliases = aliases;
  return checkRequest(object(createContainerFields), { query: new URLSearchParams(), body: req, params: {} });
}

function refuseUnsupported(o: Obj, known: Set<string>, where: string): void {
  for (const [k, v] of Object.entries(o)) {
    if (known.has(k) || (where === 'Config' && (CLIENT_SIDE.has(k) || ECHOED.has(k))) || isZero(v) || DEFAULTS[`${where}.${k}`]?.(v)) continue;
    unsupported(where === 'Config' ? k : `${where}.${k}`);
  }
}

function unsupported(field: string): never {
  throw new SbxError('invalid_argument', `create container: ${field} is not supported by sbx`, { detail: { field, expected: 'absent or zero' } });
}

/** null, false, 0, "", and arrays/objects of nothing but those. */
export function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.every(isZero);
  if (typeof v === 'object') return Object.values(v as Obj).every(isZero);
  return false;
}

/** {"80/tcp": [{HostIp, HostPort}]} → sbx port mappings (HostIp defaults to 127.0.0.1, as `sbx run -p`). */
function portBindings(pb: Obj | null | undefined): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, list] of Object.entries(pb ?? {})) {
    const [p, proto = 'tcp'] = key.split('/');
    for (const b of (list as Obj[] | null) ?? [{}]) {
      out.push({ hostIp: (b.HostIp as string) || '127.0.0.1', hostPort: Number(b.HostPort || 0), containerPort: Number(p), protocol: proto as 'tcp' | 'udp' });
    }
  }
  return out;
}
