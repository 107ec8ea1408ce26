/** The fixed part of docker's inspect HostConfig (protocol/containers.ts ContainerInspect). */
/**
 * HostConfig fields of docker's that sbx does not vary, with the values that say what sbx does:
 * its own log format ("local"), host cgroup namespace, a private IPC namespace, the runtime "sbx";
 * the rest docker's zero values (null for Go's nil pointers: OomKillDisable, MemorySwappiness).
 */
export interface FixedHostConfig {
  ContainerIDFile: string; LogConfig: { Type: string; Config: Record<string, string> }; VolumeDriver: string; CgroupnsMode: string;
  IpcMode: string; Cgroup: string; Links: null; OomScoreAdj: number; PidMode: string; UTSMode: string; UsernsMode: string; Runtime: string;
  Isolation: string; CgroupParent: string; BlkioWeight: number; CpuPeriod: number; CpuQuota: number; MemorySwappiness: null; OomKillDisable: null;
}

export const FIXED_HOST_CONFIG: FixedHostConfig = {
  ContainerIDFile: '', LogConfig: { Type: 'local', Config: {} }, VolumeDriver: '', CgroupnsMode: 'host', IpcMode: 'private', Cgroup: '', Links: null,
  OomScoreAdj: 0, PidMode: '', UTSMode: '', UsernsMode: '', Runtime: 'sbx', Isolation: '', CgroupParent: '', BlkioWeight: 0, CpuPeriod: 0, CpuQuota: 0,
  MemorySwappiness: null, OomKillDisable: null,
};
