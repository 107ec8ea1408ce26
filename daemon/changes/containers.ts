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
import { SbxError, type ContainerConfig } from '../../protocol/index.js';
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

/** The container manager's surface this adapter relies on. */
interface Manager {
  get(ref: string): { config: ManagedConfig; state: { status: string }; dir: string };
  list?(req?: { all?: boolean }): Promise<{ id: string }[]> | { id: string }[];
  rootfs(ref: string): Promise<Rootfs>;
  freeze(ref: string): Promise<void>;
  thaw(ref: string): Promise<void>;
}

interface ManagedConfig {
  id: string; name: string; image: string; imageId: string;
  entrypoint?: string[]; cmd?: string[]; env?: string[]; workdir?: string; user?: string; stopSignal?: string;
}

function manager(s: Services): Manager {
  const m = (s as unknown as { containers?: Manager }).containers;
  if (!m) throw new SbxError('unavailable', 'containers: this sbxd runs no container manager');
  return m;
}

function view(c: ReturnType<Manager['get']>): ContainerView {
  const k = c.config;
  const config: ContainerConfig = {};
  if (k.entrypoint && k.entrypoint.length) config.Entrypoint = k.entrypoint;
  if (k.cmd && k.cmd.length) config.Cmd = k.cmd;
  if (k.env && k.env.length) config.Env = k.env;
  if (k.workdir) config.WorkingDir = k.workdir;
  if (k.user) config.User = k.user;
  return { id: k.id, name: k.name, dir: c.dir, image: k.image, imageId: k.imageId, running: c.state.status === 'running', config };
}

export function containerAccess(s: Services): ContainerAccess {
  return {
    find: (ref) => view(manager(s).get(ref)),
    all: () => {
      const m = (s as unknown as { containers?: Manager & { ids?(): string[]; byId?: Map<string, unknown> } }).containers;
      if (!m) return [];
      const ids = m.ids ? m.ids() : m.byId ? [...m.byId.keys()] : [];
      return ids.map((id) => view(m.get(id)));
    },
    rootfs: (id) => manager(s).rootfs(id),
    freeze: (id) => manager(s).freeze(id),
    thaw: (id) => manager(s).thaw(id),
  };
}
