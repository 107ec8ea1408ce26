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
 * Errors: not_found (no such container), invalid_argument (bad name, ps options), failed_precondition.
 */
import { route } from './api.js';
import { intIn, opt, str } from './validate.js';

/** docker's ContainerTopOKBody: the ps header split into titles, one row of strings per process. */
export interface TopResult { Titles: string[]; Processes: string[][] }

export const ContainerLifecycle = {
  restart: route<{ id: string; timeout?: number }, void>('POST', '/v1/containers/:id/restart', 'json', { id: str, timeout: opt(intIn(0, 2 ** 31 - 1)) }),
  rename: route<{ id: string; name: string }, void>('POST', '/v1/containers/:id/rename', 'json', { id: str, name: str }),
  pause: route<{ id: string }, void>('POST', '/v1/containers/:id/pause', 'json', { id: str }),
  unpause: route<{ id: string }, void>('POST', '/v1/containers/:id/unpause', 'json', { id: str }),
  top: route<{ id: string; psArgs?: string }, TopResult>('GET', '/v1/containers/:id/top', 'json', { id: str, psArgs: opt(str) }),
} as const;
