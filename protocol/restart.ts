/**
 * Restart policies (`--restart no|on-failure[:N]|always|unless-stopped`), docker's shape and rules:
 * - HostConfig.RestartPolicy is {Name, MaximumRetryCount}; a container made without one shows
 *   {Name: "no", MaximumRetryCount: 0}. A retry count belongs to on-failure only.
 * - After its main process exits, a container is started again when the policy says so: always;
 *   unless-stopped; on-failure when the exit code is not 0 and fewer than N restarts were made
 *   (N = 0: no limit). Never after `stop`, `kill` or `rm` by the user; never while sbxd shuts down.
 *   Between exit and restart the container is "restarting" (State.Restarting), for a delay of
 *   100 ms doubled at each restart (at most 1 minute), back to 100 ms once it ran 10 s.
 *   RestartCount counts the restarts since the user last started it.
 * - When sbxd starts, `always` containers, `unless-stopped` ones the user did not stop, and
 *   `on-failure` ones whose last exit failed are started again.
 * Errors: invalid_argument with docker's messages (unknown policy, a count where none belongs).
 */
import { SbxError } from './errors.js';
import { int, object, opt, str, type ObjectType } from './validate.js';

export const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;
export type RestartPolicyName = typeof RESTART_POLICIES[number];

export interface RestartPolicy { Name: RestartPolicyName; MaximumRetryCount: number }

/** A policy as a request carries it (create, update): the name is checked by validateRestartPolicy, for docker's message. */
export interface RestartPolicyRequest { Name: string; MaximumRetryCount?: number }
export const restartPolicyType: ObjectType<RestartPolicyRequest> = object<RestartPolicyRequest>({ Name: str, MaximumRetryCount: opt(int) });

/**
 * docker's `--restart` value → a policy. "" and "no" are no policy.
 * @throws invalid_argument (docker's messages)
 */
export function parseRestartPolicy(value: string): RestartPolicy {
  const [name, count, ...more] = value.split(':');
  if (more.length) throw new SbxError('invalid_argument', 'invalid restart policy format: maximum retry count must be an integer');
  if (count !== undefined && name === '') throw new SbxError('invalid_argument', 'invalid restart policy format: no policy provided before colon');
  if (count !== undefined && count !== '' && !/^-?\d+$/.test(count)) throw new SbxError('invalid_argument', 'invalid restart policy format: maximum retry count must be an integer');
  return validateRestartPolicy({ Name: name || 'no', MaximumRetryCount: count ? Number(count) : 0 });
}

/** The policy a valid request names. @throws invalid_argument naming what is wrong, as docker 25's daemon does */
export function validateRestartPolicy(p: RestartPolicyRequest): RestartPolicy {
  const count = p.MaximumRetryCount ?? 0;
  if (!(RESTART_POLICIES as readonly string[]).includes(p.Name)) {
    throw new SbxError('invalid_argument', `invalid restart policy: unknown policy '${p.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (p.Name !== 'on-failure' && count !== 0) {
    throw new SbxError('invalid_argument', `invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
  }
  if (count < 0) throw new SbxError('invalid_argument', 'invalid restart policy: maximum retry count cannot be negative');
  return { Name: p.Name as RestartPolicyName, MaximumRetryCount: count };
}

/** Whether a container that exited with `exitCode` is to be started again (the count check included). */
export function policyWantsRestart(p: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, restarts: number): boolean {
  if (!p || manuallyStopped) return false;
  switch (p.Name) {
    case 'always': case 'unless-stopped': return true;
    case 'on-failure': return exitCode !== 0 && (p.MaximumRetryCount === 0 || restarts < p.MaximumRetryCount);
    default: return false;
  }
}
