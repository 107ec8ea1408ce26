/**
 * ContainerAccess: what diff, the journal and commit need to know about containers, and the
 * one adapter over the daemon's container manager (services.containers).
 *
 * Contract
 * - find(ref) accepts a name, a full ID or a unique ID prefix. @throws not_found, invalid_argument
 * - config is docker's container config: the image's config with the run flags applied
 *   (entrypoint, cmd, env, workdir, user), the base `docker commit` starts from.
 * - freeze/thaw act on a running container's processes (cgroup freezer).
 */
import type { ContainerConfig } from '../../protocol/index.js';
import type { Services } from '../services.js';
import type { Rootfs } from '../snapshots/rootfs.js';

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

export interface ContainerAccess {
  find(ref: string): ContainerView;
  all(): ContainerView[];
  rootfs(id: string): Promise<Rootfs>;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
}

type Managed = ReturnType<Services['containers']['get']>;

function view(c: Managed): ContainerView {
  const k = c.config;
  const config: ContainerConfig = {};
  if (k.entrypoint.length) config.Entrypoint = k.entrypoint;
  if (k.cmd.length) config.Cmd = k.cmd;
  if (k.env.length) config.Env = k.env;
  if (k.workdir) config.WorkingDir = k.workdir;
  if (k.user) config.User = k.user;
  return { id: k.id, name: k.name, dir: c.dir, image: k.image, imageId: k.imageId, running: c.state.status === 'running', config };
}

export function containerAccess(s: Services): ContainerAccess {
  return {
    find: (ref) => view(s.containers.get(ref)),
    all: () => (s.containers ? s.containers.ids().map((id) => view(s.containers.get(id))) : []),
    rootfs: (id) => s.containers.rootfs(id),
    freeze: (id) => s.containers.freeze(id),
    thaw: (id) => s.containers.thaw(id),
  };
}
