/**
 * `sbx update` (protocol/lifecycle.ts): the new limits and restart policy go into the config
 * record, and into the cgroups of a running container first (a value the kernel refuses leaves
 * the record as it was). Under the container's lock, so a start in between sees one or the other.
 */
import { availableParallelism } from 'node:os';
import { SbxError, validateRestartPolicy, type UpdateRequest } from '../../protocol/index.js';
import type { ResourceUpdate } from '../runtime/cgroups.js';
import type { ContainerManager } from './manager.js';
import { writeConfig } from './records.js';

const MIN_MEMORY = 6 * 1024 * 1024;

export async function updateContainer(m: ContainerManager, req: UpdateRequest): Promise<{ Warnings: string[] }> {
  const c = m.get(req.id);
  const limits: ResourceUpdate = {};
  if (req.memory !== undefined) {
    if (req.memory && req.memory < MIN_MEMORY) throw new SbxError('invalid_argument', 'Minimum memory limit allowed is 6MB');
    limits.memory = req.memory;
  }
  if (req.pidsLimit !== undefined) limits.pidsLimit = Math.max(0, req.pidsLimit); // docker: -1 and 0 are "unlimited"
  if (req.nanoCpus !== undefined) {
    const n = availableParallelism();
    if (req.nanoCpus && (req.nanoCpus < 1e7 || req.nanoCpus > n * 1e9)) {
      throw new SbxError('invalid_argument', `range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
    }
    limits.nanoCpus = req.nanoCpus;
  }
  const policy = req.restartPolicy && validateRestartPolicy(req.restartPolicy);
  if (policy && policy.Name !== 'no' && c.config.autoRemove) {
    throw new SbxError('failed_precondition', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  await m.locked(c.config.id, async () => {
    if (c.state.status === 'running' && Object.keys(limits).length) await m.runtime.update(c.config.id, limits);
    const next = { ...c.config };
    if (limits.memory !== undefined) next.memory = limits.memory;
    if (limits.pidsLimit !== undefined) next.pidsLimit = limits.pidsLimit;
    if (limits.nanoCpus !== undefined) next.nanoCpus = limits.nanoCpus;
    if (policy) next.restartPolicy = policy;
    await writeConfig(c.dir, next);
    c.config = next;
  });
  return { Warnings: [] };
}
