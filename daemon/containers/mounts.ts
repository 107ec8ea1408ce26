/**
 * A container's mounts: -v / --mount / the image's VOLUMEs turned into records at create, into
 * the runtime's BindMounts at every start, and into docker inspect's Mounts.
 *
 * - planMounts checks everything first and creates nothing (bad input leaves no trace): syntax
 *   (protocol/mounts.ts), a --mount bind source that must exist (docker's rule), duplicate targets.
 * - makeMounts then creates what -v asks for (a missing host directory, as docker's -v does) and
 *   the volumes (named on first use, anonymous ones for the image's VOLUMEs and `-v /ctr`), and
 *   seeds each volume it made from the image's content at its target (docker's copy-up).
 * - bindsFor, at each start: a bind's host path is resolved now (realpath) and the runtime opens it
 *   without following a last link (rootfs.c), so a swapped-in symlink fails the start instead of
 *   binding another place; the target is resolved inside the container root by the runtime.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { SbxError, checkTmpfsOptions, parseBind, parseTmpfs, type ContainerInspect, type CreateContainerRequest, type MountPoint, type MountRequest } from '../../protocol/index.js';
import type { BindMount, TmpfsMount } from '../runtime/runtime.js';
import type { Rootfs } from '../snapshots/differ.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import { O_PATH, components, openDirAt } from '../util/beneath.js';
import type { Logger } from '../util/log.js';
import type { VolumeStore } from '../volumes/store.js';

const run = promisify(execFile);

/** A mount as the container's record keeps it (config.json `volumes`). */
export interface MountRecord extends MountRequest {
  /** Came from -v (HostConfig.Binds) rather than --mount or the image. */
  fromBinds?: boolean;
  /** Came from --tmpfs (HostConfig.Tmpfs) rather than --mount. */
  fromTmpfs?: boolean;
  /** -v's mode as typed ('', 'ro', 'rw'): docker shows it as Mode. */
  mode?: string;
  /** Taken from another container (--volumes-from): never removed with this one. */
  inherited?: boolean;
  /** An anonymous volume for the image's VOLUME. */
  imageVolume?: boolean;
}

/** The checked mounts of a create request plus the image's VOLUMEs not covered by them. Creates nothing. */
/** --volumes-from NAME[:ro|rw]'s share of a source container's records (its binds and volumes, not its tmpfs). */
export function inheritMounts(spec: string, records: MountRecord[] | undefined): MountRecord[] {
  const [, mode] = spec.split(':');
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new SbxError('invalid_argument', `invalid argument "${spec}" for "--volumes-from" flag: invalid mode: ${mode}`);
  return (records ?? []).filter((m) => m.type !== 'tmpfs').map((m) => ({
    type: m.type, source: m.source, target: m.target, readonly: mode === undefined ? m.readonly : mode === 'ro', inherited: true,
  }));
}

/** inherited: --volumes-from's records (inheritMounts); the request's own mounts win a shared target (docker's). */
export async function planMounts(req: CreateContainerRequest, imageVolumes: string[], inherited: MountRecord[] = []): Promise<MountRecord[]> {
  const out: MountRecord[] = [];
  for (const b of req.binds ?? []) {
    const m = parseBind(b);
    out.push({ ...m, fromBinds: true, mode: b.split(':')[2] ?? '' });
  }
  for (const t of req.tmpfs ?? []) out.push({ ...parseTmpfs(t), fromTmpfs: true });
  for (const m of req.mounts ?? []) {
    if (m.type !== 'bind' && m.type !== 'volume' && m.type !== 'tmpfs') throw new SbxError('invalid_argument', `create container: invalid mount type ${JSON.stringify(m.type)}`);
    if (!m.target.startsWith('/') || m.target.replace(/\/+$/, '') === '') throw new SbxError('invalid_argument', `create container: invalid mount target ${JSON.stringify(m.target)}: it must be an absolute path other than /`);
    if (m.type === 'bind') {
      if (!m.source.startsWith('/')) throw new SbxError('invalid_argument', `create container: invalid mount config for type "bind": invalid mount path: '${m.source}' mount path must be absolute`);
      try { await stat(m.source); } catch {
        throw new SbxError('invalid_argument', `create container: invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
      }
    }
    if (m.type === 'tmpfs') {
      out.push({ type: 'tmpfs', source: '', target: m.target, readonly: m.readonly, options: checkTmpfsOptions('--mount', m.target, m.options ?? []) });
      continue;
    }
    out.push({ type: m.type, source: m.source, target: m.target, readonly: m.readonly });
  }
  const seen = new Set<string>();
  for (const m of out) {
    const t = posix.normalize(m.target).replace(/\/+$/, '');
    if (seen.has(t)) throw new SbxError('invalid_argument', `create container: duplicate mount point: ${m.target}`);
    seen.add(t);
  }
  for (const m of inherited) {
    const t = posix.normalize(m.target).replace(/\/+$/, '');
    if (seen.has(t)) continue;
    seen.add(t);
    out.push(m);
  }
  for (const v of imageVolumes) {
    const t = posix.normalize(v).replace(/\/+$/, '');
    if (!t.startsWith('/') || t === '' || seen.has(t)) continue;
    seen.add(t);
    out.push({ type: 'volume', source: '', target: t, readonly: false, imageVolume: true });
  }
  return out;
}

/**
 * Create what the plan needs; fills in anonymous volumes' names. Returns the records and the
 * volumes made (the caller removes those if the create fails later).
 */
export async function makeMounts(plan: MountRecord[], volumes: VolumeStore): Promise<{ records: MountRecord[]; made: string[] }> {
  const made: string[] = [];
  const records: MountRecord[] = [];
  try {
    for (const m of plan) {
      if (m.type === 'tmpfs') { records.push(m); continue; }
      if (m.type === 'bind') {
        // -v makes a missing host directory (docker's rule); an existing file is bound as a file.
        if (m.fromBinds && !(await stat(m.source).then(() => true, () => false))) await mkdir(m.source, { recursive: true, mode: 0o755 });
        records.push(m);
        continue;
      }
      const { name, created } = await volumes.ensure(m.source);
      if (created) made.push(name);
      records.push({ ...m, source: name });
    }
  } catch (e) {
    for (const n of made) await volumes.remove(n, true).catch(() => undefined);
    throw SbxError.wrap(e, 'create container: mounts', 'invalid_argument');
  }
  return { records, made };
}

/** docker's copy-up: each new, empty volume gets what the image has at its target (links inside copied as links). */
export async function seedVolumes(records: MountRecord[], made: string[], volumes: VolumeStore, rootfs: Rootfs): Promise<void> {
  const todo = records.filter((m) => m.type === 'volume' && made.includes(m.source));
  if (!todo.length) return;
  const dir = await mkdtemp(join(dirname(rootfs.upperdir), '.seed-'));
  try {
    await mountAll(rootfs.mounts, dir);
    try {
      for (const m of todo) {
        const data = volumes.dataPath(m.source);
        if ((await readdir(data)).length) continue;
        const fd = openBeneath(dir, m.target);
        if (fd === undefined) continue;
        // the daemon's own fd, named so that cp (another process) reaches the same directory
        try { await run('cp', ['-a', '--', `/proc/${process.pid}/fd/${fd}/.`, `${data}/`]); } catch (e) {
          throw new SbxError('unavailable', `create container: copy the image's ${m.target} into volume ${m.source}: ${(e as { stderr?: string }).stderr?.trim() || String(e)}`);
        } finally { closeSync(fd); }
      }
    } finally {
      await unmount(dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An O_PATH fd on directory `path` under root, no link followed; undefined when it is not a directory there. */
function openBeneath(root: string, path: string): number | undefined {
  let fd = openSync(root, O_PATH | constants.O_DIRECTORY);
  try {
    for (const p of components(path)) {
      const next = openDirAt(fd, p);
      closeSync(fd);
      fd = next;
    }
    return fd;
  } catch {
    closeSync(fd);
    return undefined;
  }
}

/** The runtime's view of the records, resolved now. @throws invalid_argument (a bind source gone) */
export async function bindsFor(records: MountRecord[] | undefined, volumes: VolumeStore): Promise<BindMount[]> {
  const out: BindMount[] = [];
  for (const m of records ?? []) {
    if (m.type === 'tmpfs') continue;
    const host = m.type === 'bind' ? m.source : volumes.dataPath(m.source);
    let source: string;
    try { source = await realpath(host); } catch {
      throw new SbxError('invalid_argument', m.type === 'bind' ? `invalid mount config for type "bind": bind source path does not exist: ${m.source}` : `volume ${m.source}: no such volume`);
    }
    out.push({ source, target: m.target, readonly: m.readonly });
  }
  return out;
}

const MS_RDONLY = 1, MS_NOSUID = 2, MS_NOEXEC = 8;

/** The tmpfs mounts, docker's defaults (nosuid, noexec; nodev always) changed by their options. */
export function tmpfsFor(records: MountRecord[] | undefined): TmpfsMount[] {
  return (records ?? []).filter((m) => m.type === 'tmpfs').map((m) => {
    const opts = m.options ?? [];
    let flags = MS_NOSUID | MS_NOEXEC | (m.readonly ? MS_RDONLY : 0);
    if (opts.lastIndexOf('exec') > opts.lastIndexOf('noexec')) flags &= ~MS_NOEXEC;
    return { target: m.target, flags, data: opts.filter((o) => o.includes('=')).join(',') };
  });
}

/** docker inspect's Mounts, HostConfig.Binds, HostConfig.Mounts and HostConfig.Tmpfs. */
export function describeMounts(records: MountRecord[] | undefined, binds: string[] | undefined, volumes: VolumeStore): {
  mounts: MountPoint[]; binds: string[] | null; hostMounts?: NonNullable<ContainerInspect['HostConfig']['Mounts']>; tmpfs?: Record<string, string>;
} {
  const rs = records ?? [];
  const mounts = rs.filter((m) => !m.fromTmpfs).map((m): MountPoint => m.type === 'tmpfs'
    ? { Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: !m.readonly, Propagation: '' }
    : m.type === 'bind'
    ? { Type: 'bind', Source: m.source, Destination: m.target, Mode: m.mode ?? '', RW: !m.readonly, Propagation: 'rprivate' }
    : { Type: 'volume', Name: m.source, Source: volumes.dataPath(m.source), Destination: m.target, Driver: 'local', Mode: m.fromBinds ? 'z' : '', RW: !m.readonly, Propagation: '' });
  const fromFlag = rs.filter((m) => !m.fromBinds && !m.imageVolume && !m.fromTmpfs);
  const out: ReturnType<typeof describeMounts> = { mounts, binds: binds?.length ? binds : null };
  if (fromFlag.length) out.hostMounts = fromFlag.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readonly, ...(m.type === 'tmpfs' ? { TmpfsOptions: tmpfsOptions(m.options ?? []) } : {}) }));
  const tmpfs = rs.filter((m) => m.fromTmpfs);
  if (tmpfs.length) out.tmpfs = Object.fromEntries(tmpfs.map((m) => [m.target, [...(m.readonly ? ['ro'] : []), ...(m.options ?? [])].join(',')]));
  return out;
}

/** --mount's tmpfs-size / tmpfs-mode back as docker shows them (TmpfsOptions). */
function tmpfsOptions(opts: string[]): { SizeBytes?: number; Mode?: number } {
  const out: { SizeBytes?: number; Mode?: number } = {};
  for (const o of opts) {
    const m = /^size=(\d+)([kmg]?)$/i.exec(o);
    if (m) out.SizeBytes = Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2]!.toLowerCase()]!;
    if (o.startsWith('mode=')) out.Mode = parseInt(o.slice(5), 8);
  }
  return out;
}

/** rm -v / --rm: the container's own anonymous volumes that no other container mounts. */
export async function removeAnonymousVolumes(records: MountRecord[] | undefined, volumes: VolumeStore, inUse: (name: string) => boolean, log: Logger): Promise<void> {
  for (const m of records ?? []) {
    if (m.type !== 'volume' || m.inherited || !volumes.isAnonymous(m.source) || inUse(m.source)) continue;
    await volumes.remove(m.source).catch((e) => log.warn('remove anonymous volume', { name: m.source, error: String(e) }));
  }
}
