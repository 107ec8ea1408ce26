import { lstat, mkdir, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { getAttribute } from '@napi-rs/xattr';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyLayer } from '../daemon/archive/apply.js';
import { SbxError } from '../protocol/index.js';
import { rejects } from './_helpers/assert.js';
import { digestOf, tarOf, type Entry } from './_helpers/fixtures.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { t: string; root: string; outside: string }
const IS_ROOT = process.getuid?.() === 0;

const apply = (root: string, entries: Entry[] | Buffer, whiteouts: 'overlay' | 'remove' = 'remove') =>
  (async () => applyLayer(root, Readable.from([Array.isArray(entries) ? await tarOf(entries) : entries]), { whiteouts }))();

// ---
const a = suite<Ctx>('applyLayer', {} as Ctx);
a.before.each(async (ctx) => {
  ctx.t = await tmpdir('sbx-apply-');
  ctx.root = join(ctx.t, 'root');
  ctx.outside = join(ctx.t, 'outside');
  await mkdir(ctx.root);
  await mkdir(ctx.outside);
  await writeFile(join(ctx.outside, 'sentinel'), 'keep');
});
a.after.each(async (ctx) => { await rmrf(ctx.t); });

a('extracts files, dirs, modes, symlinks, hard links, times, xattrs; returns the diffID', async ({ root }) => {
  const mtime = new Date('2020-05-06T07:08:09Z');
  const layer = await tarOf([
    { name: './' },
    { name: './etc/', mode: 0o750, mtime },
    { name: './etc/hello', data: 'hi\n', mode: 0o640, mtime },
    { name: 'bin/' },
    { name: 'bin/tool', data: 'x', mode: 0o4755 },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/tool' },
    { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
    { name: 'tmp/', mode: 0o1777 },
    { name: 'tmp/pipe', type: 'fifo' },
    { name: 'x/attr', data: 'a', pax: { 'SCHILY.xattr.user.sbx': 'v\u00e9' } },
    { name: 'owned', data: 'o', uid: 1234, gid: 4321 },
  ]);
  const got = await apply(root, layer);
  assert.is(got.diffId, digestOf(layer));
  assert.is(got.size, layer.length);
  assert.is(await readFile(join(root, 'etc/hello'), 'utf8'), 'hi\n');
  assert.is((await stat(join(root, 'etc/hello'))).mode & 0o7777, 0o640);
  assert.is((await stat(join(root, 'etc'))).mode & 0o7777, 0o750);
  assert.is((await stat(join(root, 'etc'))).mtime.getTime(), mtime.getTime());
  assert.is((await stat(join(root, 'etc/hello'))).mtime.getTime(), mtime.getTime());
  assert.is((await stat(join(root, 'bin/tool'))).mode & 0o7777, 0o4755);
  assert.is((await stat(join(root, 'tmp'))).mode & 0o7777, 0o1777);
  assert.is(await readlink(join(root, 'bin/sh')), '/bin/tool');
  assert.is((await stat(join(root, 'bin/tool2'))).ino, (await stat(join(root, 'bin/tool'))).ino);
  assert.ok((await lstat(join(root, 'tmp/pipe'))).isFIFO());
  assert.equal(await getAttribute(join(root, 'x/attr'), 'user.sbx'), Buffer.from('v\u00e9'));
  if (IS_ROOT) assert.is((await stat(join(root, 'owned'))).uid, 1234);
  if (IS_ROOT) assert.is((await stat(join(root, 'owned'))).gid, 4321);
});

a('gzip is detected by its magic bytes; the diffID is of the uncompressed tar', async ({ root }) => {
  const layer = await tarOf([{ name: 'f', data: 'gz' }]);
  const got = await applyLayer(root, Readable.from([gzipSync(layer)]), { whiteouts: 'remove', diffId: digestOf(layer) });
  assert.is(got.diffId, digestOf(layer));
  assert.is(await readFile(join(root, 'f'), 'utf8'), 'gz');
});

a('a wrong diffID fails with digest_mismatch', async ({ root }) => {
  const layer = await tarOf([{ name: 'f', data: 'x' }]);
  await rejects(() => applyLayer(root, Readable.from([layer]), { whiteouts: 'remove', diffId: digestOf(Buffer.from('other')) }), 'digest_mismatch');
});

a('bytes that are not a tar fail with invalid_argument', async ({ root }) => {
  await rejects(() => apply(root, Buffer.alloc(1024, 7)), 'invalid_argument');
  await rejects(() => apply(root, Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5])), 'invalid_argument');
});

a('an empty stream, a truncated tar and truncated gzip fail with invalid_argument', async ({ root }) => {
  const layer = await tarOf([{ name: 'big', data: Buffer.alloc(100000, 1) }]);
  await rejects(() => apply(root, Buffer.alloc(0)), 'invalid_argument');
  await rejects(() => apply(root, layer.subarray(0, 50000)), 'invalid_argument');
  await rejects(() => apply(root, gzipSync(layer).subarray(0, 60)), 'invalid_argument');
});

a('a source stream error reaches the caller, compressed or not', async ({ root }) => {
  const layer = await tarOf([{ name: 'big', data: Buffer.alloc(100000, 1) }]);
  for (const bytes of [layer, gzipSync(layer)]) {
    const src = Readable.from((async function* () {
      yield bytes.subarray(0, 1000);
      throw new SbxError('digest_mismatch', 'verify: corrupt');
    })());
    await rejects(() => applyLayer(root, src, { whiteouts: 'remove' }), 'digest_mismatch');
  }
});

a('cancelling stops the extraction', async ({ root }) => {
  const ac = new AbortController();
  const src = Readable.from((async function* () {
    yield (await tarOf([{ name: 'a', data: 'a' }])).subarray(0, 1024);
    ac.abort();
    await new Promise((r) => setTimeout(r, 50));
    yield Buffer.alloc(1024);
  })());
  await rejects(() => applyLayer(root, src, { whiteouts: 'remove', signal: ac.signal }), 'cancelled');
});

a('whiteouts (remove mode) delete lower entries, never the layer\'s own', async ({ root }) => {
  await apply(root, [
    { name: 'etc/' }, { name: 'etc/a', data: '1' }, { name: 'etc/b', data: '2' },
    { name: 'opq/' }, { name: 'opq/old', data: 'o' }, { name: 'opq/sub/' }, { name: 'opq/sub/deep', data: 'd' },
  ]);
  await apply(root, [
    { name: 'etc/.wh.a', data: '' },
    { name: 'etc/c', data: '3' },
    { name: 'etc/.wh.c', data: '' },
    { name: 'opq/' },
    { name: 'opq/new', data: 'n' },
    { name: 'opq/.wh..wh..opq', data: '' },
    { name: 'gone/.wh.nothing', data: '' },
  ]);
  assert.equal((await readdir(join(root, 'etc'))).sort(), ['b', 'c']);
  assert.equal(await readdir(join(root, 'opq')), ['new']);
});

a('a layer that deletes NAME and brings its own NAME keeps only its own (remove mode)', async ({ root }) => {
  await apply(root, [{ name: 'a', data: 'file' }, { name: 'd/' }, { name: 'd/old', data: 'o' }, { name: 'd/sub/' }, { name: 'd/sub/old', data: 'o' },
    { name: 'e/' }, { name: 'e/old', data: 'o' }]);
  await apply(root, [
    { name: 'a/' }, { name: 'a/in', data: 'now a dir' },
    { name: 'd/' }, { name: 'd/sub/' }, { name: 'd/sub/new', data: 'n' }, { name: 'd/.wh..wh..opq', data: '' },
    { name: '.wh.e', data: '' }, { name: 'e/' }, { name: 'e/new', data: 'n' },
  ]);
  assert.is(await readFile(join(root, 'a/in'), 'utf8'), 'now a dir');
  assert.equal(await readdir(join(root, 'd')), ['sub']);
  assert.equal(await readdir(join(root, 'd/sub')), ['new']);
  assert.equal(await readdir(join(root, 'e')), ['new']);
  await apply(root, [{ name: 'f/' }, { name: 'f/new', data: 'n' }, { name: '.wh.f', data: '' }, { name: 'e/' }, { name: '.wh.e', data: '' }]);
  assert.equal(await readdir(join(root, 'f')), ['new']);
  assert.equal(await readdir(join(root, 'e')), []);
});

a('a directory re-created over its own whiteout is opaque (overlay mode)', privileged(async ({ root }) => {
  await apply(root, [{ name: '.wh.e', data: '' }, { name: 'e/' }, { name: 'e/new', data: 'n' }, { name: 'g/' }, { name: '.wh.g', data: '' }], 'overlay');
  assert.equal(await getAttribute(join(root, 'e'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.equal(await getAttribute(join(root, 'g'), 'trusted.overlay.opaque'), Buffer.from('y'));
}));

a('whiteouts (overlay mode) become 0/0 char devices and the opaque xattr', privileged(async ({ root }) => {
  await apply(root, [{ name: 'etc/.wh.passwd', data: '' }, { name: 'var/' }, { name: 'var/.wh..wh..opq', data: '' }, { name: 'var/keep', data: 'k' }], 'overlay');
  const wh = await lstat(join(root, 'etc/passwd'));
  assert.ok(wh.isCharacterDevice());
  assert.is(wh.rdev, 0);
  assert.equal(await getAttribute(join(root, 'var'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.is(await readFile(join(root, 'var/keep'), 'utf8'), 'k');
}));

a('device nodes are created as root', privileged(async ({ root }) => {
  await apply(root, [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
  const st = await lstat(join(root, 'dev/null'));
  assert.ok(st.isCharacterDevice());
  assert.is(st.rdev, (1 << 8) | 3);
}));

a('trusted.* xattrs in a layer are not applied', privileged(async ({ root }) => {
  await apply(root, [{ name: 'd/', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }]);
  assert.is(await getAttribute(join(root, 'd'), 'trusted.overlay.redirect'), null);
}));

a('packTree → applyLayer round-trips an overlay upper (whiteouts, opaque, caps, links, long names)', privileged(async ({ t }) => {
  const src = join(t, 'src');
  const dst = join(t, 'dst');
  await mkdir(dst);
  // Build the upper by applying a layer in overlay mode, then pack it and apply the pack again.
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep, binary
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  await mkdir(src);
  await apply(src, [
    { name: 'bin/' }, { name: 'bin/ping', data: 'elf', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': cap.toString('latin1') } },
    { name: 'bin/ping2', type: 'link', linkname: 'bin/ping' },
    { name: 'etc/' }, { name: 'etc/.wh.passwd', data: '' },
    { name: 'var/' }, { name: 'var/.wh..wh..opq', data: '' }, { name: 'var/new', data: 'n' },
    { name: `${long.split('/')[0]}/` }, { name: long, data: 'long', uid: 70000, gid: 70001 },
    { name: 'usr/' }, { name: 'usr/suid', data: 's', mode: 0o4711 }, { name: 'usr/note', data: 'u', pax: { 'SCHILY.xattr.user.k': '\u00ff\u0000' } },
  ], 'overlay');
  const { packTree } = await import('../daemon/archive/pack.js');
  const chunks: Buffer[] = [];
  for await (const c of packTree(src, { whiteouts: 'overlay' })) chunks.push(c as Buffer);
  const layer = Buffer.concat(chunks);
  const got = await applyLayer(dst, Readable.from([layer]), { whiteouts: 'overlay' });
  assert.is(got.diffId, digestOf(layer));
  assert.equal(await getAttribute(join(dst, 'bin/ping'), 'security.capability'), cap);
  assert.equal(await getAttribute(join(dst, 'usr/note'), 'user.k'), await getAttribute(join(src, 'usr/note'), 'user.k'));
  assert.equal(await getAttribute(join(src, 'usr/note'), 'user.k'), Buffer.from('\u00ff\u0000', 'utf8')); // tar-stream's pack writes UTF-8
  assert.is((await stat(join(dst, 'bin/ping2'))).ino, (await stat(join(dst, 'bin/ping'))).ino);
  assert.ok((await lstat(join(dst, 'etc/passwd'))).isCharacterDevice());
  assert.equal(await getAttribute(join(dst, 'var'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.is((await stat(join(dst, long))).uid, 70000);
  assert.is((await stat(join(dst, 'usr/suid'))).mode & 0o7777, 0o4711);
  // And packing the result again gives the same bytes: nothing was lost or added.
  const again: Buffer[] = [];
  for await (const c of packTree(dst, { whiteouts: 'overlay' })) again.push(c as Buffer);
  assert.is(digestOf(Buffer.concat(again)), digestOf(layer));
}));

// Hostile layers: each fails with a clear error and leaves everything outside the root untouched.
const HOSTILE: [string, (outside: string) => Entry[], RegExp][] = [
  ['a .. component', () => [{ name: '../evil', data: 'x' }], /escapes/],
  ['a .. in the middle', () => [{ name: 'a/../../evil', data: 'x' }], /escapes/],
  ['an absolute path', (o) => [{ name: `${o}/evil`, data: 'x' }], /absolute/],
  ['writing through a symlink the layer made', (o) => [{ name: 'link', type: 'symlink', linkname: o }, { name: 'link/evil', data: 'x' }], /symbolic link/],
  ['writing through a relative symlink to ..', () => [{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/outside/evil', data: 'x' }], /symbolic link/],
  ['a directory through a symlink', (o) => [{ name: 'link', type: 'symlink', linkname: o }, { name: 'link/dir/' }], /symbolic link/],
  ['a whiteout through a symlink', (o) => [{ name: 'link', type: 'symlink', linkname: o }, { name: 'link/.wh.sentinel', data: '' }], /symbolic link/],
  ['an opaque marker through a symlink', (o) => [{ name: 'link', type: 'symlink', linkname: o }, { name: 'link/.wh..wh..opq', data: '' }], /symbolic link/],
  ['a hard link to ..', () => [{ name: 'h', type: 'link', linkname: '../outside/sentinel' }], /escapes/],
  ['a hard link to an absolute path', (o) => [{ name: 'h', type: 'link', linkname: `${o}/sentinel` }], /absolute/],
  ['a hard link through a symlink', (o) => [{ name: 'link', type: 'symlink', linkname: o }, { name: 'h', type: 'link', linkname: 'link/sentinel' }], /symbolic link/],
  ['a hard link to a missing file', () => [{ name: 'h', type: 'link', linkname: 'nothing' }], /not a file inside/],
  ['a malformed whiteout', () => [{ name: 'a/.wh..', data: '' }], /malformed whiteout/],
];
for (const [what, entries, message] of HOSTILE) {
  a(`refuses ${what}`, async ({ t, root, outside }) => {
    const before = await readdir(t);
    await rejects(() => apply(root, entries(outside)), 'invalid_argument', message);
    assert.equal(await readdir(outside), ['sentinel']);
    assert.is(await readFile(join(outside, 'sentinel'), 'utf8'), 'keep');
    assert.equal(await readdir(t), before);
  });
}

a('a file entry replaces a symlink instead of following it', async ({ root, outside }) => {
  await apply(root, [{ name: 'f', type: 'symlink', linkname: join(outside, 'sentinel') }]);
  await apply(root, [{ name: 'f', data: 'mine' }]);
  assert.is(await readFile(join(outside, 'sentinel'), 'utf8'), 'keep');
  assert.is(await readFile(join(root, 'f'), 'utf8'), 'mine');
});

a('a symlink from a lower layer pointing outside is never followed', async ({ root, outside }) => {
  await apply(root, [{ name: 'etc', type: 'symlink', linkname: outside }]);
  await rejects(() => apply(root, [{ name: 'etc/sentinel', data: 'pwned' }]), 'invalid_argument', /symbolic link/);
  await rejects(() => apply(root, [{ name: 'etc/.wh.sentinel', data: '' }]), 'invalid_argument', /symbolic link/);
  assert.is(await readFile(join(outside, 'sentinel'), 'utf8'), 'keep');
});

a.run();
