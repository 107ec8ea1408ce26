/**
 * ContainerFiles: `sbx cp` and `sbx export` as plain calls (the API's archive/export routes).
 *
 * Contract
 * - stat/archive read the container's merged tree (differ.withTree: a read-only view, safe while
 *   it runs), resolving the path inside its root (files/resolve.ts): links on the way are
 *   followed as if the root were "/", the last one only with `follow`. archive's stream is one
 *   top entry named after the path's last component (docker's), its children below it.
 * - extract writes through the container's own tree: a running container's root as its PID 1
 *   sees it (/proc/PID/root, checked not to be the host's), a stopped one's rootfs mounted for
 *   the call; its snapshot format does not matter. The change journal then records what was
 *   written (flushed now for a running container, a one-off rescan for a stopped one), so it
 *   shows in `sbx diff`, `sbx events` and a commit.
 * - export: the whole merged tree (no whiteouts; the runtime's mount points as the tree has them).
 * Errors: not_found "Could not find the file P in container C" (docker's text), invalid_argument
 * (extraction point not a directory, a bad archive), failed_precondition (type conflicts,
 * read-only places), unavailable (a container just starting: its root is not pivoted yet).
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { GO_MODE, SbxError, type PathStat } from '../../protocol/index.js';
import { packTree } from '../archive/pack.js';
import type { Differ, Rootfs } from '../snapshots/differ.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import { O_PATH, fdPath } from '../util/beneath.js';
import { extractBeneath } from './extract.js';
import { resolveIn, type Resolved } from './resolve.js';

/** The part of containers/manager.ts's ContainerManager this service reads. */
export interface FileContainers {
  get(ref: string): { config: { id: string; name: string }; state: { status: string }; pid1: number };
  rootfs(id: string): Promise<Rootfs>;
}

/** The change recorder's part: bring the journal up to date after a write. */
export interface FileJournal { rescan(id: string): Promise<void> }

export interface FilesDeps { containers: FileContainers; differ: Differ; changes: FileJournal }

export interface ArchiveOptions { follow?: boolean; signal?: AbortSignal }
export interface ExtractOptions { copyUidGid?: boolean; noOverwriteDirNonDir?: boolean; signal?: AbortSignal }

const DIR_FLAGS = O_PATH | constants.O_DIRECTORY;

export class ContainerFiles {
  constructor(private readonly deps: FilesDeps) {}

  stat(ref: string, path: string, o: ArchiveOptions = {}): Promise<PathStat> {
    return this.read(ref, async (rootFd) => {
      const r = this.resolve(rootFd, ref, path, o.follow === true);
      try { return statOf(r, path); } finally { r.close(); }
    });
  }

  /** The stat, and the tar (the container's tree stays mounted until the stream ends). */
  async archive(ref: string, path: string, o: ArchiveOptions = {}): Promise<{ stat: PathStat; stream: Readable }> {
    const out = quiet(new PassThrough());
    let ready!: (s: PathStat) => void;
    let fail!: (e: unknown) => void;
    const statP = new Promise<PathStat>((res, rej) => { ready = res; fail = rej; });
    this.read(ref, async (rootFd) => {
      const r = this.resolve(rootFd, ref, path, o.follow === true);
      try {
        const stat = statOf(r, path);
        ready(stat);
        const dir = fdPath(r.dirFd);
        const packed = r.name === ''
          ? packTree(dir, { ...signal(o) })
          : packTree(dir, { ...signal(o), exclude: only(r.name), rebase: { from: r.name, to: stat.name } });
        await feed(packed, out);
      } finally {
        r.close();
      }
    }).catch((e: unknown) => { fail(e); out.destroy(e as Error); });
    return { stat: await statP, stream: out };
  }

  async extract(ref: string, path: string, tar: Readable, o: ExtractOptions = {}): Promise<void> {
    const c = this.deps.containers.get(ref);
    await this.write(ref, async (rootFd) => {
      const r = this.resolve(rootFd, ref, path, true);
      let fd: number | undefined;
      try {
        if (!r.stat?.isDirectory()) throw new SbxError('invalid_argument', `extraction point is not a directory: ${path}`);
        fd = r.name === '' ? openSync(fdPath(rootFd), DIR_FLAGS) : openSync(fdPath(r.dirFd, r.name), DIR_FLAGS | constants.O_NOFOLLOW);
        await extractBeneath(fd, tar, { ...o, copyUidGid: o.copyUidGid === true, noOverwriteDirNonDir: o.noOverwriteDirNonDir === true, shown: r.path });
      } finally {
        if (fd !== undefined) closeSync(fd);
        r.close();
      }
    });
    await this.deps.changes.rescan(c.config.id);
  }

  async export(ref: string, o: { signal?: AbortSignal } = {}): Promise<Readable> {
    const out = quiet(new PassThrough());
    let ready!: () => void;
    let fail!: (e: unknown) => void;
    const started = new Promise<void>((res, rej) => { ready = res; fail = rej; });
    this.read(ref, async (rootFd) => {
      ready();
      await feed(packTree(fdPath(rootFd), signal(o)), out);
    }).catch((e: unknown) => { fail(e); out.destroy(e as Error); });
    await started;
    return out;
  }

  private resolve(rootFd: number, ref: string, path: string, follow: boolean): Resolved {
    const abs = path.startsWith('/') ? path : `/${path}`;
    const r = resolveIn(rootFd, abs, { follow });
    if (!r || !r.stat) {
      r?.close();
      throw new SbxError('not_found', `Could not find the file ${path} in container ${ref}`);
    }
    return r;
  }

  /** fn with an O_PATH fd on the root of the container's merged tree, read-only. */
  private async read<T>(ref: string, fn: (rootFd: number) => Promise<T>): Promise<T> {
    const c = this.deps.containers.get(ref);
    const rootfs = await this.deps.containers.rootfs(c.config.id);
    return this.deps.differ.withTree(rootfs, async (dir) => {
      const fd = openSync(dir, DIR_FLAGS);
      try { return await fn(fd); } finally { closeSync(fd); }
    });
  }

  /** fn with an O_PATH fd on the root of the container's writable tree. */
  private async write<T>(ref: string, fn: (rootFd: number) => Promise<T>): Promise<T> {
    const c = this.deps.containers.get(ref);
    if (c.state.status === 'running' || c.state.status === 'paused') {
      if (!c.pid1) throw new SbxError('unavailable', `copy into container ${ref}: it is starting or stopping; retry`);
      const fd = openSync(`/proc/${c.pid1}/root`, DIR_FLAGS);
      try {
        // Before its pivot_root a starting container's PID 1 still sees the host's root.
        const host = statSync('/');
        const st = fstatSync(fd);
        if (st.dev === host.dev && st.ino === host.ino) throw new SbxError('unavailable', `copy into container ${ref}: it is starting; retry`);
        return await fn(fd);
      } finally {
        closeSync(fd);
      }
    }
    const rootfs = await this.deps.containers.rootfs(c.config.id);
    const target = await mkdtemp(join(dirname(rootfs.upperdir), '.cp-'));
    try {
      await mountAll(rootfs.mounts, target);
      try {
        const fd = openSync(target, DIR_FLAGS);
        try { return await fn(fd); } finally { closeSync(fd); }
      } finally {
        await unmount(target);
      }
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  }
}

/**
 * Pipe a packTree stream into the stream the router reads, until either ends. When the reader
 * goes away the pack is destroyed without an error: destroying packTree's Readable.from with one
 * leaves a rejected promise inside tar-stream's iterator that nobody awaits (an unhandled
 * rejection ends sbxd).
 */
function feed(packed: Readable, out: PassThrough): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    packed.on('error', (e) => { out.destroy(e); reject(e); });
    out.on('close', () => { if (!packed.readableEnded) packed.destroy(); resolve(); });
    packed.pipe(out);
  });
}

/**
 * A stream handed to the router: its errors reach the router's pipeline while it reads; one that
 * comes after (the client went away, or the path was not found before any reader) must not be an
 * unhandled 'error' event that ends sbxd.
 */
function quiet(s: PassThrough): PassThrough {
  s.on('error', () => undefined);
  return s;
}

/** Exclude everything at the top but `name` (and what is under it). */
function only(name: string): (p: string) => boolean {
  const top = `/${name}`;
  return (p) => p !== top && !p.startsWith(`${top}/`);
}

function signal(o: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return o.signal ? { signal: o.signal } : {};
}

/** docker's ContainerPathStat of the resolved entry; `name` is the requested path's last component. */
function statOf(r: Resolved, requested: string): PathStat {
  const st = r.stat!;
  const trimmed = requested.replace(/\/+\.?$/, '').replace(/\/+$/, '');
  const name = trimmed === '' ? '/' : trimmed.slice(trimmed.lastIndexOf('/') + 1);
  let mode = st.mode & 0o777;
  if (st.mode & 0o4000) mode += GO_MODE.setuid;
  if (st.mode & 0o2000) mode += GO_MODE.setgid;
  if (st.mode & 0o1000) mode += GO_MODE.sticky;
  if (st.isDirectory()) mode += GO_MODE.dir;
  else if (st.isSymbolicLink()) mode += GO_MODE.symlink;
  else if (st.isFIFO()) mode += GO_MODE.pipe;
  else if (st.isSocket()) mode += GO_MODE.socket;
  else if (st.isCharacterDevice()) mode += GO_MODE.device + GO_MODE.charDevice;
  else if (st.isBlockDevice()) mode += GO_MODE.device;
  const abs = requested.startsWith('/') ? requested : `/${requested}`;
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    try { linkTarget = readlinkAt(r); } catch { linkTarget = ''; }
  } else if (r.path !== (abs.replace(/\/+\.?$/, '') || '/')) {
    linkTarget = r.path;
  }
  return { name, size: Number(st.size), mode, mtime: st.mtime.toISOString(), linkTarget };
}

function readlinkAt(r: Resolved): string {
  return readlinkSync(fdPath(r.dirFd, r.name));
}
