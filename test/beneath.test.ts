import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import tar from 'tar-stream';
import { Beneath, components } from '../daemon/util/beneath.js';
import { DirView } from '../daemon/snapshots/view.js';
import { packTree } from '../daemon/archive/pack.js';
import { SbxError } from '../protocol/index.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { dir: string; root: string; secretDir: string; secret: string }
const SECRET = 'host-secret-7f3a9c';

const s = suite<Ctx>('beneath: reads stay inside the root', {} as Ctx);
s.before.each(async (ctx) => {
  ctx.dir = await tmpdir('sbx-beneath-');
  ctx.root = join(ctx.dir, 'root');
  ctx.secretDir = join(ctx.dir, 'host');
  ctx.secret = join(ctx.secretDir, 'secret');
  await mkdir(ctx.secretDir);
  await writeFile(ctx.secret, SECRET, { mode: 0o600 });
  await mkdir(join(ctx.root, 'etc'), { recursive: true });
  await writeFile(join(ctx.root, 'etc', 'motd'), 'hello\n');
  await symlink(ctx.secret, join(ctx.root, 'x'));        // last component: a symlink to a host file
  await symlink(ctx.secretDir, join(ctx.root, 'd'));     // intermediate component: a symlink to a host dir
});
s.after.each(async (ctx) => { await rmrf(ctx.dir); });

s('a regular file and a directory read as usual', async ({ root }) => {
  const b = new Beneath(root);
  assert.equal((await b.readdir('/')).sort(), ['d', 'etc', 'x']);
  assert.equal(await b.readdir('/etc'), ['motd']);
  assert.ok((await b.lstat('/etc/motd'))?.isFile());
  assert.ok((await b.lstat('/'))?.isDirectory());
  const got = await new DirView(root).readFile('/etc/motd', 1024);
  assert.is(got?.data?.toString(), 'hello\n');
  assert.is(got?.entry.kind, 'file');
});

s('a symlink at the last component is not followed', async ({ root, secret }) => {
  const b = new Beneath(root);
  assert.ok((await b.lstat('/x'))?.isSymbolicLink());
  assert.is(await b.readlink('/x'), secret);
  const kind = await b.open('/x', async (o) => {
    const reopened = await o.reopen().then(() => true, () => false);
    assert.not.ok(reopened, 'a symlink cannot be reopened for reading');
    return o.stat.isSymbolicLink() ? 'symlink' : 'other';
  });
  assert.is(kind, 'symlink');
  const r = await new DirView(root).readFile('/x', 1024);
  assert.is(r?.entry.kind, 'symlink');
  assert.is(r?.data, undefined);
});

s('a symlink at an intermediate component is not followed', async ({ root }) => {
  const b = new Beneath(root);
  assert.is(await b.lstat('/d/secret'), undefined);
  assert.equal(await b.readdir('/d'), []);
  assert.is(await b.readlink('/d/secret'), undefined);
  assert.is(await b.open('/d/secret', async () => 'opened'), undefined);
  assert.is(await new DirView(root).readFile('/d/secret', 1024), undefined);
  assert.is(await new DirView(root).lstat('/d/secret'), undefined);
});

s('a symlink deeper down (/etc/d/secret) is not followed either', async ({ root, secretDir }) => {
  await symlink(secretDir, join(root, 'etc', 'd'));
  const b = new Beneath(root);
  assert.ok((await b.lstat('/etc/d'))?.isSymbolicLink());
  assert.is(await b.lstat('/etc/d/secret'), undefined);
  assert.equal(await b.readdir('/etc/d'), []);
  assert.is(await new DirView(root).readFile('/etc/d/secret', 1024), undefined);
  assert.is(await b.getXattr('/etc/d/secret', 'user.x'), null);
});

s('a hard link is made of the entry itself, never through a symlink', async ({ dir, root }) => {
  const b = new Beneath(root);
  await b.link('/x', join(dir, 'linked'));
  assert.ok((await lstat(join(dir, 'linked'))).isSymbolicLink());
  try {
    await b.link('/d/secret', join(dir, 'linked2'));
    assert.unreachable('linked through a symlinked directory');
  } catch (e) {
    assert.is((e as NodeJS.ErrnoException).code, 'ENOENT');
  }
});

s('a FIFO is reported, never opened for reading (which would block)', async ({ root }) => {
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const r = await new DirView(root).readFile('/fifo', 1024);
  assert.is(r?.entry.kind, 'fifo');
  assert.is(r?.data, undefined);
});

s('packTree packs a symlink as a symlink and nothing beyond a symlinked directory', async ({ root, secret }) => {
  const extract = tar.extract();
  const seen: Record<string, string> = {};
  extract.on('entry', (h, stream, next) => {
    let body = '';
    stream.on('data', (c: unknown) => { body += String(c); });
    stream.on('end', () => { seen[h.name] = `${h.type}:${h.linkname ?? ''}:${body}`; next(); });
  });
  const done = new Promise<void>((r) => extract.on('finish', () => r()));
  packTree(root).pipe(extract);
  await done;
  assert.equal(Object.keys(seen).sort(), ['d', 'etc/', 'etc/motd', 'x']);
  assert.is(seen.x, `symlink:${secret}:`);
  assert.ok(!JSON.stringify(seen).includes(SECRET));
});

const BAD: string[] = ['/../etc', '/a/../../b', '/a/./b', '//a', 'a\0b', '/..'];
for (const p of BAD) {
  s(`refuses ${JSON.stringify(p)}`, async ({ root }) => {
    try {
      await new Beneath(root).lstat(p);
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, SbxError);
      assert.is((e as SbxError).code, 'invalid_argument');
      assert.match((e as SbxError).message, /not allowed|NUL/);
    }
  });
}

s('components: clean paths', () => {
  assert.equal(components('/'), []);
  assert.equal(components('/a/b/'), ['a', 'b']);
  assert.equal(components('a/b'), ['a', 'b']);
});

s('the secret is really there for a plain read (the fixture is not vacuous)', async ({ root }) => {
  assert.is(await readFile(join(root, 'x'), 'utf8'), SECRET);
  assert.is(await readFile(join(root, 'd', 'secret'), 'utf8'), SECRET);
});

s.run();
