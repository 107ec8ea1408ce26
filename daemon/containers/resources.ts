/**
 * The CPU and memory controls of a container (protocol/resources.ts) with docker's rules: checked
 * at create and at update against the host (CPUs, memory nodes) and each other (swap needs a
 * memory limit above it, a reservation below the limit), kept in the config record, handed to the
 * runtime (cgroups), shown by inspect. docker's default for --memory-swap: twice --memory.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { SbxError, cpusetMembers, type ResourceOptions, type ResourcesInspect, type UpdateRequest } from '../../protocol/index.js';
import type { ResourceUpdate } from '../runtime/cgroups.js';
import type { ContainerSpec } from '../runtime/runtime.js';
import type { ContainerConfigRecord } from './records.js';

const MIN_MEMORY = 6 * 1024 * 1024;

/** What the record keeps: memory, pids and the ResourceOptions, resolved (memorySwap as docker shows it). */
export type ResourceRecord = Pick<ContainerConfigRecord, 'memory' | 'pidsLimit'> & ResourceOptions;

const bad = (what: string, msg: string): SbxError => new SbxError('invalid_argument', `${what}: ${msg}`);

/** The create request's values, checked and resolved. @throws invalid_argument in docker's words */
export function checkResources(req: ResourceOptions & { memory?: number }): ResourceOptions {
  const what = 'create container';
  const out: ResourceOptions = {};
  if (req.nanoCpus) out.nanoCpus = checkCpus(req.nanoCpus, what);
  if (req.cpuShares) out.cpuShares = req.cpuShares;
  if (req.cpusetCpus) out.cpusetCpus = checkCpuset(req.cpusetCpus, 'cpus', what);
  if (req.cpusetMems) out.cpusetMems = checkCpuset(req.cpusetMems, 'mems', what);
  const memory = req.memory ?? 0;
  if (req.memorySwap) {
    checkSwap(memory, req.memorySwap, what);
    out.memorySwap = req.memorySwap;
  } else if (memory > 0) out.memorySwap = memory * 2;
  if (req.memoryReservation) out.memoryReservation = checkReservation(memory, req.memoryReservation, what);
  return out;
}

/**
 * An update over the record: the new record (a copy of `cur`) and what changes in a running container's
 * cgroups (memory and memorySwap go together). @throws invalid_argument, failed_precondition
 */
export function updateResources<R extends ResourceRecord>(cur: R, req: Omit<UpdateRequest, 'id' | 'restartPolicy'>): { next: R; limits: ResourceUpdate } {
  const what = 'update container';
  const next: R = { ...cur };
  const limits: ResourceUpdate = {};
  if (req.memory !== undefined) {
    if (req.memory && req.memory < MIN_MEMORY) throw new SbxError('invalid_argument', 'Minimum memory limit allowed is 6MB');
    if (req.memory && req.memorySwap === undefined && (cur.memorySwap ?? 0) > 0 && req.memory > cur.memorySwap!) {
      throw new SbxError('failed_precondition', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.memory = req.memory;
    if (!req.memory) delete next.memorySwap;
  }
  if (req.memorySwap !== undefined) {
    if (req.memorySwap) checkSwap(next.memory, req.memorySwap, what);
    if (req.memorySwap) next.memorySwap = req.memorySwap; else delete next.memorySwap;
  }
  if (req.memory !== undefined || req.memorySwap !== undefined) {
    limits.memory = next.memory;
    if (next.memorySwap) limits.memorySwap = next.memorySwap;
  }
  if (req.memoryReservation !== undefined) {
    if (req.memoryReservation) checkReservation(next.memory, req.memoryReservation, what);
    limits.memoryReservation = next.memoryReservation = req.memoryReservation;
  } else if (req.memory && next.memoryReservation && req.memory < next.memoryReservation) checkReservation(req.memory, next.memoryReservation, what);
  if (req.pidsLimit !== undefined) limits.pidsLimit = next.pidsLimit = Math.max(0, req.pidsLimit); // docker: -1 and 0 are "unlimited"
  if (req.nanoCpus !== undefined) limits.nanoCpus = next.nanoCpus = req.nanoCpus && checkCpus(req.nanoCpus, what);
  if (req.cpuShares !== undefined) limits.cpuShares = next.cpuShares = req.cpuShares;
  if (req.cpusetCpus !== undefined) limits.cpusetCpus = next.cpusetCpus = req.cpusetCpus && checkCpuset(req.cpusetCpus, 'cpus', what);
  if (req.cpusetMems !== undefined) limits.cpusetMems = next.cpusetMems = req.cpusetMems && checkCpuset(req.cpusetMems, 'mems', what);
  for (const k of ['nanoCpus', 'cpuShares', 'cpusetCpus', 'cpusetMems', 'memoryReservation'] as const) if (!next[k]) delete next[k];
  return { next, limits };
}

/** What the runtime's cgroups get from the record (only what is set). */
export function resourceSpec(c: ResourceRecord): Partial<ContainerSpec> {
  const out: Partial<ContainerSpec> = {};
  if (c.memory) out.memory = c.memory;
  if (c.memory && c.memorySwap) out.memorySwap = c.memorySwap;
  if (c.memoryReservation) out.memoryReservation = c.memoryReservation;
  if (c.pidsLimit) out.pidsLimit = c.pidsLimit;
  if (c.nanoCpus) out.nanoCpus = c.nanoCpus;
  if (c.cpuShares) out.cpuShares = c.cpuShares;
  if (c.cpusetCpus) out.cpusetCpus = c.cpusetCpus;
  if (c.cpusetMems) out.cpusetMems = c.cpusetMems;
  return out;
}

/** inspect's HostConfig fields (docker's zero values when unset). */
export function resourcesInspect(c: ResourceRecord): ResourcesInspect {
  return {
    NanoCpus: c.nanoCpus ?? 0, CpuShares: c.cpuShares ?? 0, CpusetCpus: c.cpusetCpus ?? '', CpusetMems: c.cpusetMems ?? '',
    MemorySwap: c.memorySwap ?? 0, MemoryReservation: c.memoryReservation ?? 0,
  };
}

function checkCpus(nano: number, what: string): number {
  const n = availableParallelism();
  if (nano < 1e7 || nano > n * 1e9) throw bad(what, `range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  return nano;
}

function checkSwap(memory: number, swap: number, what: string): void {
  if (swap === -1) { if (!memory) throw bad(what, 'You should always set the Memory limit when using Memoryswap limit, see usage'); return; }
  if (swap < -1) throw bad(what, `invalid memory swap ${swap}: want bytes, or -1 for unlimited swap`);
  if (!memory) throw bad(what, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap < memory) throw bad(what, 'Minimum memoryswap limit should be larger than memory limit, see usage');
}

function checkReservation(memory: number, reservation: number, what: string): number {
  if (reservation < MIN_MEMORY) throw bad(what, 'Minimum memory reservation allowed is 6MB');
  if (memory > 0 && memory < reservation) throw bad(what, 'Minimum memory limit can not be less than memory reservation limit, see usage');
  return reservation;
}

/** docker's cpuset checks: the syntax, then every CPU (memory node) present on the host. */
function checkCpuset(v: string, kind: 'cpus' | 'mems', what: string): string {
  const want = cpusetMembers(v);
  if (!want) throw bad(what, `Invalid value ${v} for cpuset ${kind}`);
  const online = hostSet(kind === 'cpus' ? '/sys/devices/system/cpu/online' : '/sys/devices/system/node/online');
  if (want.some((n) => !online.members.includes(n))) {
    throw bad(what, `Requested ${kind === 'cpus' ? 'CPUs' : 'memory nodes'} are not available - requested ${v}, available: ${online.text}`);
  }
  return v;
}

/** The host's online CPUs or memory nodes; a host without NUMA files has node 0. */
function hostSet(file: string): { text: string; members: number[] } {
  let text = '0';
  try { text = readFileSync(file, 'utf8').trim() || '0'; } catch { /* no NUMA information: one node */ }
  return { text, members: cpusetMembers(text) ?? [0] };
}
