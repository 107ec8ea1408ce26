/**
 * What the runtime is asked to run for a container: its ContainerSpec (namespaces, limits,
 * security) and one process's ProcessSpec (docker's environment defaults, the resolved user).
 */
import { realpath } from 'node:fs/promises';
import type { ContainerSpec, ProcessSpec } from '../runtime/runtime.js';
import type { Rootfs } from '../snapshots/differ.js';
import type { Container } from './container.js';
import type { VolumeStore } from '../volumes/store.js';
import { bindsFor, tmpfsFor } from './mounts.js';
import type { ContainerConfigRecord } from './records.js';
import { resourceSpec } from './resources.js';
import { seccompOf } from './security.js';
import { resolveGroups, resolveUser } from './user.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ProcessChoice {
  tty: boolean;
  stdin: boolean;
  env: string[];
  workdir: string;
  user: string;
  args: string[];
  size: ContainerConfigRecord['consoleSize'];
}

/** The main process as the config record says, with --init, its binds, volumes and tmpfs mounts. */
export async function mainSpecs(c: Container, rootfs: Rootfs, volumes: VolumeStore): Promise<{ spec: ContainerSpec; proc: ProcessSpec }> {
  const { spec, proc } = await specsFor(c, rootfs, {
    tty: c.config.tty, stdin: c.config.openStdin, env: c.config.env, workdir: c.config.workdir, user: c.config.user,
    args: [...c.config.entrypoint, ...c.config.cmd], size: c.config.consoleSize,
  });
  if (c.config.init) spec.init = true;
  // the runtime opens every source without following a last link: resolve them now
  const own = await Promise.all((spec.mounts ?? []).map(async (m) => ({ ...m, source: await realpath(m.source) })));
  const binds = [...own, ...await bindsFor(c.config.volumes, volumes)];
  if (binds.length) spec.mounts = binds;
  const tmpfs = tmpfsFor(c.config.volumes);
  if (tmpfs.length) spec.tmpfs = tmpfs;
  return { spec, proc };
}

/** The main process (forExec false) or an exec'd one: exec gets no HOSTNAME default, as in docker. */
export async function specsFor(c: Container, rootfs: Rootfs, p: ProcessChoice, forExec = false): Promise<{ spec: ContainerSpec; proc: ProcessSpec }> {
  const { tty, env, size } = p;
  const u = await resolveUser(rootfs, p.user);
  u.groups = [...new Set([...u.groups, ...await resolveGroups(rootfs, c.config.groupAdd ?? [])])];
  const full = [...env];
  const has = (k: string): boolean => full.some((e) => e.startsWith(`${k}=`));
  if (!has('PATH')) full.unshift(DEFAULT_PATH);
  if (!forExec && !has('HOSTNAME')) full.push(`HOSTNAME=${c.config.hostname}`);
  if (tty && !has('TERM')) full.push('TERM=xterm');
  if (!has('HOME')) full.push(`HOME=${u.home}`);
  const spec: ContainerSpec = {
    id: c.config.id, stateDir: c.dir, rootfs: rootfs.mounts, hostname: c.config.hostname, network: c.config.network === 'host' ? 'host' : 'none', init: false,
    ...resourceSpec(c.config),
    ...(c.config.privileged ? { privileged: true } : {}), ...(c.config.capAdd ? { capAdd: c.config.capAdd } : {}),
    ...(c.config.capDrop ? { capDrop: c.config.capDrop } : {}), ...(c.config.devices ? { devices: c.config.devices } : {}),
    ...(c.config.mounts?.length ? { mounts: c.config.mounts } : {}),
    ...(c.config.readonlyRootfs ? { readonlyRootfs: true } : {}), ...(c.config.shmSize ? { shmSize: c.config.shmSize } : {}),
    ...(c.config.ulimits?.length ? { ulimits: c.config.ulimits } : {}),
    seccomp: seccompOf(c.config),
  };
  const proc: ProcessSpec = { args: p.args, env: full, cwd: p.workdir || '/', user: u, tty, stdin: p.stdin, ...(size ? { size } : {}) };
  return { spec, proc };
}

/** KEY=VALUE entries of `over` replace those of `base` with the same key; new keys are appended. */
export function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const k = e.slice(0, e.indexOf('=') + 1);
    const i = out.findIndex((x) => x.startsWith(k));
    if (i >= 0) out[i] = e; else out.push(e);
  }
  return out;
}
