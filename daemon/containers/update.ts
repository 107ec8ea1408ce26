/**
 * `sbx update` (protocol/lifecycle.ts): the new limits (resources.ts) and restart policy go into
 * the config record, and into the cgroups of a running container first (a value the kernel
 * refuses leaves the record as it was). Under the container's lock, so a start in between sees
 * one or the other.
 */
import { SbxError, validateRestartPolicy, type UpdateRequest } from '../../protocol/index.js';
import type { ContainerManager } from './manager.js';
import { writeConfig } from './records.js';
import { updateResources } from './resources.js';

export async function updateContainer(m: ContainerManager, req: UpdateRequest): Promise<{ Warnings: string[] }> {
  const c = m.get(req.id);
  const { id: _id, restartPolicy, ...resources } = req;
  const policy = restartPolicy && validateRestartPolicy(restartPolicy);
  if (policy && policy.Name !== 'no' && c.config.autoRemove) {
    throw new SbxError('failed_precondition', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  await m.locked(c.config.id, async () => {
    const { next, limits } = updateResources(c.config, resources);
    if (c.state.status === 'running' && Object.keys(limits).length) await m.runtime.update(c.config.id, limits);
    if (policy) next.restartPolicy = policy;
    await writeConfig(c.dir, next);
    c.config = next;
  });
  return { Warnings: [] };
}
