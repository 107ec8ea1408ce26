/**
 * RUN --mount: what each mount of a RUN step is on the host, what it adds to the step's cache
 * key, and the empty mount points it leaves in the container layer (removed before the commit,
 * as BuildKit removes its mount stubs), so a mount never ends up in an image.
 *
 * - type=cache: CacheMounts (cache-mounts.ts) by id (default: the target), read-write unless ro;
 *   its content is not in the key (BuildKit: a cache is not an input).
 * - type=bind without from: a path of the build context (default: all of it), read-only unless
 *   rw; .dockerignore applies (the excluded files are not there). Its content checksum (as
 *   COPY's, dockerfile/context.ts) is in the key, so editing a bound file reruns the step.
 * - type=bind,from=STAGE|IMAGE: a path of that image's tree, symlinks resolved inside it; the
 *   image ID is in the key. rw: the RUN writes into a private copy, thrown away afterwards.
 * - tmpfs, secret, ssh and cache from= are refused naming the line (not supported yet).
 * A relative target is relative to the step's working directory (BuildKit).
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, rm, rmdir, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { SbxError } from '../../protocol/index.js';
import { copyChecksum, resolveCopy, resolveInRoot, type IgnoreMatcher } from '../dockerfile/context.js';
import type { ResolvedCopy, RunMount, SourceRange } from '../dockerfile/types.js';
import type { LoadedImage } from '../images/resolve.js';
import type { BindMount } from '../runtime/runtime.js';
import type { FsView } from '../snapshots/view.js';
import type { CacheMounts } from './cache-mounts.js';
import { withMountedImage, type TreeDeps } from './tree.js';

const pexec = promisify(execFile);

export interface MountDeps extends TreeDeps { cacheMounts: CacheMounts }

export interface MountContext {
  contextDir: string;
  ignore?: IgnoreMatcher;
  /** Private scratch directory of the build. */
  tmp: string;
  workdir: string;
  src: SourceRange;
  fromImage: (ref: string) => Promise<LoadedImage>;
  fail: (why: string) => SbxError;
}

type Planned =
  | { kind: 'cache'; m: RunMount; target: string; id: string }
  | { kind: 'context'; m: RunMount; target: string; resolved: ResolvedCopy }
  | { kind: 'image'; m: RunMount; target: string; image: LoadedImage; source: string };

export interface MountPlan {
  mounts: Planned[];
  /** What the mounts add to the step's cache key ('' without bind mounts). */
  key: string;
}

/** Check the mounts and find their sources (no mounting yet): the key is known before the cache lookup. */
export async function planMounts(list: RunMount[], c: MountContext): Promise<MountPlan> {
  const mounts: Planned[] = [];
  const key: string[] = [];
  for (const m of list) {
    const target = posix.isAbsolute(m.target) ? posix.normalize(m.target) : posix.join('/', c.workdir, m.target);
    if (m.type === 'cache') {
      if (m.from !== undefined) throw c.fail(`RUN --mount=type=cache,from=${m.from}: a cache seeded from another image is not supported yet`);
      mounts.push({ kind: 'cache', m, target, id: m.id || m.target });
    } else if (m.type === 'bind' && m.from === undefined) {
      const resolved = await resolveCopy(c.contextDir, [m.source ?? '.'], { src: c.src, what: 'RUN --mount', ...(c.ignore ? { ignore: c.ignore } : {}) });
      key.push(`bind context:${m.source ?? '.'} ${target} ${await copyChecksum(c.contextDir, resolved, { keepOwner: true })}`);
      mounts.push({ kind: 'context', m, target, resolved });
    } else if (m.type === 'bind') {
      const image = await c.fromImage(m.from!);
      key.push(`bind ${m.from}=${image.configDigest}:${m.source ?? '/'} ${target}`);
      mounts.push({ kind: 'image', m, target, image, source: m.source ?? '/' });
    } else {
      throw c.fail(`RUN --mount=type=${m.type} is not supported yet`);
    }
  }
  return { mounts, key: key.join('\n') };
}

/**
 * Prepare every mount on the host for fn, then undo it all (image views unmounted, private
 * copies removed, cache mounts released), also when fn throws.
 */
export async function withMounts<T>(deps: MountDeps, plan: MountPlan, c: MountContext, fn: (binds: BindMount[]) => Promise<T>): Promise<T> {
  const binds: BindMount[] = [];
  const scratch: string[] = [];
  const next = async (i: number): Promise<T> => {
    if (i === plan.mounts.length) return fn(binds);
    const p = plan.mounts[i]!;
    const bind = async (source: string): Promise<T> => {
      binds.push({ source, target: p.target, readonly: p.m.readonly });
      return next(i + 1);
    };
    const own = (): string => { const d = join(c.tmp, `mount-${randomBytes(6).toString('hex')}`); scratch.push(d); return d; };
    if (p.kind === 'cache') {
      return deps.cacheMounts.use(p.id, {
        ...(p.m.sharing ? { sharing: p.m.sharing } : {}), ...(p.m.mode !== undefined ? { mode: p.m.mode } : {}),
        ...(p.m.uid !== undefined ? { uid: p.m.uid } : {}), ...(p.m.gid !== undefined ? { gid: p.m.gid } : {}),
      }, bind);
    }
    if (p.kind === 'context') {
      const top = p.resolved.entries[0]!;
      // read-only and nothing excluded: the context itself; else a tree of what the mount may show
      if (p.m.readonly && !c.ignore?.patterns.length) return bind(join(c.contextDir, top.path));
      const dir = own();
      await materialize(c.contextDir, p.resolved, dir, p.m.readonly);
      return bind(dir);
    }
    return withMountedImage(deps, p.image, c.tmp, async (root) => {
      const real = join(root, await resolveInRoot(root, p.source, c.src, 'stage'));
      if (p.m.readonly) return bind(real);
      const dir = own();
      await pexec('cp', ['-a', '--', real, dir]);
      return bind(dir);
    });
  };
  try {
    return await next(0);
  } finally {
    for (const d of scratch) await rm(d, { recursive: true, force: true });
  }
}

/** The entries of a context bind written under `out` (hard links when read-only, copies when writable). */
async function materialize(root: string, r: ResolvedCopy, out: string, hardlink: boolean): Promise<void> {
  for (const e of r.entries) {
    const dst = e.rel === '' ? out : join(out, e.rel);
    const src = join(root, e.path);
    if (e.rel !== '') await mkdir(dirname(dst), { recursive: true });
    if (e.type === 'dir') {
      await mkdir(dst, { recursive: true });
      await lchown(dst, e.uid, e.gid);
      await chmod(dst, e.mode);
    } else if (e.type === 'symlink') {
      await symlink(e.linkTarget!, dst);
      await lchown(dst, e.uid, e.gid);
    } else if (hardlink) {
      await link(src, dst);
    } else {
      await copyFile(src, dst);
      const st = await stat(src);
      await lchown(dst, e.uid, e.gid);
      await chmod(dst, e.mode);
      await utimes(dst, st.atime, st.mtime);
    }
  }
}

/**
 * The mount points a RUN will have to create in its container layer: for each target, the path
 * from its first component missing in the parent image down to the target. A target under a
 * symlink of the image is left alone (where it lands is the container's business).
 */
export async function mountStubs(view: FsView, plan: MountPlan): Promise<{ paths: string[]; parents: { path: string; mtime: Date }[] }> {
  const paths: string[] = [];
  const parents: { path: string; mtime: Date }[] = [];
  for (const p of plan.mounts) {
    const parts = p.target.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      const parent = cur || '/';
      cur += `/${parts[i]}`;
      const e = await view.lstat(cur);
      if (e?.kind === 'symlink') break;
      if (e) continue;
      const pe = await view.lstat(parent);
      if (pe) parents.push({ path: parent, mtime: new Date(Number(pe.mtimeSec) * 1000 + Math.floor(pe.mtimeNsec / 1e6)) });
      for (let j = i; j < parts.length; j++) paths.push('/' + parts.slice(0, j + 1).join('/'));
      break;
    }
  }
  return { paths, parents };
}

/** Remove the stubs still empty from the container's writable tree (deepest first), restore their parents' mtimes. */
export async function removeStubs(upperdir: string, stubs: Awaited<ReturnType<typeof mountStubs>>): Promise<void> {
  for (const p of [...new Set(stubs.paths)].sort((a, b) => b.length - a.length)) {
    const host = join(upperdir, p);
    const st = await lstat(host).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await rmdir(host).catch(() => undefined);
    else if (st.isFile() && st.size === 0) await unlink(host).catch(() => undefined);
  }
  for (const { path, mtime } of stubs.parents) {
    const host = join(upperdir, path);
    if (await lstat(host).catch(() => undefined)) await lutimes(host, mtime, mtime).catch(() => undefined);
  }
}
