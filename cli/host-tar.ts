/**
 * The host side of `sbx cp`: a host path packed as the tar the daemon extracts, and a tar from a
 * container extracted onto the host, as docker's CLI does (archive.TarWithOptions / CopyTo).
 * - packHost names the top entry `to` (its children below it), or with `to` '' packs a
 *   directory's children only ("dir/."); symlinks stay symlinks (`-L` follows only SRC itself).
 * - extractHost renames the archive's top entry `from` to `to` ('' : its children go straight
 *   into `dir`), refuses ".." and absolute names and never writes through a symlink below `dir`,
 *   so a link the container planted in the archive cannot steer a later entry out of `dir`.
 *   Owners are not restored (docker's NoLchown); a directory never replaces a non-directory nor
 *   the reverse. Modes and mtimes are the archive's.
 */
import { createReadStream } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, open, readdir, readlink, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export async function packHost(path: string, to: string, follow: boolean): Promise<Readable> {
  const pack = tar.pack();
  const put = (h: Partial<tar.Header> & { name: string }, body?: Readable): Promise<void> => new Promise((res, rej) => {
    const sink = pack.entry(h as tar.Header, (e) => (e ? rej(e) : res()));
    if (body) pipeline(body, sink as unknown as NodeJS.WritableStream).catch(rej);
    else (sink as unknown as { end(): void }).end();
  });
  const add = async (p: string, name: string, st: Stats): Promise<void> => {
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (name) await put({ ...base, name: `${name}/`, type: 'directory' });
      for (const n of (await readdir(p)).sort()) await add(join(p, n), name ? `${name}/${n}` : n, await lstat(join(p, n)));
    } else if (st.isSymbolicLink()) {
      await put({ ...base, type: 'symlink', linkname: await readlink(p) });
    } else if (st.isFile()) {
      await put({ ...base, type: 'file', size: st.size }, createReadStream(p));
    }
  };
  const top = follow ? await stat(path) : await lstat(path);
  void add(path, to, top).then(() => pack.finalize(), (e: unknown) => pack.destroy(e as Error));
  return pack as unknown as Readable;
}

export async function extractHost(archive: Readable, dir: string, from: string, to: string): Promise<void> {
  if (from === '' && to !== '') await mkdir(join(dir, to), { recursive: true });
  const ex = tar.extract();
  const feeding = pipeline(archive, ex as unknown as NodeJS.WritableStream);
  feeding.catch(() => undefined);
  const dirTimes: [string, Date][] = [];
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const name = renamed(h.name, from, to);
      if (name === undefined) { entry.resume(); continue; }
      const target = await safeParent(dir, name);
      const old = await lstat(target).catch(() => undefined);
      const isDir = h.type === 'directory';
      if (old && old.isDirectory() !== isDir) {
        throw new Error(old.isDirectory() ? `cannot overwrite directory "${target}" with non-directory "${h.name}"`
          : `cannot overwrite non-directory "${target}" with directory "${h.name}"`);
      }
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date();
      if (isDir) {
        if (!old) await mkdir(target);
        await chmod(target, mode);
        dirTimes.push([target, mtime]);
        entry.resume();
        continue;
      }
      if (old) await unlink(target);
      if (h.type === 'symlink') {
        await symlink(h.linkname ?? '', target);
        await lutimes(target, mtime, mtime);
        entry.resume();
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of entry as AsyncIterable<Buffer>) await fh.write(chunk);
          await fh.chmod(mode);
          await fh.utimes(mtime, mtime);
        } finally {
          await fh.close();
        }
      } else {
        entry.resume(); // links, devices and fifos are not made on the host
      }
    }
    await feeding;
    for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t);
  } catch (e) {
    ex.destroy();
    await feeding.catch(() => undefined);
    throw e;
  }
}

/** The entry's name after the rename; undefined to skip it. */
function renamed(raw: string, from: string, to: string): string | undefined {
  const name = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (name === '' || name === '.') return undefined;
  if (from === '') return to ? `${to}/${name}` : name;
  if (name === from) return to === '' ? undefined : to;
  if (name.startsWith(`${from}/`)) return to === '' ? name.slice(from.length + 1) : `${to}${name.slice(from.length)}`;
  return name;
}

/** dir/name with every parent below `dir` a real directory (made if missing); throws on "..", "/" or a symlink. */
async function safeParent(dir: string, name: string): Promise<string> {
  const parts = name.split('/');
  if (name.startsWith('/') || parts.some((p) => p === '..' || p === '')) throw new Error(`archive entry ${JSON.stringify(name)}: not a relative path inside the destination`);
  let at = dir;
  for (const p of parts.slice(0, -1)) {
    at = join(at, p);
    const st = await lstat(at).catch(() => undefined);
    if (!st) await mkdir(at);
    else if (!st.isDirectory()) throw new Error(`archive entry ${JSON.stringify(name)}: ${at} is not a directory (a symlink is never followed)`);
  }
  return join(at, parts[parts.length - 1]!);
}
