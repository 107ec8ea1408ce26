/** The create request's own checks, before any work: each failure is invalid_argument naming the field. */
import { SbxError, validateRestartPolicy, type CreateContainerRequest } from '../../protocol/index.js';
import { NAME_RE } from './names.js';

export function validateCreate(req: CreateContainerRequest): void {
  if (typeof req.image !== 'string' || !req.image) throw new SbxError('invalid_argument', 'create container: an image is required');
  if (req.name !== undefined && !NAME_RE.test(req.name)) {
    throw new SbxError('invalid_argument', `create container: invalid container name "${req.name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  for (const e of req.env ?? []) {
    if (typeof e !== 'string' || !/^[^=\0]+=/.test(e)) throw new SbxError('invalid_argument', `create container: invalid environment variable ${JSON.stringify(e)} (want KEY=VALUE)`);
  }
  if (req.workdir !== undefined && !req.workdir.startsWith('/')) throw new SbxError('invalid_argument', `create container: the working directory "${req.workdir}" is invalid, it needs to be an absolute path`);
  if (req.memory !== undefined && (!Number.isSafeInteger(req.memory) || req.memory < 6 * 1024 * 1024)) throw new SbxError('invalid_argument', 'create container: minimum memory limit allowed is 6MB');
  // docker: 0 and -1 (any negative) mean no limit
  if (req.pidsLimit !== undefined && !Number.isSafeInteger(req.pidsLimit)) throw new SbxError('invalid_argument', 'create container: the pids limit must be an integer (0 or -1: no limit)');
  if (req.user !== undefined && !/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(req.user)) throw new SbxError('invalid_argument', `create container: invalid user ${JSON.stringify(req.user)} (want UID[:GID] or NAME[:GROUP])`);
  for (const a of [...(req.cmd ?? []), ...(req.entrypoint ?? [])]) if (typeof a !== 'string') throw new SbxError('invalid_argument', 'create container: command arguments must be strings');
  for (const p of req.ports ?? []) {
    const ok = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
    if (!p || !(ok(p.hostPort) || p.hostPort === 0) || !ok(p.containerPort) || (p.protocol !== undefined && p.protocol !== 'tcp' && p.protocol !== 'udp') || typeof p.hostIp !== 'string' || !/^[0-9a-fA-F.:]+$/.test(p.hostIp)) {
      throw new SbxError('invalid_argument', `create container: invalid port mapping ${JSON.stringify(p)}`);
    }
  }
  if (req.restartPolicy) {
    const p = validateRestartPolicy(req.restartPolicy);
    // docker 25's daemon message for the API; the CLI says "Conflicting options" first
    if (p.Name !== 'no' && req.autoRemove) throw new SbxError('invalid_argument', "can't create 'AutoRemove' container with restart policy");
  }
  if (req.hostname !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(req.hostname)) throw new SbxError('invalid_argument', `create container: invalid hostname ${JSON.stringify(req.hostname)}`);
}
