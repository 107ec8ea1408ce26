/**
 * The main process of a container started on its networks with its ports published
 * (ContainerManager.start); what it set up is undone when the runtime cannot start it.
 */
import { SbxError } from '../../protocol/index.js';
import type { Networks } from '../networks/networks.js';
import type { Runtime, Task } from '../runtime/runtime.js';
import type { Rootfs } from '../snapshots/differ.js';
import type { VolumeStore } from '../volumes/store.js';
import type { Container } from './container.js';
import { joinNetwork } from './network.js';
import { bindPorts } from './ports.js';
import { mainSpecs } from './spec.js';

/** pidOf: the PID 1 of another container (--network container:NAME). c.unpublish/published are set when it runs. */
export async function launch(s: { networks: Networks; volumes: VolumeStore }, runtime: Runtime, c: Container, rootfs: Rootfs, pidOf: (ref: string) => number): Promise<Task> {
  const { spec, proc } = await mainSpecs(c, rootfs, s.volumes);
  const ports = c.config.ports?.length ? await bindPorts(c.config.ports) : undefined;
  const leave = await joinNetwork(s.networks, c, spec, pidOf).catch(async (e) => { await ports?.close(); throw e; });
  const task = await runtime.start(spec, proc).catch(async (e) => {
    await ports?.close();
    await leave?.();
    throw SbxError.wrap(e, `start container ${c.config.name}`, 'unavailable');
  });
  if (ports && !task.failed) {
    ports.attach(task.pid1);
    c.unpublish = ports.close;
    c.published = ports.published;
  } else await ports?.close();
  return task;
}
