/**
 * RUN --mount through the CLI against a real sbxd: a cache mount is kept per id across builds
 * under the daemon root (root-only) and never enters the image; bind mounts from a stage are
 * read-only by default and their rw writes are thrown away; a bind of the build context shows
 * what .dockerignore leaves, and its content keys the step's cache. No mount point is left in
 * the image.
 */
import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheMounts } from '../daemon/build/cache-mounts.js';
import { tightenStore } from '../daemon/util/modes.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { d: TestDaemon; ctx: string }
const s = suite<Ctx>('build: RUN --mount', {} as Ctx);
s.before.each(async (c) => {
  c.d = await startTestDaemon();
  c.ctx = await tmpdir();
  if (process.getuid?.() !== 0) return;
  const r = await sbx(c.d.root, ['import', '--busybox', 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
s.after.each(async (c) => {
  await c.d.close();
  await rmrf(c.ctx);
});

const build = (d: TestDaemon, args: string[]) => sbx(d.root, ['build', '--progress', 'plain', ...args], { timeoutMs: 120000 });
const sh = (d: TestDaemon, image: string, script: string) => sbx(d.root, ['run', '--rm', image, 'sh', '-c', script]);

s('type=cache: a second build sees what the first wrote; the image does not contain it; kept root-only per id', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), [
    'FROM busybox',
    'RUN --mount=type=cache,target=/var/cache/app sh -c \'echo "saw: $(cat /var/cache/app/seen 2>/dev/null || echo nothing)"; echo first > /var/cache/app/seen\'',
    'RUN --mount=type=cache,id=shared,target=/a echo by-id > /a/f',
    '',
  ].join('\n'));
  const b1 = await build(d, ['-t', 'c1', ctx]);
  assert.is(b1.code, 0, b1.stderr);
  assert.match(b1.stderr, /saw: nothing/);
  const inImage = await sh(d, 'c1', 'ls /var/cache/app /a 2>&1; ls -d /var/cache 2>&1 || true');
  assert.match(inImage.stdout, /\/var\/cache\/app: No such file or directory/);
  assert.match(inImage.stdout, /\/a: No such file or directory/);

  await writeFile(join(ctx, 'Dockerfile'), [
    'FROM busybox',
    'RUN --mount=type=cache,target=/var/cache/app,sharing=locked echo "second saw: $(cat /var/cache/app/seen)"',
    'RUN --mount=type=cache,id=shared,target=/elsewhere,ro echo "same id: $(cat /elsewhere/f)"',
    '',
  ].join('\n'));
  const b2 = await build(d, ['-t', 'c2', ctx]);
  assert.is(b2.code, 0, b2.stderr);
  assert.match(b2.stderr, /second saw: first/);
  assert.match(b2.stderr, /same id: by-id/);

  // kept under the daemon root, root-only, and listed for `sbx builder prune`
  const mounts = new CacheMounts(d.root);
  const list = await mounts.list();
  assert.equal(list.map((m) => m.id).sort(), ['/var/cache/app', 'shared']);
  const app = list.find((m) => m.id === '/var/cache/app')!;
  assert.is(app.size, 'first\n'.length);
  assert.is((await stat(app.dir)).mode & 0o777, 0o700);
  // what a user sees: `sbx system df` counts them as build cache, `sbx builder prune -f` removes them
  const df = await sbx(d.root, ['system', 'df']);
  assert.is(df.code, 0, df.stderr);
  const cacheCount = Number(/Build Cache\s+(\d+)/.exec(df.stdout)?.[1]);
  assert.ok(cacheCount >= 2, df.stdout);
  const p = await sbx(d.root, ['builder', 'prune', '-f']);
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stdout, /cache mount \/var\/cache\/app/);
  assert.match(p.stdout, /cache mount shared/);
  assert.equal(await mounts.list(), []);
}));

s('type=bind: from a stage read-only by default, rw writes discarded; from the context with .dockerignore, its content keys the cache', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'input.txt'), 'input v1\n');
  await writeFile(join(ctx, 'secret.txt'), 'do not show\n');
  await writeFile(join(ctx, '.dockerignore'), 'secret.txt\n');
  await writeFile(join(ctx, 'Dockerfile'), [
    'FROM busybox AS tools',
    'RUN mkdir /out && echo from-stage > /out/msg',
    'FROM busybox',
    'RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools sh -c \'cat /mnt/tools/msg > /copied; touch /mnt/tools/x || echo read-only\'',
    'RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools,rw sh -c \'echo written > /mnt/tools/msg; echo "rw: $(cat /mnt/tools/msg)"\'',
    'RUN --mount=type=bind,from=tools,source=out,target=/mnt/tools echo "after rw: $(cat /mnt/tools/msg)"',
    'RUN --mount=type=bind,target=/ctx sh -c \'ls /ctx > /ctx-list\'',
    'RUN --mount=type=bind,source=input.txt,target=/in.txt cp /in.txt /in-copy',
    '',
  ].join('\n'));
  const b = await build(d, ['-t', 'bound', ctx]);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /Read-only file system/);
  assert.match(b.stderr, /read-only/);
  assert.match(b.stderr, /rw: written/);
  assert.match(b.stderr, /after rw: from-stage/);
  const out = await sh(d, 'bound', 'cat /copied /ctx-list /in-copy; ls /mnt/tools /ctx /in.txt 2>&1 | sed "s/^ls: //"');
  assert.is(out.stdout, 'from-stage\nDockerfile\ninput.txt\ninput v1\n/mnt/tools: No such file or directory\n/ctx: No such file or directory\n/in.txt: No such file or directory\n', out.stderr);

  // the bound files' content is part of the key: an edit reruns the steps that bind it; an
  // excluded file is not there, so editing it changes nothing
  await writeFile(join(ctx, 'secret.txt'), 'still hidden\n');
  const same = await build(d, ['-t', 'bound', ctx]);
  assert.is((same.stderr.match(/CACHED/g) ?? []).length, 6, same.stderr);
  await writeFile(join(ctx, 'input.txt'), 'input v2\n');
  const edited = await build(d, ['-t', 'bound', ctx]);
  assert.is(edited.code, 0, edited.stderr);
  assert.match(edited.stderr, /#6 CACHED/);
  assert.not.match(edited.stderr, /#7 CACHED/);
  assert.not.match(edited.stderr, /#8 CACHED/);
  assert.is((await sh(d, 'bound', 'cat /in-copy')).stdout, 'input v2\n');
}));

s('unsupported mounts and bad sources fail naming the line', privileged(async ({ d, ctx }) => {
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=tmpfs,target=/t true\n');
  const t = await build(d, [ctx]);
  assert.is(t.code, 1);
  assert.match(t.stderr, /Dockerfile:2: RUN --mount=type=tmpfs is not supported yet/);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nWORKDIR /w\nRUN --mount=type=bind,source=../x,target=/t true\n');
  const esc = await build(d, [ctx]);
  assert.is(esc.code, 1);
  assert.match(esc.stderr, /Dockerfile:3: forbidden path outside the build context: \.\.\/x/);
}));

s('the store tightening keeps a cache mount private without touching what RUN wrote in it', privileged(async () => {
  const root = await tmpdir('sbx-cm-');
  try {
    const mounts = new CacheMounts(root);
    await mounts.use('modes', { mode: 0o775, uid: 1000, gid: 1000 }, async (dir) => {
      await writeFile(join(dir, 'f'), 'x', { mode: 0o644 });
      await chmod(join(dir, 'f'), 0o644);
    });
    await chmod(root, 0o755);
    await tightenStore(root);
    const [m] = await mounts.list();
    assert.is((await stat(m!.dir)).mode & 0o777, 0o700);
    const fs = await stat(join(m!.dir, 'fs'));
    assert.equal([fs.mode & 0o777, fs.uid, fs.gid], [0o775, 1000, 1000]);
    assert.is((await stat(join(m!.dir, 'fs', 'f'))).mode & 0o777, 0o644);
  } finally {
    await rmrf(root);
  }
}));

s.run();
