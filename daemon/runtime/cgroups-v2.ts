/**
 * Per-container groups on the unified hierarchy (cgroup v2: Debian 12's default), one directory
 * `sbx/<id>` under the cgroup2 mount (/sys/fs/cgroup on a unified host). memory.max with
 * memory.swap.max (swap beyond the limit: 0 unless --memory-swap says more), memory.low (the
 * reservation), pids.max, and the built-in freezer (cgroup.freeze), which needs no controller;
 * cpu.max for a CPU quota, cpu.weight from docker's shares (runc's conversion), cpuset.cpus and
 * cpuset.mems. A limit whose controller the host does
 * not delegate is an `unavailable` error, as on v1. Devices: v2 has no devices files (runc
 * attaches a BPF device program instead); sbx does not, so `limits.devices` is not enforced
 * here: the container's nodev /dev with only the allowed nodes bound in (init.c) is what holds.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SbxError } from '../../protocol/index.js';
import type { CgroupLimits, CgroupStats, Cgroups, ResourceUpdate } from './cgroups.js';

/** /sys/fs/cgroup when it is a cgroup2 mount (a unified host), else undefined. */
export function unifiedRoot(): string | undefined {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : undefined;
}

/** The groups on the cgroup2 hierarchy mounted at `root`. */
export function unifiedCgroups(root: string): Cgroups {
  return {
    create: (id, limits) => create(root, id, limits),
    dirs: (id) => dirs(root, id),
    viewName: () => '',
    freeze: (id) => freeze(root, id),
    thaw: (id) => thaw(root, id),
    isFrozen: (id) => isFrozen(root, id),
    oomKilled: (id) => oomKilled(root, id),
    remove: (id) => remove(root, id),
    update: (id, limits) => update(root, id, limits),
    stats: (id) => stats(root, id),
  };
}

const parent = (root: string): string => join(root, 'sbx');
const group = (root: string, id: string): string => join(parent(root), id);

async function controllers(dir: string): Promise<string[]> {
  return (await readFile(join(dir, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
}

/** Delegate memory, pids, cpu and cpuset down to sbx/ where the host offers them (best effort: a host may not). */
async function prepareParent(root: string): Promise<void> {
  await mkdir(parent(root), { recursive: true });
  for (const dir of [root, parent(root)]) {
    const offered = (await controllers(dir)).filter((c) => c === 'memory' || c === 'pids' || c === 'cpu' || c === 'cpuset');
    const enabled = (await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
    const missing = offered.filter((c) => !enabled.includes(c));
    if (missing.length) await writeFile(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' ')).catch(() => undefined);
  }
}

async function create(root: string, id: string, limits: CgroupLimits): Promise<string[]> {
  await prepareParent(root);
  const d = group(root, id);
  await mkdir(d, { recursive: true });
  try {
    await setLimits(root, id, limits, 'set cgroup limits of');
  } catch (e) {
    await rmdir(d).catch(() => undefined);
    throw e;
  }
  return [d];
}

/** Absent: unchanged; 0: no limit (an update), where create never writes a 0. */
async function setLimits(root: string, id: string, limits: ResourceUpdate, what: string): Promise<void> {
  const d = group(root, id);
  const have = await controllers(d);
  const need = (ctrl: string, kind: string): void => {
    if (!have.includes(ctrl)) throw new SbxError('unavailable', `${kind} for container ${id}: the host does not delegate the ${ctrl} controller to ${parent(root)}`);
  };
  try {
    if (limits.memory !== undefined) {
      need('memory', 'memory limit');
      await writeFile(join(d, 'memory.max'), limits.memory ? String(limits.memory) : 'max');
      // v2 counts swap apart: what --memory-swap allows beyond the limit (none without it)
      const swap = !limits.memory || limits.memorySwap === -1 ? 'max' : String(Math.max(0, (limits.memorySwap ?? limits.memory) - limits.memory));
      if (existsSync(join(d, 'memory.swap.max'))) await writeFile(join(d, 'memory.swap.max'), swap);
    }
    if (limits.memoryReservation !== undefined) {
      need('memory', 'memory reservation');
      await writeFile(join(d, 'memory.low'), String(limits.memoryReservation));
    }
    if (limits.pidsLimit !== undefined) {
      need('pids', 'pids limit');
      await writeFile(join(d, 'pids.max'), limits.pidsLimit ? String(limits.pidsLimit) : 'max');
    }
    if (limits.nanoCpus !== undefined) {
      need('cpu', 'cpu quota');
      await writeFile(join(d, 'cpu.max'), limits.nanoCpus ? `${Math.max(1000, Math.round(limits.nanoCpus * 100_000 / 1e9))} 100000` : 'max 100000');
    }
    if (limits.cpuShares !== undefined) {
      need('cpu', 'cpu shares');
      await writeFile(join(d, 'cpu.weight'), String(cpuWeight(limits.cpuShares)));
    }
    for (const [file, v] of [['cpuset.cpus', limits.cpusetCpus], ['cpuset.mems', limits.cpusetMems]] as const) {
      if (v === undefined) continue;
      need('cpuset', 'cpuset');
      await writeFile(join(d, file), v);
    }
  } catch (e) {
    if (e instanceof SbxError) throw e;
    throw new SbxError('unavailable', `${what} container ${id}: ${(e as Error).message}`, { cause: e });
  }
}

/** runc's shares → weight: 2..262144 onto 1..10000 (1024 → 39); 0, the default, → 100. */
export function cpuWeight(shares: number): number {
  if (!shares) return 100;
  const s = Math.min(262144, Math.max(2, shares));
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

async function update(root: string, id: string, limits: ResourceUpdate): Promise<void> {
  if (!existsSync(join(group(root, id), 'cgroup.procs'))) throw new SbxError('failed_precondition', `update container ${id}: it has no cgroup (not running?)`);
  await setLimits(root, id, limits, 'update');
}

async function stats(root: string, id: string): Promise<CgroupStats> {
  const d = group(root, id);
  if (!existsSync(join(d, 'cgroup.procs'))) throw new SbxError('failed_precondition', `stats of container ${id}: it has no cgroup (not running?)`);
  const read = (f: string): Promise<string> => readFile(join(d, f), 'utf8').catch(() => '');
  const usage = Number((await read('memory.current')).trim() || 0);
  const inactive = Number(/^inactive_file (\d+)$/m.exec(await read('memory.stat'))?.[1] ?? 0);
  const max = (await read('memory.max')).trim();
  const pids = (await read('cgroup.procs')).split('\n').filter(Boolean).length;
  return { memoryUsage: Math.max(0, usage - inactive), memoryLimit: /^\d+$/.test(max) ? Number(max) : 0, pids: Number((await read('pids.current')).trim() || pids) };
}

function dirs(root: string, id: string): string[] {
  const d = group(root, id);
  return existsSync(d) ? [d] : [];
}

async function frozen(d: string): Promise<boolean> {
  return /^frozen 1$/m.test(await readFile(join(d, 'cgroup.events'), 'utf8'));
}

async function freeze(root: string, id: string): Promise<void> {
  const d = group(root, id);
  if (!existsSync(join(d, 'cgroup.freeze'))) throw new SbxError('failed_precondition', `freeze container ${id}: it has no cgroup (not running?)`);
  await writeFile(join(d, 'cgroup.freeze'), '1');
  for (let i = 0; i < 500; i++) {
    if (await frozen(d)) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new SbxError('unavailable', `freeze container ${id}: processes did not stop in time`);
}

async function thaw(root: string, id: string): Promise<void> {
  const f = join(group(root, id), 'cgroup.freeze');
  if (existsSync(f)) await writeFile(f, '0');
}

async function isFrozen(root: string, id: string): Promise<boolean> {
  try { return (await readFile(join(group(root, id), 'cgroup.freeze'), 'utf8')).trim() === '1'; } catch { return false; }
}

async function oomKilled(root: string, id: string): Promise<boolean> {
  try {
    const m = /^oom_kill (\d+)$/m.exec(await readFile(join(group(root, id), 'memory.events'), 'utf8'));
    return m ? Number(m[1]) > 0 : false;
  } catch { return false; }
}

async function remove(root: string, id: string): Promise<void> {
  const d = group(root, id);
  await writeFile(join(d, 'cgroup.freeze'), '0').catch(() => undefined);
  for (let i = 0; ; i++) {
    try { await rmdir(d); return; } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (i >= 100) throw new SbxError('unavailable', `remove cgroup ${d}: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
