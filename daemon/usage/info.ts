/**
 * `sbx info` (docker's GET /info, the fields sbx has): container counts by state, images, the
 * snapshotter, the cgroup mechanism, and the host's kernel, OS, architecture, CPUs and memory.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, hostname, machine, release, totalmem } from 'node:os';
import type { SystemInfo } from '../../protocol/index.js';
import { listContainers } from '../containers/describe.js';
import type { ContainerManager } from '../containers/manager.js';
import type { ImageDeps } from '../images/deps.js';
import { listStoredImages } from '../images/resolve.js';
import { unifiedRoot } from '../runtime/cgroups-v2.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';

export interface InfoDeps extends ImageDeps {
  containers: ContainerManager;
  snapshotter: Snapshotter;
}

/** /etc/os-release's PRETTY_NAME, as docker's operatingsystem package reads it. */
async function operatingSystem(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const m = /^PRETTY_NAME=("?)(.*)\1$/m.exec(text);
  return m?.[2] || 'Linux';
}

export async function systemInfo(s: InfoDeps, version: string): Promise<SystemInfo> {
  const rows = listContainers(s.containers, true);
  const running = rows.filter((r) => r.state === 'running').length;
  const paused = rows.filter((r) => r.state === 'paused').length;
  return {
    Containers: rows.length, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: rows.length - running - paused,
    Images: new Set((await listStoredImages(s)).map((i) => i.configDigest)).size,
    ServerVersion: version, Driver: s.snapshotter.driver, CgroupDriver: 'cgroupfs', CgroupVersion: unifiedRoot() ? '2' : '1',
    KernelVersion: release(), OperatingSystem: await operatingSystem(), OSType: 'linux', Architecture: machine(),
    NCPU: availableParallelism(), MemTotal: totalmem(), Name: hostname(), SbxRootDir: s.config.root,
  };
}
