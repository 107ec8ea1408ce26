/**
 * A container's records under $SBX_ROOT/containers/<id>/: config.json (what it runs, fixed at
 * create), state.json (where it is in its life), `log` (every output byte, as log records: logfile.ts), and
 * the runtime's own files (hosts, resolv.conf, hostname, status, exit, pid, the rootfs mount
 * point). JSON files are replaced atomically.
 */
import { join } from 'node:path';
import { type ContainerState, type HealthConfig, type DeviceMapping, type NetworkMode, type PortMapping, type RestartPolicy, type Size } from '../../protocol/index.js';
import type { BindMount, Ulimit } from '../runtime/runtime.js';
import { readJSON, writeJSON } from '../util/fs.js';
import type { MountRecord } from './mounts.js';

export interface ContainerConfigRecord {
  id: string;
  name: string;
  created: string;
  /** As the user typed it. */
  image: string;
  /** Config digest (docker's image ID). */
  imageId: string;
  /** Every digest the image is known by (config, manifest, index): what rmi checks. */
  imageDigests?: string[];
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workdir: string;
  user: string;
  hostname: string;
  tty: boolean;
  openStdin: boolean;
  network: NetworkMode;
  /** Networks joined with `sbx network connect` beside `network` (absent: none). */
  networks?: string[];
  /** --network-alias, --add-host, --dns, --dns-search, --dns-option (absent: none given). */
  networkAliases?: string[];
  extraHosts?: string[];
  dns?: { servers: string[]; search: string[]; options: string[] };
  memory: number;
  pidsLimit: number;
  /** CPU quota in billionths of a CPU (--cpus × 1e9; `sbx update --cpus`); absent or 0: none. */
  nanoCpus?: number;
  /** --cpu-shares, --cpuset-cpus/-mems, --memory-swap (docker's resolved total: 2 × memory by default), --memory-reservation (resources.ts); absent: none. */
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  memorySwap?: number;
  memoryReservation?: number;
  /** --restart (protocol/restart.ts); absent: "no". */
  restartPolicy?: RestartPolicy;
  init: boolean;
  autoRemove: boolean;
  stopSignal: string;
  consoleSize?: Size;
  ports?: PortMapping[];
  /** -P was given (its ports are in `ports`). */
  publishAll?: boolean;
  /** --privileged, --cap-add, --cap-drop (normalized names), --device; absent in older records. */
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  devices?: DeviceMapping[];
  /** Host paths bound in (build RUN --mount only; not reachable through the API). */
  mounts?: BindMount[];
  /** -v, --mount and the image's VOLUMEs (containers/mounts.ts); -v strings as given (HostConfig.Binds). */
  volumes?: MountRecord[];
  binds?: string[];
  volumesFrom?: string[];
  /** --security-opt as given, and the seccomp choice it made (security.ts SecurityChoice). */
  securityOpt?: string[];
  seccompProfile?: string | null;
  /** Run options (run-options.ts): labels (the image's under --label's), --stop-timeout; absent when none. */
  labels?: Record<string, string>;
  stopTimeout?: number;
  readonlyRootfs?: boolean;
  shmSize?: number;
  groupAdd?: string[];
  ulimits?: Ulimit[];
  /** The health check in force: the request's over the image's (health.ts); absent: none. */
  healthcheck?: HealthConfig;
}

export interface ContainerStateRecord {
  status: ContainerState;
  pid: number;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  /** `sbx pause`: the running container's processes are frozen (absent: not paused). */
  paused?: boolean;
  /** Restarts by the restart policy since the user last started it (absent: 0). */
  restartCount?: number;
  /** The user stopped or killed it (docker's HasBeenManuallyStopped): no restart by policy, nor at sbxd start for unless-stopped. */
  manuallyStopped?: boolean;
  /** Exited, waiting for its restart policy's delay (containers/restart.ts). */
  restarting?: boolean;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function newState(): ContainerStateRecord {
  return { status: 'created', pid: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, exitCode: 0, error: '', oomKilled: false };
}

export const configPath = (dir: string): string => join(dir, 'config.json');
export const statePath = (dir: string): string => join(dir, 'state.json');
export const logPath = (dir: string): string => join(dir, 'log');

export async function readRecords(dir: string): Promise<{ config: ContainerConfigRecord; state: ContainerStateRecord }> {
  return { config: await readJSON(configPath(dir)), state: await readJSON(statePath(dir)) };
}

export async function writeConfig(dir: string, c: ContainerConfigRecord): Promise<void> { await writeJSON(configPath(dir), c); }
export async function writeState(dir: string, s: ContainerStateRecord): Promise<void> { await writeJSON(statePath(dir), s); }
