/**
 * The build context as the CLI sends it: a tar stream of the context directory (paths relative
 * to it, modes, owners, mtimes, symlinks as symlinks, never followed), leaving out what
 * `.dockerignore` (or `<Dockerfile>.dockerignore`) excludes, as docker's CLI does. The daemon
 * filters again, so a tar given on stdin obeys the same rules. A Dockerfile outside the context
 * (or `-f -`) travels inside the tar under a private name.
 */
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import tar from 'tar-stream';

export interface ContextTar { stream: Readable; dockerfile: string }

export async function packContext(dir: string, dockerfile: { name: string } | { text: string }): Promise<ContextTar> {
  const pack = tar.pack();
  const name = 'name' in dockerfile ? dockerfile.name : '.sbx-dockerfile';
  const ignoreText = await readFile(join(dir, `${name}.dockerignore`), 'utf8').catch(() => readFile(join(dir, '.dockerignore'), 'utf8')).catch(() => '');
  const ig = dockerignore.default({}).add(ignoreText);
  const keep = new Set([name, '.dockerignore', `${name}.dockerignore`]);
  const entry = (h: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> => new Promise((res, rej) => {
    if (body) pack.entry(h as tar.Header, body, (e) => (e ? rej(e) : res()));
    else pack.entry(h as tar.Header, (e) => (e ? rej(e) : res()));
  });
  const walk = async (rel: string): Promise<void> => {
    for (const n of (await readdir(join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const p = join(dir, r);
      const st = await lstat(p);
      const base = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st.isDirectory()) {
        // a directory is walked even when ignored: a `!` exception may keep something in it
        if (!ig.ignores(r) || ignoreText.includes('!')) await entry({ ...base, name: `${r}/`, type: 'directory' });
        await walk(r);
        continue;
      }
      if (!keep.has(r) && ig.ignores(r)) continue;
      if (st.isSymbolicLink()) await entry({ ...base, type: 'symlink', linkname: await readlink(p) });
      else if (st.isFile()) await entry({ ...base, type: 'file', size: st.size }, await readFile(p));
    }
  };
  void (async () => {
    if ('text' in dockerfile) await entry({ name, mode: 0o600, type: 'file' }, Buffer.from(dockerfile.text));
    await walk('');
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e as Error));
  return { stream: pack as unknown as Readable, dockerfile: name };
}
