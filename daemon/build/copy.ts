/**
 * COPY/ADD without a container: the copied files are staged in a private directory laid out as
 * the container's tree (the destination's missing parents made 0755 root, existing ones with the
 * image's own metadata), then the staging directory IS the step's layer (packed by the caller).
 * Nothing is mounted and nothing runs.
 *
 * Which entries, and the checksum that keys the cache, are the front's (daemon/dockerfile/
 * context.ts resolveCopy/copyChecksum: globs, directories, trailing-slash rules, escapes refused,
 * no mtimes, --chmod hides the source mode). Here: a single file onto a directory the image
 * already has goes inside it; files are owned 0:0 unless --chown (a --from stage's owners are
 * kept); symlinks are copied as symlinks, never followed; heredocs become files of mode 0644.
 * ADD (add.ts): local tar archives are extracted, fetched URLs staged as 0600 files.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { SbxError } from '../../protocol/index.js';
import type { FsView } from '../snapshots/view.js';
import { copyChecksum, resolveCopy, type IgnoreMatcher } from '../dockerfile/context.js';
import type { SourceRange } from '../dockerfile/types.js';
import { extractArchive, openArchive, type Downloaded } from './add.js';

export interface StageCopyOptions {
  /** Host directory the sources are relative to. */
  srcRoot: string;
  sources: string[];
  /** Absolute; a trailing "/" makes it a directory. */
  dest: string;
  chmod?: string;
  chown?: string;
  uid: number;
  gid: number;
  /**
   * Heredoc sources: files named after the heredoc in a directory destination, or the
   * destination itself when it is the only source (`COPY <<EOF /etc/motd`); mode 0644.
   */
  heredocs: { name: string; content: string }[];
  /** ADD: URLs already fetched (add.ts download), staged as mode 0600 files with their Last-Modified. */
  urls?: Downloaded[];
  /** ADD: local tar archives named by the instruction are extracted into the destination. */
  extract?: boolean;
  signal?: AbortSignal;
  /** COPY --from: entries keep their owner unless --chown (docker). */
  fromStage?: boolean;
  ignore?: IgnoreMatcher;
  src: SourceRange;
  what: 'COPY' | 'ADD';
  /** The parent image's tree: ancestors' metadata and whether dest is a directory already. */
  image: FsView;
  /** Empty directory to stage into. */
  stageDir: string;
  /** An error naming the instruction's line. */
  fail: (why: string) => SbxError;
}

export interface StagedCopy { kind: 'file' | 'dir' | 'multi'; hex: string; entries: number }

/** WORKDIR: stage `dir` (and its missing parents) as directories, nothing else. */
export async function stageMkdir(o: Pick<StageCopyOptions, 'image' | 'stageDir' | 'fail' | 'uid' | 'gid'>, dir: string): Promise<void> {
  await ancestors(o, posix.normalize(dir), false);
}

export async function stageCopy(o: StageCopyOptions): Promise<StagedCopy> {
  const destDirSyntax = o.dest.endsWith('/');
  const dest = posix.normalize(o.dest).replace(/\/$/, '') || '/';
  const sum = createHash('sha256');
  let entries = 0;
  let kind: StagedCopy['kind'] = 'multi';
  const own = (e: { uid: number; gid: number }) => (o.chown !== undefined || !o.fromStage ? { uid: o.uid, gid: o.gid } : { uid: e.uid, gid: e.gid });
  const urls = o.urls ?? [];
  const others = o.heredocs.length + urls.length;
  if (o.sources.length) {
    const r = await resolveCopy(o.srcRoot, o.sources, { src: o.src, destIsDir: destDirSyntax || others > 0, what: o.what, ...(o.ignore ? { ignore: o.ignore } : {}) });
    sum.update(await copyChecksum(o.srcRoot, r, { ...(o.chmod !== undefined ? { chmod: o.chmod } : {}), ...(o.chown !== undefined ? { chown: `${o.uid}:${o.gid}` } : {}), keepOwner: !!o.fromStage }));
    kind = others ? 'multi' : r.sumKind ?? 'multi';
    // a single file onto a directory the image has goes inside it
    const intoDir = r.destIsDir || (await o.image.lstat(dest))?.kind === 'dir';
    for (const e of r.entries) {
      const target = e.rel === '' ? (intoDir && e.type !== 'dir' ? posix.join(dest, posix.basename(e.path)) : dest) : posix.join(intoDir ? dest : posix.dirname(dest), e.rel);
      await ancestors(o, posix.dirname(target), false);
      const host = join(o.stageDir, target);
      const src = join(o.srcRoot, e.path);
      const mode = o.chmod !== undefined && e.type !== 'symlink' ? parseInt(o.chmod, 8) : e.mode;
      if (e.type === 'dir') {
        if (target === '/') continue;
        if (!(await lstat(host).catch(() => undefined))) await mkdir(host);
        await meta(host, mode, own(e));
      } else if (e.type === 'symlink') {
        await symlink(e.linkTarget!, host);
        await lchown(host, own(e).uid, own(e).gid);
      } else {
        const archive = o.extract && e.source ? await openArchive(src) : undefined;
        if (archive) {
          // docker: the archive's contents go into the destination directory itself
          await ancestors(o, dest, false);
          await extractArchive(archive, join(o.stageDir, dest), {
            name: e.path, fail: o.fail, ...(o.chown !== undefined ? { chown: { uid: o.uid, gid: o.gid } } : {}), ...(o.signal ? { signal: o.signal } : {}),
          });
          entries++;
          continue;
        }
        await copyFile(src, host);
        const st = await stat(src);
        await meta(host, mode, own(e), st.mtime);
      }
      entries++;
    }
  }
  // one source onto a path that is not a directory (no trailing '/', none in the image): the file itself
  const asFile = o.sources.length + others === 1 && !destDirSyntax && (await o.image.lstat(dest))?.kind !== 'dir';
  if (o.sources.length === 0 && others === 1) kind = 'file';
  for (const h of o.heredocs) {
    const target = asFile ? dest : posix.join(dest, h.name);
    await ancestors(o, posix.dirname(target), false);
    const host = join(o.stageDir, target);
    await writeFile(host, h.content);
    await meta(host, o.chmod !== undefined ? parseInt(o.chmod, 8) : 0o644, { uid: o.uid, gid: o.gid });
    sum.update(`heredoc ${h.name} ${createHash('sha256').update(h.content).digest('hex')}\n`);
    entries++;
  }
  for (const u of urls) {
    const target = asFile ? dest : posix.join(dest, u.name);
    await ancestors(o, posix.dirname(target), false);
    const host = join(o.stageDir, target);
    await copyFile(u.file, host);
    const mode = o.chmod !== undefined ? parseInt(o.chmod, 8) : 0o600;
    await meta(host, mode, { uid: o.uid, gid: o.gid }, u.lastModified ?? new Date(0));
    sum.update(`url ${posix.basename(target)} ${mode} ${o.uid}:${o.gid} ${u.sha256}\n`);
    entries++;
  }
  return { kind, hex: sum.digest('hex'), entries };
}

/** Make `dir` and its parents in the stage: the image's metadata where it has them, else 0755 root. */
async function ancestors(o: Pick<StageCopyOptions, 'image' | 'stageDir' | 'fail' | 'uid' | 'gid'>, dir: string, isDest: boolean): Promise<void> {
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

async function meta(host: string, mode: number, own: { uid: number; gid: number }, mtime?: Date): Promise<void> {
  await lchown(host, own.uid, own.gid);
  await chmod(host, mode & 0o7777);
  if (mtime) await lutimes(host, mtime, mtime);
}

