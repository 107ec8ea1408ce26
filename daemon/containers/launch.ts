/**
 * The main process of a container started on its networks with its ports published
 * (ContainerManager.start); what it set up is undone when the runtime cannot start it, and
 * after its exit (landed).
 */
import { SbxError, type ExitInfo } from '../../protocol/index.js';
import type { Networks } from '../networks/networks.js';
import type { Runtime, Task } from '../runtime/runtime.js';
import type { Rootfs } from '../snapshots/differ.js';
import type { VolumeStore } from '../volumes/store.js';
import type { Logger } from '../util/log.js';
import type { Container } from './container.js';
import { joinNetwork, leaveAll } from './network.js';
import { bindPorts } from './ports.js';
import { mainSpecs } from './spec.js';
import { writeState } from './records.js';

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

/**
 * After the main process exited: its state exited (still removing when rm is under way), its
 * ports unpublished, its networks left, its cgroups removed, the state written while it is still
 * known. What cannot be undone is logged: the exit stands.
 */
export async function landed(s: { log: Logger }, runtime: Runtime, c: Container, e: ExitInfo, known: () => boolean): Promise<void> {
  c.state = {
    ...c.state, status: c.state.status === 'removing' ? 'removing' : 'exited', pid: 0, paused: false, finishedAt: e.at, exitCode: e.status,
    error: e.error?.message ?? '', oomKilled: e.oomKilled,
  };
  c.pid1 = 0;
  await c.unpublish?.().catch(() => undefined);
  delete c.unpublish;
  delete c.published;
  await leaveAll(c).catch((err) => s.log.warn('leave network', { id: c.config.id, error: String(err) }));
  await runtime.cleanup(c.config.id).catch((err) => s.log.warn('cgroup cleanup', { id: c.config.id, error: String(err) }));
  if (known()) await writeState(c.dir, c.state).catch(() => undefined);
}
