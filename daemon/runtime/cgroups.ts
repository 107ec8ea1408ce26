/**
 * Per-container cgroups: the interface and the factory that picks the host's mechanism. On a
 * unified (v2) host cgroups-v2.ts does the work; on a v1 or hybrid host, cgroups-v1.ts.
 * A limit asked for on a host without its controller is an `unavailable` error rather than a
 * silently unlimited container.
 */
import { v1Cgroups } from './cgroups-v1.js';
import { unifiedCgroups, unifiedRoot } from './cgroups-v2.js';

/** One devices rule in cgroup v1's devices.allow syntax: "TYPE MAJOR:MINOR ACCESS" ("c 1:3 rwm",
 * "c 136:* rwm", "b *:* m"), or "a" for every device. */
export type DeviceRule = string;

export interface CgroupLimits {
  memory?: number;
  pidsLimit?: number;
  /** CPU quota in billionths of a CPU (docker's NanoCpus, --cpus × 1e9): the CFS quota over a 100 ms period. */
  nanoCpus?: number;
  /** Relative CPU weight in docker's shares (2..262144; 1024 the default): v1 cpu.shares, v2 cpu.weight as runc converts it. */
  cpuShares?: number;
  /** CPUs and memory nodes the processes may use (cpuset syntax, "0-1"); "" in an update: all the parent's. */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Memory + swap in bytes (> memory), or -1 for unlimited swap; set only with `memory`. */
  memorySwap?: number;
  /** Soft limit in bytes: v1 memory.soft_limit_in_bytes, v2 memory.low. */
  memoryReservation?: number;
  /** The only devices the container's processes may open or mknod; everything else is denied.
   * Undefined leaves devices unrestricted. On a unified (v2) host it is not enforced here (v2 has
   * no devices files; the container's nodev /dev is what holds there). */
  devices?: DeviceRule[];
}

/** What `sbx update` changes on a running container; absent: unchanged, 0: no limit. */
export type ResourceUpdate = Omit<CgroupLimits, 'devices'>;

/** What the groups tell of a container now (`sbx stats`). */
export interface CgroupStats {
  /** Bytes in use without the inactive page cache (docker's "MEM USAGE"). */
  memoryUsage: number;
  /** The memory limit in bytes; 0 when there is none. */
  memoryLimit: number;
  /** Processes (tasks) in the group. */
  pids: number;
}

/**
 * A container's cgroups, implemented per mechanism: v1 controllers (cgroups-v1.ts) or the unified
 * hierarchy (cgroups-v2.ts). Every method takes the container id; groups live under sbx/<id>.
 */
export interface Cgroups {
  /** Create the groups and set the limits. Returns the directories a process must join.
   * @throws unavailable when a limit is asked for and the host lacks (or does not delegate) its controller */
  create(id: string, limits: CgroupLimits): Promise<string[]>;
  /** The existing directories a process exec'd into the container joins. */
  dirs(id: string): string[];
  /** Where one of those directories shows inside the container, under its /sys/fs/cgroup: the
   * controller's name on v1 ("memory"), "" for the unified hierarchy's one group. */
  viewName(dir: string): string;
  /** Stop every process of the container; resolves once all are stopped.
   * @throws failed_precondition when the container has no group (not running), unavailable on timeout */
  freeze(id: string): Promise<void>;
  /** Let them run again; a container without a group is left alone. */
  thaw(id: string): Promise<void>;
  isFrozen(id: string): Promise<boolean>;
  /** Whether the kernel killed a process of the container at its memory limit. */
  oomKilled(id: string): Promise<boolean>;
  /** Change the limits of a running container's groups; `pids` are its processes (moved into a group made now).
   * @throws failed_precondition when it has no groups (not running), unavailable when the host lacks the controller
   * or the kernel refuses the value (a memory limit below what is in use) */
  update(id: string, limits: ResourceUpdate, pids: number[]): Promise<void>;
  /** @throws failed_precondition when it has no groups */
  stats(id: string): Promise<CgroupStats>;
  /** Remove the groups; their processes must be gone (retries briefly while the kernel reaps).
   * @throws unavailable when a group stays busy */
  remove(id: string): Promise<void>;
}

/** The host's mechanism: the unified hierarchy when /sys/fs/cgroup is cgroup2, else v1. */
export function hostCgroups(): Cgroups {
  const root = unifiedRoot();
  return root ? unifiedCgroups(root) : v1Cgroups;
}
