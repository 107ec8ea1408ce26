/**
 * CPU and memory controls beyond --memory/--pids-limit, shared by create (run/create flags) and
 * update: docker's --cpus, --cpu-shares, --cpuset-cpus, --cpuset-mems, --memory-swap,
 * --memory-reservation, with docker's names, units and defaults. CreateContainerRequest and
 * UpdateRequest extend ResourceOptions; inspect's HostConfig gains ResourcesInspect.
 * In an update, absent leaves a value as it is and 0 ("" for the cpusets) lifts it.
 */
import { int, opt, str, uint, type Fields } from './validate.js';

export interface ResourceOptions {
  /** --cpus × 1e9: a CPU quota (cgroup cpu.max / cfs_quota_us over a 100 ms period); 0: none. */
  nanoCpus?: number;
  /** --cpu-shares: relative CPU weight (docker's 2..262144, default 1024); 0: the default. */
  cpuShares?: number;
  /** --cpuset-cpus: the CPUs the container may run on ("0-1", "0,1"); "": all. */
  cpusetCpus?: string;
  /** --cpuset-mems: the memory nodes it may use ("0"); "": all. */
  cpusetMems?: string;
  /** --memory-swap: memory + swap in bytes (needs a memory limit); -1: unlimited swap; 0: twice the memory limit (docker's default). */
  memorySwap?: number;
  /** --memory-reservation: a soft limit in bytes (cgroup memory.low / soft_limit_in_bytes); 0: none. */
  memoryReservation?: number;
}

export const resourceOptionFields: Fields<ResourceOptions> = {
  nanoCpus: opt(uint),
  cpuShares: opt(uint),
  cpusetCpus: opt(str),
  cpusetMems: opt(str),
  memorySwap: opt(int),
  memoryReservation: opt(uint),
};

/** What inspect's HostConfig shows of them (docker's zero values when unset). */
export interface ResourcesInspect {
  NanoCpus: number;
  CpuShares: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** docker shows what it keeps: 0 when not given, the given total (or -1) otherwise. */
  MemorySwap: number;
  MemoryReservation: number;
}

/** docker's cpuset syntax: comma-separated CPU numbers or ranges ("0-2,4"). */
export function isCpuset(v: string): boolean {
  return /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v);
}

/** The numbers a cpuset names ("0-2,4" → [0,1,2,4]); undefined when malformed or a range runs backwards. */
export function cpusetMembers(v: string): number[] | undefined {
  if (!isCpuset(v)) return undefined;
  const out = new Set<number>();
  for (const part of v.split(',')) {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    if (b! < a || b! - a > 4096) return undefined;
    for (let i = a; i <= b!; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}
