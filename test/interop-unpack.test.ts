/**
 * Interop: the root filesystem sbx unpacks and mounts for an image is the one umoci unpacks from
 * the same OCI layout (whiteouts, opaque dirs, hard links, modes, owners, xattrs, long names).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { listAttributes, getAttribute } from '@napi-rs/xattr';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalContentStore } from '../daemon/content/local.js';
import { openImageStore } from '../daemon/images/store.js';
import { createUnpacker } from '../daemon/images/unpack.js';
import { mountAll, unmount } from '../daemon/snapshots/mount.js';
import { openNativeSnapshotter } from '../daemon/snapshots/native.js';
import { openOverlaySnapshotter } from '../daemon/snapshots/overlay.js';
import { prepareRootfs } from '../daemon/containers/rootfs.js';
import { silentLogger } from '../daemon/util/log.js';
import { busyboxLayer, putImage, tarOf } from './_helpers/fixtures.js';
import { must, requireTools } from './_helpers/peers.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

/** path → one line describing everything a user could notice about the entry (dir mtimes aside). */
async function treeOf(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const inodes = new Map<number, string>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = join(root, p);
      const st = await lstat(abs);
      let what = `mode=${(st.mode & 0o177777).toString(8)} uid=${st.uid} gid=${st.gid}`;
      if (st.isSymbolicLink()) what += ` -> ${await readlink(abs)}`;
      else {
        const xs = (await listAttributes(abs)).filter((x) => !x.startsWith('trusted.')).sort();
        for (const x of xs) what += ` ${x}=${(await getAttribute(abs, x))?.toString('hex')}`;
      }
      if (st.isFile()) {
        what += ` size=${st.size} mtime=${st.mtimeMs} sha=${createHash('sha256').update(await readFile(abs)).digest('hex').slice(0, 16)}`;
        if (st.nlink > 1) {
          const first = inodes.get(st.ino);
          if (first) what += ` link=${first}`; else inodes.set(st.ino, p);
        }
      }
      if (st.isCharacterDevice() || st.isBlockDevice()) what += ` rdev=${st.rdev}`;
      out.set(p, what);
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk('');
  return out;
}

const s = suite('interop: unpack equals umoci unpack');

for (const [driver, open] of [['overlay', openOverlaySnapshotter], ['native', openNativeSnapshotter]] as const) {
  s(`${driver}: the mounted root equals umoci's`, async () => {
    if (!(await requireTools('umoci'))) return;
    const root = await tmpdir('sbx-interop-unpack-');
    const merged = join(root, 'merged');
    try {
      const content = await openLocalContentStore(join(root, 'oci'), join(root, 'ingest'));
      const images = await openImageStore(join(root, 'oci'));
      const long = `deep/${'d'.repeat(90)}/${'f'.repeat(120)}`;
      const img = await putImage(content, images, 'interop', [
        await busyboxLayer(),
        await tarOf([
          { name: 'etc/' }, { name: 'etc/motd', data: 'hello\n' }, { name: 'etc/old', data: 'old' },
          { name: 'opt/' }, { name: 'opt/a/' }, { name: 'opt/a/x', data: 'x' }, { name: 'opt/b', data: 'b' },
          { name: 'srv/' }, { name: 'srv/tree/' }, { name: 'srv/tree/t', data: 't' },
          { name: 'usr/bin/suid', data: '#!/bin/sh\n', mode: 0o4755 },
          { name: 'home/' }, { name: 'home/u/', uid: 1000, gid: 1000, mode: 0o700 }, { name: 'home/u/f', data: 'u', uid: 1000, gid: 1000 },
          { name: 'x', data: 'attr', pax: { 'SCHILY.xattr.user.note': 'n\u00fcll' } },
          { name: 'deep/' }, { name: long, data: 'long' },
          { name: 'srv2/' }, { name: 'srv2/old', data: 'o' }, { name: 'etc/motd2', data: 'file' },
          { name: 'srv3/' }, { name: 'srv3/old', data: 'o' },
        ]),
        await tarOf([
          { name: 'etc/.wh.old', data: '' },
          { name: 'etc/motd', data: 'changed\n', mode: 0o600 },
          { name: 'opt/' }, { name: 'opt/.wh..wh..opq', data: '' }, { name: 'opt/new', data: 'n' }, { name: 'opt/a/' }, { name: 'opt/a/y', data: 'y' },
          { name: '.wh.srv2', data: '' }, { name: 'srv2/' }, { name: 'srv2/new', data: 'n' },
          { name: '.wh.srv3', data: '' }, { name: 'srv3/new', data: 'n', mtime: new Date('2020-01-01T00:00:00Z') },
          { name: 'etc/motd2/' }, { name: 'etc/motd2/inside', data: 'now a dir' },
          { name: 'srv/.wh.tree', data: '' },
          { name: 'bin/hard', type: 'link', linkname: 'bin/busybox' },
          { name: 'bin/busybox', data: 'not really busybox', mode: 0o755 },
          { name: 'bin/hard2', type: 'link', linkname: 'bin/busybox' },
        ]),
      ], { gzip: true });

      await must('umoci', ['unpack', '--image', `${join(root, 'oci')}:interop`, join(root, 'bundle')]);
      const want = await treeOf(join(root, 'bundle', 'rootfs'));

      const snapshotter = await open(join(root, 'snapshots'));
      const unpacker = createUnpacker({ content, snapshotter, log: silentLogger });
      const r = await prepareRootfs({ snapshotter, unpacker }, 'c1', img);
      await mkdir(merged);
      await mountAll(r.mounts, merged);
      const got = await treeOf(merged);

      const diffs: string[] = [];
      for (const [p, w] of want) if (got.get(p) !== w) diffs.push(`${p}\n    umoci: ${w}\n    sbx:   ${got.get(p)}`);
      for (const p of got.keys()) if (!want.has(p)) diffs.push(`${p}: only in sbx`);
      assert.equal(diffs, [], diffs.slice(0, 10).join('\n'));
      assert.ok(want.has(long));
      assert.not.ok(want.has('etc/old'));
      assert.ok(want.has('opt/a/y') && !want.has('opt/a/x') && !want.has('opt/b'));
      assert.ok(want.has('srv2/new') && !want.has('srv2/old') && want.has('etc/motd2/inside'));
      assert.ok(want.has('srv3/new') && !want.has('srv3/old'));
    } finally {
      await unmount(merged).catch(() => undefined);
      await rmrf(root);
    }
  });
}

s.run();
