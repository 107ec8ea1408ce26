/**
 * The lifecycle verbs beside create/start/stop (protocol/containers.ts): restart, rename,
 * pause/unpause (the cgroup freezer) and top, with docker's semantics:
 * - restart: stop as `stop` does (the stop signal, SIGKILL after `timeout` seconds, default 10),
 *   then start; the id, name and config stay, State.StartedAt is new. A stopped container just starts.
 * - rename: the new name follows the create rules and must be free (already_exists names the
 *   holder); the old name is free at once.
 * - pause freezes every process of a running container (failed_precondition when it is not
 *   running or already paused); ps shows "Up … (Paused)", inspect State.Status "paused",
 *   State.Paused true. stop, kill -9, rm -f and restart of a paused container work: the signal is
 *   sent and the container thawed so it can take it (docker's). exec into it is refused.
 * - top runs the host's `ps` with `psArgs` (default "-ef") and keeps the rows whose PID column is
 *   a process of the container: docker's ContainerTopOKBody.
 * - update changes memory, pids limit, the CPU and memory controls of ResourceOptions and restart policy of a running or stopped
 *   container: the records at once (kept for the next start), the cgroups of a running one too.
 *   0 lifts a limit. docker's rules: memory at least 6 MB, CPUs from 0.01 to the host's count,
 *   no restart policy for an --rm container (failed_precondition).
 * - stats is one sample of a container's counters (StatsSample); a stopped container gives
 *   zeros. CPU % is the client's to compute from two samples, as docker's CLI does.
 * Errors: not_found (no such container), invalid_argument (bad name, ps options, a limit out of
 * range), failed_precondition, unavailable (the host lacks the controller, the kernel refuses).
 */
import { route } from './api.js';
import { restartPolicyType, type RestartPolicyRequest } from './restart.js';
import { resourceOptionFields, type ResourceOptions } from './resources.js';
import { int, intIn, opt, str, uint } from './validate.js';

/** docker's ContainerTopOKBody: the ps header split into titles, one row of strings per process. */
export interface TopResult { Titles: string[]; Processes: string[][] }

/** ResourceOptions (resources.ts): --cpus, --cpu-shares, --cpuset-*, --memory-swap, --memory-reservation. */
export interface UpdateRequest extends ResourceOptions {
  id: string;
  /** Bytes; 0: no limit. */
  memory?: number;
  /** 0: no limit. */
  pidsLimit?: number;
  restartPolicy?: RestartPolicyRequest;
}

/** One sample of a container's counters (cumulative ones since it started). */
export interface StatsSample {
  id: string;
  name: string;
  running: boolean;
  /** CPU time of the container's processes, and of the whole host, in nanoseconds. */
  cpuNs: number;
  systemNs: number;
  onlineCpus: number;
  /** Bytes in use without the inactive page cache; the limit (the host's memory when there is none). */
  memoryUsage: number;
  memoryLimit: number;
  pids: number;
  /** Bytes through its network interfaces (loopback left out). */
  netRx: number;
  netTx: number;
  /** Bytes its processes read from and wrote to block devices. */
  blockRead: number;
  blockWrite: number;
}

export const ContainerLifecycle = {
  restart: route<{ id: string; timeout?: number }, void>('POST', '/v1/containers/:id/restart', 'json', { id: str, timeout: opt(intIn(0, 2 ** 31 - 1)) }),
  rename: route<{ id: string; name: string }, void>('POST', '/v1/containers/:id/rename', 'json', { id: str, name: str }),
  pause: route<{ id: string }, void>('POST', '/v1/containers/:id/pause', 'json', { id: str }),
  unpause: route<{ id: string }, void>('POST', '/v1/containers/:id/unpause', 'json', { id: str }),
  top: route<{ id: string; psArgs?: string }, TopResult>('GET', '/v1/containers/:id/top', 'json', { id: str, psArgs: opt(str) }),
  update: route<UpdateRequest, { Warnings: string[] }>('POST', '/v1/containers/:id/update', 'json', {
    id: str, memory: opt(uint), pidsLimit: opt(int), ...resourceOptionFields, restartPolicy: opt(restartPolicyType),
  }),
  stats: route<{ id: string }, StatsSample>('GET', '/v1/containers/:id/stats', 'json', { id: str }),
} as const;
