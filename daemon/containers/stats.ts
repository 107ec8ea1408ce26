/**
 * `sbx stats`: one sample of a container's counters (protocol/lifecycle.ts StatsSample). Memory
 * and pids come from its cgroups; CPU time and block I/O from /proc of its processes (the v1
 * host here has no cpuacct or blkio group per container: each group a process joins costs a
 * start), a process reaped inside the container counted in its parent's cumulative times; the
 * network from /proc/PID/net/dev of its PID 1, which reads its network namespace.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import type { StatsSample } from '../../protocol/index.js';
import type { ContainerManager } from './manager.js';

/** USER_HZ: the unit of /proc's CPU times on every Linux architecture sbx runs on. */
const TICK_NS = 1e9 / 100;

export async function containerStats(m: ContainerManager, ref: string): Promise<StatsSample> {
  const c = m.get(ref);
  const id = c.config.id;
  const sample: StatsSample = {
    id, name: c.config.name, running: false, cpuNs: 0, systemNs: await systemNs(), onlineCpus: availableParallelism(),
    memoryUsage: 0, memoryLimit: 0, pids: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0,
  };
  if (c.state.status !== 'running' || !c.pid1) return sample;
  const cg = await m.runtime.stats(id).catch(() => undefined);
  if (!cg) return sample;
  const pids = await m.runtime.pids(id);
  const procs = await Promise.all(pids.map((p) => processCounters(p)));
  const net = await netDev(c.pid1);
  return {
    ...sample, running: true,
    cpuNs: procs.reduce((a, p) => a + p.cpuNs, 0),
    memoryUsage: cg.memoryUsage, memoryLimit: cg.memoryLimit || totalmem(),
    pids: cg.pids || pids.length,
    netRx: net.rx, netTx: net.tx,
    blockRead: procs.reduce((a, p) => a + p.read, 0), blockWrite: procs.reduce((a, p) => a + p.write, 0),
  };
}

/** The host's CPU time so far (all CPUs, idle included), from the first line of /proc/stat. */
async function systemNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
  return line.trim().split(/\s+/).slice(1, 8).reduce((a, f) => a + Number(f), 0) * TICK_NS;
}

async function processCounters(pid: number): Promise<{ cpuNs: number; read: number; write: number }> {
  let cpuNs = 0;
  let read = 0;
  let write = 0;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime (fields 14-17)
    cpuNs = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_NS;
    const io = await readFile(`/proc/${pid}/io`, 'utf8');
    read = Number(/^read_bytes: (\d+)$/m.exec(io)?.[1] ?? 0);
    write = Number(/^write_bytes: (\d+)$/m.exec(io)?.[1] ?? 0);
  } catch { /* gone meanwhile */ }
  return { cpuNs, read, write };
}

async function netDev(pid1: number): Promise<{ rx: number; tx: number }> {
  let rx = 0;
  let tx = 0;
  const text = await readFile(`/proc/${pid1}/net/dev`, 'utf8').catch(() => '');
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}
