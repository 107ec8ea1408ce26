/**
 * Per-container groups on a v1 or hybrid host (this machine kind: v1 controllers under
 * /sys/fs/cgroup/<controller>): memory (limit, memsw, soft limit, OOM count), pids (limit), freezer
 * (commit --pause) and devices (allow list) under sbx/<id>; cpu (CFS quota, shares) and cpuset only
 * once one of their limits is asked for.
 * Controllers that are missing are skipped; a limit asked for on a host without its controller
 * is an `unavailable` error.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SbxError } from '../../protocol/index.js';
import { totalmem } from 'node:os';
import type { CgroupLimits, CgroupStats, Cgroups, ResourceUpdate } from './cgroups.js';

const BASE = '/sys/fs/cgroup';
const PARENT = 'sbx';
export type Controller = 'memory' | 'pids' | 'freezer' | 'devices' | 'cpu' | 'cpuset';
/** Made for every container; 'cpu' and 'cpuset' only with their limits (every group a process joins costs a start). */
const CONTROLLERS: Controller[] = ['memory', 'pids', 'freezer', 'devices'];
const ALL: Controller[] = [...CONTROLLERS, 'cpu', 'cpuset'];
const CFS_PERIOD_US = 100_000;

function dir(ctrl: Controller, id: string): string { return join(BASE, ctrl, PARENT, id); }
function present(ctrl: Controller): boolean { return existsSync(join(BASE, ctrl, 'cgroup.procs')); }

/** Where sbx mounts its named hierarchy that switches the kernel to favour cgroup migrations. */
export const FAVOR_DYNMODS_MOUNT = '/run/sbx/cgroup-favordynmods';

/**
 * Writing a pid into cgroup.procs takes the kernel's threadgroup rwsem for writing, which waits
 * for an RCU grace period: ~15 ms on this machine kind, the largest single cost of a container
 * start (runc pays it too). Any v1 hierarchy mounted with `favordynmods` keeps that rwsem in the
 * mode where writers need no grace period, for every hierarchy, while it stays mounted; forks
 * pay a little more (not measurable here: bench/README.md). Returns what it did; never throws.
 */
export async function favorDynamicModifications(): Promise<'already' | 'mounted' | 'unsupported'> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  if (mounts.split('\n').some((l) => / - cgroup2? /.test(l) && /[ ,]favordynmods\b/.test(l))) return 'already';
  if (!present('freezer')) return 'unsupported'; // not a cgroup v1 host: sbx's groups are v1
  try {
    await mkdir(FAVOR_DYNMODS_MOUNT, { recursive: true, mode: 0o755 });
    const r = spawnSync('mount', ['-t', 'cgroup', '-o', 'none,name=sbx-favordynmods,favordynmods', 'cgroup', FAVOR_DYNMODS_MOUNT]);
    return r.status === 0 ? 'mounted' : 'unsupported'; // kernels before 6.0 refuse the option
  } catch {
    return 'unsupported';
  }
}

/** Create the container's groups, set limits; returns the directories a process must join. */
async function createCgroups(id: string, limits: CgroupLimits): Promise<string[]> {
  const dirs: string[] = [];
  for (const ctrl of CONTROLLERS) {
    if (!present(ctrl)) {
      if (ctrl === 'memory' && (limits.memory || limits.memoryReservation)) throw new SbxError('unavailable', `memory limit for container ${id}: no memory cgroup controller on this host`);
      if (ctrl === 'pids' && limits.pidsLimit) throw new SbxError('unavailable', `pids limit for container ${id}: no pids cgroup controller on this host`);
      continue;
    }
    const d = dir(ctrl, id);
    await mkdir(d, { recursive: true });
    dirs.push(d);
  }
  if (limits.nanoCpus || limits.cpuShares) dirs.push(await lazyGroup('cpu', id));
  if (limits.cpusetCpus || limits.cpusetMems) dirs.push(await lazyGroup('cpuset', id));
  try {
    if (limits.nanoCpus) await setQuota(id, limits.nanoCpus);
    if (limits.cpuShares) await writeFile(join(dir('cpu', id), 'cpu.shares'), String(limits.cpuShares));
    if (limits.cpusetCpus || limits.cpusetMems) await setCpuset(id, limits);
    if (limits.memory && present('memory')) {
      const d = dir('memory', id);
      await writeFile(join(d, 'memory.limit_in_bytes'), String(limits.memory));
      // memory + swap; without --memory-swap no swapping around the limit
      if (existsSync(join(d, 'memory.memsw.limit_in_bytes'))) await writeFile(join(d, 'memory.memsw.limit_in_bytes'), String(limits.memorySwap ?? limits.memory));
    }
    if (limits.memoryReservation && present('memory')) await writeFile(join(dir('memory', id), 'memory.soft_limit_in_bytes'), String(limits.memoryReservation));
    if (limits.pidsLimit && present('pids')) await writeFile(join(dir('pids', id), 'pids.max'), String(limits.pidsLimit));
    if (limits.devices && present('devices')) {
      // before any process joins: deny all (clears the inherited "a *:* rwm"), then allow the list
      // one write(2) per rule on one fd: a dozen syscalls, no thread-pool round trip each
      const d = dir('devices', id);
      await writeFile(join(d, 'devices.deny'), 'a');
      const fd = openSync(join(d, 'devices.allow'), 'w');
      try { for (const rule of limits.devices) writeSync(fd, rule); } finally { closeSync(fd); }
    }
  } catch (e) {
    throw new SbxError('unavailable', `set cgroup limits of container ${id}: ${(e as Error).message}`, { cause: e });
  }
  return dirs;
}

/** The groups a process of the container joins (exec). */
function cgroupDirs(id: string): string[] {
  return ALL.filter(present).map((c) => dir(c, id)).filter((d) => existsSync(d));
}

/** The controller's name: /sys/fs/cgroup/<ctrl>/sbx/<id> shows as /sys/fs/cgroup/<ctrl> inside. */
function viewName(d: string): string {
  return d.slice(BASE.length + 1).split('/')[0]!;
}

/** A group made only when its limits are asked for (cpu, cpuset); cpuset's starts with the parent's CPUs and nodes. */
async function lazyGroup(ctrl: 'cpu' | 'cpuset', id: string): Promise<string> {
  if (!present(ctrl)) throw new SbxError('unavailable', `${ctrl === 'cpu' ? 'cpu quota or shares' : 'cpuset'} for container ${id}: no ${ctrl} cgroup controller on this host`);
  const d = dir(ctrl, id);
  await mkdir(d, { recursive: true });
  // a v1 cpuset group starts empty and takes no process until both files are set
  if (ctrl === 'cpuset') for (const f of ['cpuset.cpus', 'cpuset.mems']) await inherit(dirname(d), f).then(() => inherit(d, f));
  return d;
}

async function inherit(d: string, file: string): Promise<void> {
  if ((await readFile(join(d, file), 'utf8')).trim()) return;
  await writeFile(join(d, file), (await readFile(join(dirname(d), file), 'utf8')).trim());
}

/** "" or absent: the parent's set. */
async function setCpuset(id: string, l: Pick<CgroupLimits, 'cpusetCpus' | 'cpusetMems'>): Promise<void> {
  const d = dir('cpuset', id);
  for (const [file, v] of [['cpuset.cpus', l.cpusetCpus], ['cpuset.mems', l.cpusetMems]] as const) {
    if (v === undefined) continue;
    await writeFile(join(d, file), v || (await readFile(join(dirname(d), file), 'utf8')).trim());
  }
}

/** nanoCpus 0: no quota. */
async function setQuota(id: string, nanoCpus: number): Promise<void> {
  const d = dir('cpu', id);
  await writeFile(join(d, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
  await writeFile(join(d, 'cpu.cfs_quota_us'), nanoCpus ? String(Math.max(1000, Math.round(nanoCpus * CFS_PERIOD_US / 1e9))) : '-1');
}

/** A lazy group made by an update: the running processes are moved in. */
async function lazyJoin(ctrl: 'cpu' | 'cpuset', id: string, pids: number[]): Promise<void> {
  if (existsSync(dir(ctrl, id))) return;
  const d = await lazyGroup(ctrl, id);
  // twice: a process forked by one not yet moved lands in the parent group
  for (let i = 0; i < 2; i++) for (const pid of pids) await writeFile(join(d, 'cgroup.procs'), String(pid)).catch(() => undefined);
}

async function update(id: string, limits: ResourceUpdate, pids: number[]): Promise<void> {
  if (!existsSync(dir('freezer', id)) && !existsSync(dir('memory', id))) throw new SbxError('failed_precondition', `update container ${id}: it has no cgroups (not running?)`);
  const noMemory = (): SbxError => new SbxError('unavailable', `memory limit for container ${id}: no memory cgroup controller on this host`);
  try {
    if (limits.memory !== undefined || limits.memorySwap !== undefined) {
      if (!present('memory')) throw noMemory();
      const d = dir('memory', id);
      const sw = join(d, 'memory.memsw.limit_in_bytes');
      // memsw may never be below the limit: lift it, set the limit, then set it
      if (existsSync(sw)) await writeFile(sw, '-1');
      if (limits.memory !== undefined) await writeFile(join(d, 'memory.limit_in_bytes'), limits.memory ? String(limits.memory) : '-1');
      const limit = limits.memory ?? Number((await readFile(join(d, 'memory.limit_in_bytes'), 'utf8')).trim());
      const swap = limits.memorySwap ?? limit;
      if (existsSync(sw) && limits.memory !== 0 && swap > 0) await writeFile(sw, String(swap));
    }
    if (limits.memoryReservation !== undefined) {
      if (!present('memory')) throw noMemory();
      await writeFile(join(dir('memory', id), 'memory.soft_limit_in_bytes'), limits.memoryReservation ? String(limits.memoryReservation) : '-1');
    }
    if (limits.pidsLimit !== undefined) {
      if (!present('pids')) throw new SbxError('unavailable', `pids limit for container ${id}: no pids cgroup controller on this host`);
      await writeFile(join(dir('pids', id), 'pids.max'), limits.pidsLimit ? String(limits.pidsLimit) : 'max');
    }
    if ((limits.nanoCpus || limits.cpuShares) || ((limits.nanoCpus !== undefined || limits.cpuShares !== undefined) && existsSync(dir('cpu', id)))) {
      await lazyJoin('cpu', id, pids);
      if (limits.nanoCpus !== undefined) await setQuota(id, limits.nanoCpus);
      if (limits.cpuShares !== undefined) await writeFile(join(dir('cpu', id), 'cpu.shares'), String(limits.cpuShares || 1024));
    }
    if (limits.cpusetCpus || limits.cpusetMems || ((limits.cpusetCpus !== undefined || limits.cpusetMems !== undefined) && existsSync(dir('cpuset', id)))) {
      await lazyJoin('cpuset', id, pids);
      await setCpuset(id, limits);
    }
  } catch (e) {
    if (e instanceof SbxError) throw e;
    throw new SbxError('unavailable', `update container ${id}: ${(e as Error).message}`, { cause: e });
  }
}

async function stats(id: string): Promise<CgroupStats> {
  const read = (ctrl: Controller, file: string): Promise<string> => readFile(join(dir(ctrl, id), file), 'utf8').catch(() => '');
  if (!existsSync(dir('freezer', id)) && !existsSync(dir('memory', id))) throw new SbxError('failed_precondition', `stats of container ${id}: it has no cgroups (not running?)`);
  const usage = Number((await read('memory', 'memory.usage_in_bytes')).trim() || 0);
  const inactive = Number(/^total_inactive_file (\d+)$/m.exec(await read('memory', 'memory.stat'))?.[1] ?? 0);
  const limit = Number((await read('memory', 'memory.limit_in_bytes')).trim() || 0);
  return {
    memoryUsage: Math.max(0, usage - inactive),
    // "no limit" is a huge number in v1: docker shows the host's memory then
    memoryLimit: limit > 0 && limit < totalmem() ? limit : 0,
    pids: Number((await read('pids', 'pids.current')).trim() || 0),
  };
}

async function freezerState(id: string): Promise<string> {
  return (await readFile(join(dir('freezer', id), 'freezer.state'), 'utf8')).trim();
}

async function freeze(id: string): Promise<void> {
  if (!present('freezer') || !existsSync(dir('freezer', id))) throw new SbxError('failed_precondition', `freeze container ${id}: it has no freezer cgroup (not running?)`);
  await writeFile(join(dir('freezer', id), 'freezer.state'), 'FROZEN');
  for (let i = 0; i < 500; i++) {
    if ((await freezerState(id)) === 'FROZEN') return;
    await new Promise((r) => setTimeout(r, 2));
    await writeFile(join(dir('freezer', id), 'freezer.state'), 'FROZEN');
  }
  throw new SbxError('unavailable', `freeze container ${id}: processes did not stop in time`);
}

async function thaw(id: string): Promise<void> {
  if (!present('freezer') || !existsSync(dir('freezer', id))) return;
  await writeFile(join(dir('freezer', id), 'freezer.state'), 'THAWED');
}

async function isFrozen(id: string): Promise<boolean> {
  if (!present('freezer') || !existsSync(dir('freezer', id))) return false;
  return (await freezerState(id)) !== 'THAWED';
}

async function oomKilled(id: string): Promise<boolean> {
  try {
    const s = await readFile(join(dir('memory', id), 'memory.oom_control'), 'utf8');
    const m = /oom_kill (\d+)/.exec(s);
    return m ? Number(m[1]) > 0 : false;
  } catch { return false; }
}

/** Remove the groups; processes must be gone (retries briefly while the kernel reaps them). */
async function removeCgroups(id: string): Promise<void> {
  for (const ctrl of ALL) {
    const d = dir(ctrl, id);
    if (!existsSync(d)) continue;
    if (ctrl === 'freezer') await writeFile(join(d, 'freezer.state'), 'THAWED').catch(() => undefined);
    for (let i = 0; ; i++) {
      try { await rmdir(d); break; } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (i >= 100) throw new SbxError('unavailable', `remove cgroup ${d}: ${(e as Error).message}`, { cause: e });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

export const v1Cgroups: Cgroups = {
  create: createCgroups, dirs: cgroupDirs, viewName, freeze, thaw, isFrozen, oomKilled, remove: removeCgroups, update, stats,
};
