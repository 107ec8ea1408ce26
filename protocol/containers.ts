/**
 * Containers: create/start/stop/kill/wait/rm/list/inspect/logs, exec, and the sessions whose
 * output streams over sbx.stream.v1 (protocol/stream.ts).
 *
 * A session is one process with its stdio: the container's main process (session id = the
 * container id) or one exec (session id "<container id>.<n>"). Output is retained from offset 0,
 * so create → attach → start, or start → attach, lose nothing.
 */
import { channel, route } from './api.js';
import { STREAM_SUBPROTOCOL, type ExitInfo, type Offsets, type Size } from './stream.js';
import { mountRequests, type MountRequest } from './mounts.js';
import { restartPolicyType, type RestartPolicyRequest } from './restart.js';
import { arrayOf, bool, int, intIn, object, oneOf, opt, str, type Fields } from './validate.js';
import { runOptionFields, type RunOptions } from './run-options.js';
import { resourceOptionFields, type ResourceOptions } from './resources.js';
import { healthOptionFields, type HealthOptions, type HealthStatus } from './health.js';
import type { ContainerInspect } from './container-inspect.js';

/** 'paused' is shown (ps, inspect) for a running container whose processes are frozen; records keep 'running'. */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing';
/**
 * bridge (the default: sbx's default network, outbound through the host), none (loopback only),
 * host (the host's network namespace), container:NAME|ID (that container's), or a user network's
 * name or id (`sbx network create`).
 */
export type NetworkMode = string;

/**
 * -p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]; HOST_IP defaults to 127.0.0.1 (sbx publishes
 * on loopback unless told otherwise); hostPort 0 = a free port chosen at start; protocol absent = tcp.
 */
export interface PortMapping { hostIp: string; hostPort: number; containerPort: number; protocol?: 'tcp' | 'udp' }

/** --device HOST[:CONTAINER[:PERMS]], as docker inspect shows it (HostConfig.Devices). */
export interface DeviceMapping {
  /** A device node on the daemon's host. */
  pathOnHost: string;
  /** Absolute path of the node inside the container (default: pathOnHost). */
  pathInContainer: string;
  /** Subset of "rwm" (read, write, mknod) the devices cgroup allows; default "rwm". */
  cgroupPermissions: string;
}

const port = intIn(1, 65535);
const portMapping = object<PortMapping>({ hostIp: str, hostPort: intIn(0, 65535), containerPort: port, protocol: opt(oneOf('tcp', 'udp')) },
  'a port mapping {hostIp, hostPort, containerPort, protocol?}', 'port mappings');
const consoleSize = object<Size>({ cols: intIn(0, 65535), rows: intIn(0, 65535) }, 'a size {cols, rows}', 'sizes');
const strings = arrayOf(str);
const deviceMapping = object<DeviceMapping>({ pathOnHost: str, pathInContainer: str, cgroupPermissions: str }, 'a device mapping {pathOnHost, pathInContainer, cgroupPermissions}', 'device mappings');

/** RunOptions (run-options.ts): labels, stop signal/timeout and the other docker run flags, as one group;
 * ResourceOptions (resources.ts): the CPU and memory controls beyond memory and pidsLimit;
 * HealthOptions (health.ts): the health check. */
export interface CreateContainerRequest extends RunOptions, ResourceOptions, HealthOptions {
  /** Anything docker accepts as an image: name[:tag], name@digest, an ID or ID prefix. */
  image: string;
  name?: string;
  /** Replaces the image's CMD (docker's positional args after the image). */
  cmd?: string[];
  /** Replaces the image's ENTRYPOINT; [] clears it (docker's --entrypoint ""). */
  entrypoint?: string[];
  /** KEY=VALUE; a bare KEY is taken from the caller's environment by the CLI. */
  env?: string[];
  workdir?: string;
  /** UID[:GID] or a user name from the image's /etc/passwd. */
  user?: string;
  hostname?: string;
  tty?: boolean;
  openStdin?: boolean;
  network?: NetworkMode;
  /** --network-alias: more names of the container on a user network. */
  networkAliases?: string[];
  /** --add-host NAME:IP (IP may be host-gateway: the host's loopback as the container reaches it). */
  extraHosts?: string[];
  /** --dns, --dns-search, --dns-option: replace the host's lines of that kind in /etc/resolv.conf. */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** Memory limit in bytes. */
  memory?: number;
  pidsLimit?: number;
  /** tini as PID 1 (reaps orphans, forwards signals). */
  init?: boolean;
  /** Remove the container when its process exits (docker run --rm). */
  autoRemove?: boolean;
  consoleSize?: Size;
  ports?: PortMapping[];
  /** -P: publish every port the image EXPOSEs on a free host port (127.0.0.1). */
  publishAll?: boolean;
  /** --privileged: all capabilities, every host device, no seccomp filter, no masked paths. */
  privileged?: boolean;
  /** Capabilities added to docker's default set: names with or without CAP_, any case, or ALL. */
  capAdd?: string[];
  /** Capabilities dropped from it (same names; ALL keeps only capAdd). */
  capDrop?: string[];
  /** Host device nodes made available in the container. */
  devices?: DeviceMapping[];
  /**
   * docker's --security-opt: "seccomp=unconfined", "seccomp=PROFILE.json" (with the file's JSON
   * text in seccompProfile), "seccomp={...}" (the JSON itself), "no-new-privileges[=true]"
   * (always on). Anything else is refused (400, naming the value).
   */
  securityOpt?: string[];
  /** A seccomp profile in docker's JSON format, as text (what the CLI read from PROFILE.json). */
  seccompProfile?: string;
  /** docker's -v strings (HostConfig.Binds), parsed by protocol/mounts.ts parseBind; a missing host directory is created. */
  binds?: string[];
  /** docker's --mount (HostConfig.Mounts): a bind's source must exist. */
  mounts?: MountRequest[];
  /** docker's --tmpfs PATH[:OPTIONS] strings (HostConfig.Tmpfs), parsed by protocol/mounts.ts parseTmpfs. */
  tmpfs?: string[];
  /** --volumes-from CONTAINER[:ro|rw]: that container's binds and volumes, at the same targets. */
  volumesFrom?: string[];
  /** --restart (protocol/restart.ts); not with autoRemove. */
  restartPolicy?: RestartPolicyRequest;
}

/** CreateContainerRequest's schema, checked before the daemon sees the request: one line per field. */
export const createContainerFields: Fields<CreateContainerRequest> = {
  image: str,
  name: opt(str),
  cmd: opt(strings),
  entrypoint: opt(strings),
  env: opt(strings),
  workdir: opt(str),
  user: opt(str),
  hostname: opt(str),
  tty: opt(bool),
  openStdin: opt(bool),
  network: opt(str),
  networkAliases: opt(strings),
  extraHosts: opt(strings),
  dns: opt(strings),
  dnsSearch: opt(strings),
  dnsOptions: opt(strings),
  memory: opt(int),
  pidsLimit: opt(int),
  init: opt(bool),
  autoRemove: opt(bool),
  consoleSize: opt(consoleSize),
  ports: opt(arrayOf(portMapping)),
  publishAll: opt(bool),
  privileged: opt(bool),
  capAdd: opt(strings),
  capDrop: opt(strings),
  devices: opt(arrayOf(deviceMapping)),
  securityOpt: opt(strings),
  seccompProfile: opt(str),
  binds: opt(strings),
  mounts: mountRequests,
  tmpfs: opt(strings),
  volumesFrom: opt(strings),
  restartPolicy: opt(restartPolicyType),
  ...runOptionFields,
  ...resourceOptionFields,
  ...healthOptionFields,
};

export interface CreateContainerResponse { id: string; name: string; warnings: string[] }

/** One row of `sbx ps`. */
export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  /** The command as docker shows it: entrypoint + cmd joined with spaces. */
  command: string;
  created: string;
  state: ContainerState;
  /** docker's status text: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
  status: string;
  exitCode?: number;
  ports?: PortMapping[];
  /** While it runs with a health check (health.ts). */
  health?: HealthStatus;
  /** Its labels (absent: none). */
  labels?: Record<string, string>;
  /** docker ps's Mounts: each mount's volume name, or its source for a bind (absent: none). */
  mounts?: string[];
  /** How many of its mounts are local volumes (absent: none). */
  localVolumes?: number;
  /** The networks it is (or will be, once started) on, sorted (absent: none). */
  networks?: string[];
  /** Only when list asked for sizes: the bytes of its writable layer (docker's SizeRw: what it added or changed over its image). */
  sizeRw?: number;
  /** Only when list asked for sizes: sizeRw plus its image's bytes (docker's SizeRootFs, ps -s's "virtual"; sizeRw alone when the image is gone). */
  sizeRootFs?: number;
}

export interface ExecRequest {
  id: string;
  cmd: string[];
  tty?: boolean;
  openStdin?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  consoleSize?: Size;
}

export const execFields: Fields<ExecRequest> = {
  id: str,
  cmd: strings,
  tty: opt(bool),
  openStdin: opt(bool),
  env: opt(strings),
  workdir: opt(str),
  user: opt(str),
  consoleSize: opt(consoleSize),
};

export interface SessionInfo {
  session: string;
  container: string;
  tty: boolean;
  state: 'created' | 'running' | 'exited';
  size?: Size;
  offsets: Offsets;
  exit?: ExitInfo;
}

export interface WaitResult { StatusCode: number; Error?: { Message: string } }

export const Containers = {
  create: route<CreateContainerRequest, CreateContainerResponse>('POST', '/v1/containers', 'json', createContainerFields),
  /**
   * filters: docker's `ps --filter` strings (protocol/filters.ts); a status filter lists stopped containers too.
   * size: each row's sizeRw and sizeRootFs (docker's ps -s; a walk of every writable layer, so only on request).
   */
  list: route<{ all?: boolean; filters?: string[]; size?: boolean }, ContainerSummary[]>('GET', '/v1/containers', 'json', { all: opt(bool), filters: opt(arrayOf(str)), size: opt(bool) }),
  inspect: route<{ id: string }, ContainerInspect>('GET', '/v1/containers/:id/json', 'json', { id: str }),
  start: route<{ id: string }, void>('POST', '/v1/containers/:id/start', 'json', { id: str }),
  /** The stop signal (--stop-signal, the image's STOPSIGNAL, SIGTERM), then SIGKILL after `timeout` seconds (default --stop-timeout, else 10). */
  stop: route<{ id: string; timeout?: number }, void>('POST', '/v1/containers/:id/stop', 'json', { id: str, timeout: opt(intIn(0, 2 ** 31 - 1)) }),
  kill: route<{ id: string; signal?: string }, void>('POST', '/v1/containers/:id/kill', 'json', { id: str, signal: opt(str) }),
  /** Blocks until the container is not running; answers its exit status. */
  wait: route<{ id: string }, WaitResult>('POST', '/v1/containers/:id/wait', 'json', { id: str }),
  /** volumes: also its anonymous volumes (docker's rm -v). */
  remove: route<{ id: string; force?: boolean; volumes?: boolean }, void>('DELETE', '/v1/containers/:id', 'json', { id: str, force: opt(bool), volumes: opt(bool) }),
  /** Body: log records (protocol/stream.ts encodeLogRecord), stdout and stderr in order. */
  /** since/until: "SECONDS[.NANOS]" (protocol/time.ts parseTimeArg); timestamps/details: docker's prefixes (containers/logs.ts). */
  logs: route<LogsRequest, void>('GET', '/v1/containers/:id/logs', 'download',
    { id: str, follow: opt(bool), tail: opt(int), since: opt(str), until: opt(str), timestamps: opt(bool), details: opt(bool) }),
  exec: route<ExecRequest, { session: string }>('POST', '/v1/containers/:id/exec', 'json', execFields),
} as const;

export interface LogsRequest { id: string; follow?: boolean; tail?: number; since?: string; until?: string; timestamps?: boolean; details?: boolean }

export const Sessions = {
  inspect: route<{ session: string }, SessionInfo>('GET', '/v1/sessions/:session', 'json', { session: str }),
  resize: route<{ session: string; cols: number; rows: number }, void>('POST', '/v1/sessions/:session/resize', 'json',
    { session: str, cols: intIn(1, 1000), rows: intIn(1, 1000) }),
  /** Blocks until the session's process has exited. */
  wait: route<{ session: string }, ExitInfo>('POST', '/v1/sessions/:session/wait', 'json', { session: str }),
  /** WebSocket, subprotocol sbx.stream.v1. */
  attach: channel<{ session: string }>('/v1/sessions/:session/attach', STREAM_SUBPROTOCOL),
} as const;
