/**
 * COPY/ADD without a container: the copied files are staged in a private directory laid out as
 * the container's tree (the destination's missing parents made 0755 root, existing ones with the
 * image's own metadata), then the staging directory IS the step's layer (packed by the caller).
 * Nothing is mounted and nothing runs.
 *
 * Rules (docker's): a source is a path or a glob relative to the source root (the context or a
 * stage's tree); `..` leaving it, or a symlink source whose target leaves it, is an error; a
 * directory source copies its contents; several sources, a glob or a destination ending in "/"
 * make the destination a directory (several sources need the "/"); a file onto an existing
 * directory of the image goes inside it. Files are owned 0:0 unless --chown, modes kept unless
 * --chmod. Symlinks inside a copied directory are copied as symlinks, never followed.
 *
 * The checksum (the cache key's content part) covers each staged entry's path, type, mode (as
 * chmod'ed), owner (as chown'ed), link target and content bytes, directories included, mtimes
 * excluded; the source's mode cannot reach it when --chmod replaces it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { join, matchesGlob, posix } from 'node:path';
import { SbxError } from '../../protocol/index.js';
import type { FsView } from '../changes/view.js';

export interface StageCopyOptions {
  /** Host directory the sources are relative to. */
  srcRoot: string;
  sources: string[];
  /** Absolute; a trailing "/" makes it a directory. */
  dest: string;
  chmod?: number;
  uid: number;
  gid: number;
  /** Heredoc sources (`COPY <<EOF /dest`): written as files named after the heredoc, mode 0644. */
  heredocs: { name: string; content: string }[];
  /** ADD (local tar archives are extracted: not yet, they are copied as files). */
  add?: boolean;
  /** WORKDIR: only make `dest` (and its missing parents) as a directory. */
  mkdirOnly?: boolean;
  /** The parent image's tree: ancestors' metadata and whether dest is a directory already. */
  image: FsView;
  /** Empty directory to stage into. */
  stageDir: string;
  /** An error naming the instruction's line. */
  fail: (why: string) => SbxError;
}

export interface StagedCopy { kind: 'file' | 'dir' | 'multi'; hex: string; entries: number }

interface Item { host: string; name: string; dir: boolean; heredoc?: string }

const GLOB = /[*?[]/;

export async function stageCopy(o: StageCopyOptions): Promise<StagedCopy> {
  const items: Item[] = [];
  let globbed = false;
  if (o.mkdirOnly) {
    await ancestors(o, posix.normalize(o.dest), false);
    return { kind: 'dir', hex: '', entries: 0 };
  }
  for (const h of o.heredocs) items.push({ host: '', name: h.name, dir: false, heredoc: h.content });
  for (const raw of o.sources) {
    if (/^https?:\/\//.test(raw)) throw o.fail(`ADD ${raw}: remote URLs are not supported yet`);
    const clean = posix.normalize(`/${raw}`).slice(1);
    if (posix.normalize(raw).startsWith('..')) throw o.fail(`COPY failed: forbidden path outside the build context: ${raw}`);
    const paths = GLOB.test(clean) ? await glob(o.srcRoot, clean) : [clean];
    if (GLOB.test(clean)) globbed = true;
    if (paths.length === 0) throw o.fail(`COPY failed: no source files were specified (${raw} matched nothing)`);
    for (const p of paths) items.push(await sourceItem(o, p, raw));
  }
  const destDirSyntax = o.dest.endsWith('/');
  const dest = posix.normalize(o.dest).replace(/\/$/, '') || '/';
  if (items.length > 1 && !destDirSyntax && !globbed) {
    throw o.fail('When using COPY with more than one source file, the destination must be a directory and end with a /');
  }
  const destIsDir = destDirSyntax || items.length > 1 || globbed || items.some((i) => i.dir)
    || (await o.image.lstat(dest))?.kind === 'dir';

  const sum = createHash('sha256');
  let entries = 0;
  const record = (path: string, type: string, mode: number, uid: number, gid: number, extra: string): void => {
    sum.update(`${path}\0${type}\0${(mode & 0o7777).toString(8)}\0${uid}:${gid}\0${extra}\n`);
    entries++;
  };
  const own = { uid: o.uid, gid: o.gid };
  for (const it of items) {
    const target = it.dir ? dest : destIsDir ? posix.join(dest, posix.basename(it.name)) : dest;
    await ancestors(o, it.dir ? target : posix.dirname(target), it.dir);
    const host = join(o.stageDir, target);
    if (it.heredoc !== undefined) {
      await writeFile(host, it.heredoc);
      const mode = o.chmod ?? 0o644;
      await meta(host, mode, own);
      record(target, 'file', mode, own.uid, own.gid, digest(Buffer.from(it.heredoc)));
    } else if (it.dir) {
      await copyTree(o, it.host, target, record, own);
    } else {
      const st = await lstat(it.host);
      await copyFile(it.host, host);
      const mode = o.chmod ?? st.mode;
      await meta(host, mode, own, st.mtime);
      record(target, 'file', mode, own.uid, own.gid, await fileDigest(it.host));
    }
  }
  const kind = items.length === 1 ? (items[0]!.dir ? 'dir' : 'file') : 'multi';
  return { kind, hex: sum.digest('hex'), entries };
}

async function sourceItem(o: StageCopyOptions, p: string, raw: string): Promise<Item> {
  const host = p === '' ? o.srcRoot : join(o.srcRoot, p);
  const st = await lstat(host).catch(() => undefined);
  if (!st) throw o.fail(`COPY failed: file not found in build context or excluded by .dockerignore: stat ${raw}: file does not exist`);
  if (st.isSymbolicLink()) {
    const real = await realpath(host).catch(() => undefined);
    const root = await realpath(o.srcRoot);
    if (!real || (real !== root && !real.startsWith(root + '/'))) throw o.fail(`COPY failed: forbidden path outside the build context: ${raw} (a symlink pointing outside it)`);
    const rst = await lstat(real);
    return { host: real, name: p, dir: rst.isDirectory() };
  }
  return { host, name: p || '.', dir: st.isDirectory() };
}

async function glob(root: string, pattern: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const n of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      if (matchesGlob(r, pattern)) { out.push(r); continue; }
      if ((await lstat(join(root, r))).isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}

/** Make `dir` and its parents in the stage: the image's metadata where it has them, else 0755 root. */
async function ancestors(o: StageCopyOptions, dir: string, isDest: boolean): Promise<void> {
  const parts = dir.split('/').filter(Boolean);
  let cur = '';
  for (let i = 0; i < parts.length; i++) {
    cur += `/${parts[i]}`;
    const host = join(o.stageDir, cur);
    if (await lstat(host).catch(() => undefined)) continue;
    const e = await o.image.lstat(cur);
    if (e && e.kind === 'symlink') throw o.fail(`COPY to ${dir}: ${cur} is a symlink in the image (not supported yet)`);
    if (e && e.kind !== 'dir') throw o.fail(`COPY to ${dir}: ${cur} is not a directory in the image`);
    await mkdir(host);
    if (e) await meta(host, e.mode, { uid: e.uid, gid: e.gid }, new Date(Number(e.mtimeSec) * 1000));
    else await meta(host, 0o755, isDest && i === parts.length - 1 ? { uid: o.uid, gid: o.gid } : { uid: 0, gid: 0 });
  }
}

type Record_ = (path: string, type: string, mode: number, uid: number, gid: number, extra: string) => void;

async function copyTree(o: StageCopyOptions, src: string, target: string, record: Record_, own: { uid: number; gid: number }): Promise<void> {
  const st = await lstat(src);
  const mode = o.chmod ?? st.mode;
  record(target, 'dir', mode, own.uid, own.gid, '');
  for (const n of (await readdir(src)).sort()) {
    const s = join(src, n);
    const t = posix.join(target, n);
    const host = join(o.stageDir, t);
    const cst = await lstat(s);
    if (cst.isDirectory()) {
      await mkdir(host);
      await copyTree(o, s, t, record, own);
    } else if (cst.isSymbolicLink()) {
      const to = await readlink(s);
      await symlink(to, host);
      await lchown(host, own.uid, own.gid);
      record(t, 'symlink', 0o777, own.uid, own.gid, to);
    } else if (cst.isFile()) {
      await copyFile(s, host);
      const m = o.chmod ?? cst.mode;
      await meta(host, m, own, cst.mtime);
      record(t, 'file', m, own.uid, own.gid, await fileDigest(s));
    }
  }
  const host = join(o.stageDir, target);
  if (target !== '/') await meta(host, mode, own, st.mtime);
}

async function meta(host: string, mode: number, own: { uid: number; gid: number }, mtime?: Date): Promise<void> {
  await lchown(host, own.uid, own.gid);
  await chmod(host, mode & 0o7777);
  if (mtime) await lutimes(host, mtime, mtime);
}

function digest(b: Buffer): string { return createHash('sha256').update(b).digest('hex'); }

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}
