import { createHash } from 'node:crypto';
import { chmod, link, lstat, mkdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getAttribute, setAttribute } from '@napi-rs/xattr';
import { packTree, packToStore } from '../daemon/archive/pack.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import { readAll } from '../cli/client.js';
import { must } from './_helpers/peers.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { dir: string; src: string }

const LONG = `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(130)}.txt`;

async function makeTree(src: string): Promise<void> {
  await mkdir(join(src, 'etc'), { recursive: true });
  await writeFile(join(src, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(src, 'bin-tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'bin-tool'), 0o4755);
  await symlink('etc/passwd', join(src, 'pw-link'));
  await link(join(src, 'etc', 'passwd'), join(src, 'hard'));
  await mkdir(join(src, LONG, '..'), { recursive: true });
  await writeFile(join(src, LONG), 'long');
  await writeFile(join(src, 'naïve-ünïcode'), 'u');
  await mkdir(join(src, 'tmp'));
  await chmod(join(src, 'tmp'), 0o1777);
  await writeFile(join(src, 'tmp', 'junk'), 'x');
  await setAttribute(join(src, 'etc', 'passwd'), 'user.sbx', 'kept');
}

const s = suite<Ctx>('archive: packTree', {} as Ctx);
s.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-pack-'); ctx.src = join(ctx.dir, 'src'); await mkdir(ctx.src); await makeTree(ctx.src); });
s.after.each(async (ctx) => { await rmrf(ctx.dir); });

s('tar -t lists every entry, sorted, parents first, no ./ prefix', async ({ dir, src }) => {
  await writeFile(join(dir, 'l.tar'), await readAll(packTree(src)));
  const names = (await must('tar', ['-tf', join(dir, 'l.tar')])).trim().split('\n');
  assert.ok(names.includes('etc/'));
  assert.ok(names.includes('etc/passwd'));
  assert.ok(names.includes(LONG), 'long name via PAX');
  assert.ok(names.includes('naïve-ünïcode'));
  assert.ok(names.indexOf('etc/') < names.indexOf('etc/passwd'));
  assert.not.ok(names.some((n) => n.startsWith('./') || n === '.' || n === './'));
  const verbose = await must('tar', ['-tvf', join(dir, 'l.tar'), '--numeric-owner']);
  assert.match(verbose, /hrw.* etc\/passwd link to hard|hard link to etc\/passwd/);
  assert.match(verbose, /rwsr-xr-x .*bin-tool/);
  assert.match(verbose, /drwxrwxrwt .*tmp\//);
});

s('extract round-trips contents, modes, links and user xattrs', async ({ dir, src }) => {
  const out = join(dir, 'out');
  await mkdir(out);
  await writeFile(join(dir, 'l.tar'), await readAll(packTree(src)));
  await must('tar', ['--xattrs', '--xattrs-include=*', '-xpf', join(dir, 'l.tar'), '-C', out]);
  assert.is(await readFile(join(out, LONG), 'utf8'), 'long');
  assert.is(await readlink(join(out, 'pw-link')), 'etc/passwd');
  const a = await lstat(join(out, 'etc', 'passwd'));
  const b = await lstat(join(out, 'hard'));
  assert.is(a.ino, b.ino, 'hard link kept');
  assert.is((await lstat(join(out, 'bin-tool'))).mode & 0o7777, 0o4755);
  assert.is((await lstat(join(out, 'tmp'))).mode & 0o7777, 0o1777);
  assert.is(String(await getAttribute(join(out, 'etc', 'passwd'), 'user.sbx')), 'kept');
});

s('the same tree packs to the same digest; sourceDateEpoch clamps mtimes', async ({ src }) => {
  const digest = async (o = {}): Promise<string> => createHash('sha256').update(await readAll(packTree(src, o))).digest('hex');
  assert.is(await digest(), await digest());
  const epoch = 1_000_000_000;
  const before = await digest({ sourceDateEpoch: epoch });
  await utimes(join(src, 'etc', 'passwd'), new Date(), new Date());
  assert.is(await digest({ sourceDateEpoch: epoch }), before);
});

s('exclude drops a path and a whole subtree', async ({ dir, src }) => {
  await writeFile(join(dir, 'l.tar'), await readAll(packTree(src, { exclude: (p) => p === '/tmp' || p === '/etc/passwd' })));
  const names = (await must('tar', ['-tf', join(dir, 'l.tar')])).trim().split('\n');
  assert.not.ok(names.includes('tmp/'));
  assert.not.ok(names.includes('tmp/junk'));
  assert.not.ok(names.includes('etc/passwd'));
  assert.ok(names.includes('hard'), 'the other link of the inode becomes the file');
  assert.ok(names.includes('etc/'));
});

s('packToStore: the layer digest is the diffID (sha256 of the tar)', async ({ dir, src }) => {
  const store = await openLocalContentStore(join(dir, 'oci'), join(dir, 'ingest'));
  const { descriptor, diffId } = await packToStore(store, src);
  const tarBytes = await readAll(packTree(src));
  assert.is(diffId, `sha256:${createHash('sha256').update(tarBytes).digest('hex')}`);
  assert.is(descriptor.digest, diffId);
  assert.is(descriptor.size, tarBytes.length);
  assert.is(descriptor.mediaType, 'application/vnd.oci.image.layer.v1.tar');
});

s('a missing root is a clear error', async ({ dir }) => {
  try {
    await readAll(packTree(join(dir, 'nope')));
    assert.unreachable('should fail');
  } catch (e) {
    assert.match((e as Error).message, /pack .*nope/);
  }
});

s('a reader that leaves mid-stream ends the walk quietly (no unhandled rejection: it crashed sbxd)', async ({ src }) => {
  await mkdir(join(src, 'many'));
  for (let i = 0; i < 2000; i++) await writeFile(join(src, 'many', `f${String(i).padStart(4, '0')}`), `file ${i}\n`.repeat(i % 7 === 0 ? 3000 : 1));
  const unheard: unknown[] = [];
  const hear = (e: unknown): void => { unheard.push(e); };
  process.on('unhandledRejection', hear);
  try {
    for (let round = 0; round < 20; round++) {
      const out = packTree(src);
      let n = 0;
      // the reader leaves after `round` chunks, while the walk is at one place or another: the pack is destroyed
      for await (const _ of out as AsyncIterable<Buffer>) if (n++ >= round) break;
      // a whole second walk of the same tree outlasts what is left of the first one
      assert.ok((await readAll(packTree(src))).length > 2000 * 512);
    }
    assert.equal(unheard.map(String), []);
  } finally {
    process.off('unhandledRejection', hear);
  }
});

s('security.capability is kept byte for byte (root)', privileged(async ({ dir, src }) => {
  await rm(join(src, 'tmp'), { recursive: true });
  // vfs_cap_data v2: CAP_SETUID (bit 7) and CAP_SETPCAP (8) permitted+effective: bytes ≥ 0x80.
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  await setAttribute(join(src, 'bin-tool'), 'security.capability', cap);
  const out = join(dir, 'out');
  await mkdir(out);
  await writeFile(join(dir, 'l.tar'), await readAll(packTree(src)));
  await must('tar', ['--xattrs', '--xattrs-include=*', '-xpf', join(dir, 'l.tar'), '-C', out]);
  assert.equal(await getAttribute(join(out, 'bin-tool'), 'security.capability'), cap);
}));

s.run();

// ---

interface OCtx { dir: string }
const ov = suite<OCtx>('archive: packTree on an overlay upperdir', {} as OCtx);
ov.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-packov-'); });
ov.after.each(async (ctx) => {
  await must('umount', [join(ctx.dir, 'merged')]).catch(() => undefined);
  await rmrf(ctx.dir);
});

ov('whiteouts and opaque dirs become .wh. entries', privileged(async ({ dir }) => {
  for (const d of ['lower/d/sub', 'upper', 'work', 'merged']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'lower', 'gone'), 'x');
  await writeFile(join(dir, 'lower', 'keep'), 'k');
  await writeFile(join(dir, 'lower', 'd', 'old'), 'o');
  await must('mount', ['-t', 'overlay', 'overlay', '-o',
    `lowerdir=${join(dir, 'lower')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'merged')]);
  const m = join(dir, 'merged');
  await rm(join(m, 'gone'));
  await rm(join(m, 'd'), { recursive: true });
  await mkdir(join(m, 'd'));
  await writeFile(join(m, 'd', 'new'), 'n');
  await writeFile(join(m, 'added'), 'a');
  await must('umount', [m]);
  const tarFile = join(dir, 'layer.tar');
  await writeFile(tarFile, await readAll(packTree(join(dir, 'upper'), { whiteouts: 'overlay' })));
  const verbose = await must('tar', ['-tvf', tarFile, '--numeric-owner']);
  const names = (await must('tar', ['-tf', tarFile])).trim().split('\n');
  assert.equal(names, ['.wh.gone', 'added', 'd/', 'd/.wh..wh..opq', 'd/new']);
  assert.match(verbose, /-rw------- 0\/0 +0 1970-01-01 00:00 \.wh\.gone/);
  assert.not.match(verbose, /^c/m, 'no device entries');
  const xattrs = await must('tar', ['--xattrs', '--xattrs-include=*', '-tvvf', tarFile]).catch(() => '');
  assert.not.match(xattrs, /overlay/);
}));

ov.run();
