/**
 * ContainerAccess: what diff, the journal and commit need to know about containers, and the
 * one adapter over the daemon's container manager (services.containers).
 *
 * Contract
 * - find(ref) accepts a name, a full ID or a unique ID prefix. @throws not_found, invalid_argument
 * - config is docker's container config: the image's config with the run flags applied
 *   (entrypoint, cmd, env, workdir, user), the base `docker commit` starts from.
 * - freeze/thaw act on a running container's processes (cgroup freezer).
 * - on('started' | 'exited', fn) follows the manager's lifecycle events (containers/events.ts):
 *   'exited' listeners are awaited before anyone waiting on the container hears of the exit.
 *
 * The manager is described here by the shape this adapter reads, not imported: changes/ sits
 * below containers/ (containers → images → changes), so it must not import containers/.
 */
import type { ContainerConfig } from '../../protocol/index.js';
import type { Rootfs } from '../snapshots/differ.js';

export interface ContainerView {
  id: string;
  name: string;
  /** $SBX_ROOT/containers/<id>: its records, and changes.jsonl. */
  dir: string;
  /** As the user typed it at create. */
  image: string;
  /** The image ID (config digest). */
  imageId: string;
  running: boolean;
  config: ContainerConfig;
}

export type Lifecycle = 'started' | 'exited';

export interface ContainerAccess {
  find(ref: string): ContainerView;
  rootfs(id: string): Promise<Rootfs>;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  /** @returns the unsubscribe function */
  on(event: Lifecycle, fn: (id: string) => void | Promise<void>): () => void;
}

/** The part of containers/manager.ts's ContainerManager this adapter reads. */
export interface ManagedContainers {
  get(ref: string): {
    dir: string;
    config: { id: string; name: string; image: string; imageId: string; entrypoint: string[]; cmd: string[]; env: string[]; workdir: string; user: string };
    state: { status: string };
  };
  rootfs(id: string): Promise<Rootfs>;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  events: { on(event: Lifecycle, fn: (id: string) => void | Promise<void>): () => void };
}

function view(c: ReturnType<ManagedContainers['get']>): ContainerView {
  const k = c.config;
  const config: ContainerConfig = {};
  if (k.entrypoint.length) config.Entrypoint = k.entrypoint;
  if (k.cmd.length) config.Cmd = k.cmd;
  if (k.env.length) config.Env = k.env;
  if (k.workdir) config.WorkingDir = k.workdir;
  if (k.user) config.User = k.user;
  return { id: k.id, name: k.name, dir: c.dir, image: k.image, imageId: k.imageId, running: c.state.status === 'running', config };
}

export function containerAccess(s: { containers: ManagedContainers }): ContainerAccess {
  return {
    find: (ref) => view(s.containers.get(ref)),
    rootfs: (id) => s.containers.rootfs(id),
    freeze: (id) => s.containers.freeze(id),
    thaw: (id) => s.containers.thaw(id),
    on: (event, fn) => s.containers.events.on(event, fn),
  };
}
