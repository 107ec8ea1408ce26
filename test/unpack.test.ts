import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalContentStore } from '../daemon/content/local.js';
import type { ContentStore } from '../daemon/content/store.js';
import { removeImage } from '../daemon/images/remove.js';
import { openImageStore } from '../daemon/images/store.js';
import { chainIds, createUnpacker, pruneLayers, type Unpacker } from '../daemon/images/unpack.js';
import { mountAll, openSnapshotter, unmount } from '../daemon/snapshots/mount.js';
import { openNativeSnapshotter } from '../daemon/snapshots/native.js';
import { openOverlaySnapshotter } from '../daemon/snapshots/overlay.js';
import { listRootfs, prepareRootfs, removeRootfs, rootfsOf } from '../daemon/containers/rootfs.js';
import type { Snapshotter } from '../daemon/snapshots/snapshotter.js';
import { silentLogger } from '../daemon/util/log.js';
import { rejects } from './_helpers/assert.js';
import { startTestDaemon } from './_helpers/daemon.js';
import { busyboxLayer, digestOf, putImage, tarOf } from './_helpers/fixtures.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const pexec = promisify(execFile);

interface Ctx { root: string; content: ContentStore; snapshotter: Snapshotter; unpacker: Unpacker; mounted: string[] }

function unpackSuite(name: string, open: (root: string) => Promise<Snapshotter>, needsRoot: boolean): void {
  const s = suite<Ctx>(`unpack:${name}`, {} as Ctx);
  const maybe = needsRoot ? privileged<Ctx> : (fn: (c: Ctx) => Promise<void>) => fn;
  s.before.each(async (ctx) => {
    ctx.root = await tmpdir('sbx-unpack-');
    ctx.content = await openLocalContentStore(join(ctx.root, 'oci'), join(ctx.root, 'ingest'));
    ctx.mounted = [];
    if (needsRoot && process.getuid?.() !== 0) return;
    ctx.snapshotter = await open(join(ctx.root, 'snapshots'));
    ctx.unpacker = createUnpacker({ content: ctx.content, snapshotter: ctx.snapshotter, log: silentLogger });
  });
  s.after.each(async (ctx) => {
    for (const m of ctx.mounted.reverse()) await unmount(m).catch(() => undefined);
    await rmrf(ctx.root);
  });

  async function mounted(ctx: Ctx, id: string, image: Parameters<typeof prepareRootfs>[2]): Promise<string> {
    const r = await prepareRootfs(ctx, id, image);
    const dir = join(ctx.root, 'mnt', id);
    await mkdir(dir, { recursive: true });
    await mountAll(r.mounts, dir);
    ctx.mounted.push(dir);
    return dir;
  }

  s('unpacks once per chainID, shared by images with the same base; idempotent', maybe(async ({ content, snapshotter: sn, unpacker }) => {
    const base = await busyboxLayer();
    const extra = await tarOf([{ name: 'etc/motd', data: 'hello' }]);
    const a = await putImage(content, undefined, 'a', [base], { gzip: true });
    const b = await putImage(content, undefined, 'b', [base, extra]);
    const ua = await unpacker.unpack(a);
    assert.equal(ua.chainIds, chainIds([digestOf(base)]));
    assert.is(ua.chainId, digestOf(base));
    const ub = await unpacker.unpack(b);
    assert.is(ub.chainIds[0], ua.chainId);
    assert.is(ub.chainId, chainIds([digestOf(base), digestOf(extra)])[1]);
    const before = await sn.list();
    assert.equal(before.map((i) => i.key).sort(), [ua.chainId!, ub.chainId!].sort());
    assert.ok(before.every((i) => i.kind === 'committed'));
    await unpacker.unpack(b);
    assert.equal(await sn.list(), before);
    const dirs = await sn.dirs(ub.chainId!);
    assert.is(dirs.lowers.length, 1);
    assert.ok((await readFile(join(dirs.lowers[0]!, 'bin/busybox'))).length > 100000);
  }));

  s('concurrent unpacks of one image serialise and agree', maybe(async ({ content, snapshotter: sn, unpacker }) => {
    const img = await putImage(content, undefined, 'a', [await busyboxLayer(), await tarOf([{ name: 'x', data: 'x' }])]);
    const got = await Promise.all([unpacker.unpack(img), unpacker.unpack(img), unpacker.unpack(img)]);
    assert.equal(got[0], got[1]);
    assert.equal(got[1], got[2]);
    assert.is((await sn.list()).length, 2);
  }));

  s('a wrong diffID fails with digest_mismatch and leaves no snapshot', maybe(async ({ content, snapshotter: sn, unpacker }) => {
    const img = await putImage(content, undefined, 'a', [await tarOf([{ name: 'f', data: 'x' }])]);
    img.config.rootfs.diff_ids = [digestOf(Buffer.from('not the layer'))];
    await rejects(() => unpacker.unpack(img), 'digest_mismatch');
    assert.equal(await sn.list(), []);
  }));

  s('a hostile layer fails with invalid_argument and leaves no snapshot', maybe(async ({ content, snapshotter: sn, unpacker }) => {
    const img = await putImage(content, undefined, 'a', [await tarOf([{ name: '../../escape', data: 'x' }])]);
    await rejects(() => unpacker.unpack(img), 'invalid_argument', /escapes/);
    assert.equal(await sn.list(), []);
  }));

  s('a later layer cannot write through a symlink an earlier layer planted', maybe(async ({ root, content, snapshotter: sn, unpacker }) => {
    const outside = join(root, 'outside');
    await mkdir(outside);
    for (const [i, linkname] of [outside, '../../../../../../../../..' + outside, 'usr/lib'].entries()) {
      const img = await putImage(content, undefined, `a${i}`, [
        await tarOf([{ name: 'usr/' }, { name: 'usr/lib/' }, { name: 'lib', type: 'symlink', linkname }]),
        await tarOf([{ name: 'lib/evil', data: 'x' }]),
      ]);
      await rejects(() => unpacker.unpack(img), 'invalid_argument', /symbolic link/);
    }
    assert.equal(await readdir(outside), []);
    assert.ok((await sn.list()).every((i) => i.kind === 'committed'));
  }));

  s('a directory deleted and written again in one layer shows only the new entries', privileged(async (ctx) => {
    const img = await putImage(ctx.content, undefined, 'a', [
      await tarOf([{ name: 'foo/' }, { name: 'foo/old', data: 'o' }]),
      await tarOf([{ name: '.wh.foo', data: '' }, { name: 'foo/new', data: 'n' }]),
    ]);
    const m = await mounted(ctx, 'c1', img);
    assert.equal(await readdir(join(m, 'foo')), ['new']);
  }));

  s('layers and diff_ids must agree; a missing blob is not_found', maybe(async ({ content, unpacker }) => {
    const img = await putImage(content, undefined, 'a', [await tarOf([{ name: 'f', data: 'x' }])]);
    await rejects(() => unpacker.unpack({ ...img, config: { ...img.config, rootfs: { type: 'layers', diff_ids: [] } } }), 'invalid_argument');
    await content.delete(img.manifest.layers[0]!.digest);
    await rejects(() => unpacker.unpack(img), 'not_found');
  }));

  s('a corrupted layer blob fails with digest_mismatch and leaves no snapshot', maybe(async ({ root, content, snapshotter: sn, unpacker }) => {
    const img = await putImage(content, undefined, 'a', [await busyboxLayer()], { gzip: true });
    const path = await content.path(img.manifest.layers[0]!.digest);
    const bytes = await readFile(path);
    bytes[bytes.length - 100] ^= 0xff;
    await writeFile(path, bytes);
    await rejects(() => unpacker.unpack(img), 'digest_mismatch');
    assert.equal(await sn.list(), []);
    assert.ok(root);
  }));

  s('pruneLayers removes only the layers no stored image or container uses', maybe(async ({ root, content, snapshotter: sn, unpacker }) => {
    const images = await openImageStore(join(root, 'oci'));
    const base = await busyboxLayer();
    const a = await putImage(content, images, 'a', [base]);
    const b = await putImage(content, images, 'b', [base, await tarOf([{ name: 'b', data: 'b' }])]);
    const c = await putImage(content, images, 'c', [base, await tarOf([{ name: 'c', data: 'c' }])]);
    const [ua, ub, uc] = [await unpacker.unpack(a), await unpacker.unpack(b), await unpacker.unpack(c)];
    await sn.prepare('container-x', uc.chainId);
    assert.equal(await pruneLayers({ content, images, unpacker }), []);
    await images.delete('b');
    await images.delete('c');
    await images.delete('a');
    assert.equal(await pruneLayers({ content, images, unpacker }), [ub.chainId!]);
    assert.equal((await sn.list()).map((i) => i.key).sort(), [ua.chainId!, uc.chainId!, 'container-x'].sort());
    await sn.remove('container-x');
    assert.equal((await pruneLayers({ content, images, unpacker })).sort(), [ua.chainId!, uc.chainId!].sort());
    assert.equal(await sn.list(), []);
  }));

  s('recover() removes extract-* leftovers', maybe(async ({ snapshotter: sn, unpacker }) => {
    await sn.prepare('extract-deadbeef sha256:' + '1'.repeat(64));
    await sn.prepare('keep-me');
    await unpacker.recover();
    assert.equal((await sn.list()).map((i) => i.key), ['keep-me']);
  }));

  s('deleted files in an upper layer hide the lower ones', privileged(async (ctx) => {
    const img = await putImage(ctx.content, undefined, 'a', [
      await tarOf([{ name: 'etc/' }, { name: 'etc/a', data: 'a' }, { name: 'etc/b', data: 'b' }, { name: 'opq/' }, { name: 'opq/old', data: 'o' }]),
      await tarOf([{ name: 'etc/.wh.a', data: '' }, { name: 'opq/' }, { name: 'opq/.wh..wh..opq', data: '' }, { name: 'opq/new', data: 'n' }]),
    ]);
    const m = await mounted(ctx, 'c1', img);
    assert.equal((await readdir(join(m, 'etc'))).sort(), ['b']);
    assert.equal(await readdir(join(m, 'opq')), ['new']);
  }));

  s('two containers from one image share the lower layers and not their writes', privileged(async (ctx) => {
    const img = await putImage(ctx.content, undefined, 'busybox', [await busyboxLayer()]);
    const m1 = await mounted(ctx, 'c1', img);
    const m2 = await mounted(ctx, 'c2', img);
    const r1 = await rootfsOf(ctx, 'c1');
    const r2 = await rootfsOf(ctx, 'c2');
    assert.equal(r1.lowerdirs, r2.lowerdirs);
    assert.is.not(r1.upperdir, r2.upperdir);
    assert.is(r1.chainId, digestOf(await busyboxLayer()));
    await writeFile(join(m1, 'etc/passwd'), 'changed\n');
    await writeFile(join(m1, 'tmp/mine'), 'c1');
    assert.match(await readFile(join(m2, 'etc/passwd'), 'utf8'), /^root:x:0:0/);
    assert.equal(await readdir(join(m2, 'tmp')), []);
    const { stdout } = await pexec('chroot', [m2, '/bin/sh', '-c', 'echo hi from $(cat /etc/passwd | head -c 4)']);
    assert.is(stdout, 'hi from root\n');
    if (r1.format === 'overlay') {
      assert.equal(await readdir(r1.upperdir).then((l) => l.sort()), ['etc', 'tmp']);
    }
    await rejects(() => prepareRootfs(ctx, 'c1', img), 'already_exists');
    await rejects(() => prepareRootfs(ctx, '../x', img), 'invalid_argument');
    assert.equal((await listRootfs(ctx)).sort(), ['c1', 'c2']);
    for (const m of ctx.mounted.splice(0)) await unmount(m);
    await removeRootfs(ctx, 'c1');
    await removeRootfs(ctx, 'c1');
    await rejects(() => rootfsOf(ctx, 'c1'), 'not_found');
    await rejects(() => ctx.snapshotter.remove(r1.chainId!), 'failed_precondition'); // c2 still uses it
  }));

  s.run();
}

unpackSuite('overlay', openOverlaySnapshotter, true);
unpackSuite('native', openNativeSnapshotter, false);

// ---
const d = suite('daemon storage wiring');

d('the daemon opens a snapshotter and removes extract-* leftovers at startup', async () => {
  const t = await startTestDaemon();
  try {
    const sn = t.daemon.services.snapshotter;
    assert.ok(sn.driver === 'overlay' || sn.driver === 'native');
    if (process.getuid?.() === 0) assert.is(sn.driver, 'overlay');
    await sn.prepare('extract-1234 sha256:' + 'a'.repeat(64));
    await t.daemon.close();
    const again = await startTestDaemon({ root: t.root });
    try {
      assert.equal(await again.daemon.services.snapshotter.list(), []);
    } finally {
      await again.daemon.close();
    }
  } finally {
    await t.close();
  }
});

d('a daemon killed in the middle of an unpack leaves nothing a restart does not clean up', async () => {
  const root = await tmpdir('sbx-crash-');
  try {
    const content = await openLocalContentStore(join(root, 'oci'), join(root, 'ingest'));
    const many = await tarOf(Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, data: Buffer.alloc(4096, i) })));
    const img = await putImage(content, undefined, 'big', [await busyboxLayer(), many]);
    await writeFile(join(root, 'image.json'), JSON.stringify(img));
    const dist = join(fileURLToPath(import.meta.url), '..', '..');
    const script = `
      const [{ openLocalContentStore }, { openSnapshotter }, { createUnpacker }, { silentLogger }, { readFileSync }] = await Promise.all([
        import('${dist}/daemon/content/local.js'), import('${dist}/daemon/snapshots/mount.js'),
        import('${dist}/daemon/images/unpack.js'), import('${dist}/daemon/util/log.js'), import('node:fs')]);
      const content = await openLocalContentStore('${root}/oci', '${root}/ingest');
      const snapshotter = await openSnapshotter('auto', '${root}/snapshots');
      const unpacker = createUnpacker({ content, snapshotter, log: silentLogger });
      const img = JSON.parse(readFileSync('${root}/image.json', 'utf8'));
      setInterval(() => {}, 1000);
      unpacker.unpack(img).then(() => process.exit(0));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Kill it once the second layer's extraction has begun.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(async () => {
        const dirs = await readdir(join(root, 'snapshots')).catch(() => [] as string[]);
        const meta = await readFile(join(root, 'snapshots', 'metadata.json'), 'utf8').catch(() => '');
        if ((meta.match(/"committed"/g) ?? []).length === 1 && dirs.some((d) => d.startsWith('a-'))) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
      child.on('exit', () => { clearInterval(timer); reject(new Error('unpack finished before it could be killed')); });
    });
    await new Promise((r) => child.once('exit', r));
    const snapshotter = await openSnapshotter('auto', join(root, 'snapshots'));
    const unpacker = createUnpacker({ content, snapshotter, log: silentLogger });
    await unpacker.recover();
    const left = await snapshotter.list();
    assert.equal(left.map((i) => `${i.key}:${i.kind}`), [`${digestOf(await busyboxLayer())}:committed`]);
    const u = await unpacker.unpack(img);
    assert.is((await snapshotter.list()).length, 2);
    assert.is((await readdir((await snapshotter.dirs(u.chainId!)).upper)).length, 3000);
    const dirs = (await readdir(join(root, 'snapshots'))).filter((d) => d !== 'metadata.json' && d !== 'l').sort();
    assert.is(dirs.length, 2, `only the two layers are on disk: ${dirs.join(' ')}`);
  } finally {
    await rmrf(root);
  }
});

d('Config.snapshotter native is honoured', async () => {
  const t = await startTestDaemon({ snapshotter: 'native' });
  try {
    assert.is(t.daemon.services.snapshotter.driver, 'native');
  } finally {
    await t.close();
  }
});

d('rmi removes the image\'s unpacked layers, except those another image shares', async () => {
  const t = await startTestDaemon();
  try {
    const s = t.daemon.services;
    const base = await busyboxLayer();
    const a = await putImage(s.content, s.images, 'a', [base]);
    const b = await putImage(s.content, s.images, 'b', [base, await tarOf([{ name: 'b', data: 'b' }])]);
    const ua = await s.unpacker.unpack(a);
    const ub = await s.unpacker.unpack(b);
    await removeImage(s, 'b');
    assert.equal((await s.snapshotter.list()).map((i) => i.key), [ua.chainId!]);
    assert.is.not(ub.chainId, ua.chainId);
    await removeImage(s, 'a');
    assert.equal(await s.snapshotter.list(), []);
  } finally {
    await t.close();
  }
});

d.run();
