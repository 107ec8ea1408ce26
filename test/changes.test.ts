import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatChange, type Change } from '../protocol/index.js';
import { compareViews, overlayChanges } from '../daemon/snapshots/compare.js';
import { DirView, EMPTY_VIEW, LayeredView } from '../daemon/snapshots/view.js';
import { mountOverlay, sh, writeTree, type Node } from './_helpers/fstree.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const lines = (cs: Change[]): string[] => cs.map(formatChange);

const BASE: Record<string, Node> = {
  'bin/busybox': { file: 'ELF', mode: 0o755, mtime: 1000 },
  'etc/': { dir: true, mtime: 1000 },
  'etc/motd': { file: 'welcome\n', mtime: 1000 },
  'etc/passwd': { file: 'root:x:0:0::/root:/bin/sh\n', mtime: 1000 },
  'etc/group': { file: 'root:x:0:\n', mtime: 1000 },
  'opt/x/y/z': 'deep',
  'opt/x/w': 'w',
  'data/a': 'a',
  'data/b': 'b',
  'usr/bin/env': 'env',
};

// ------------------------------------------------------------------------------------------------
// The overlay upperdir reader, on hand-made uppers (as overlayfs writes them).

interface UpperCase { name: string; lowers: Record<string, Node>[]; upper: Record<string, Node>; want: string[]; exclude?: string[] }

const upperCases: UpperCase[] = [
  {
    name: 'the seed scenario: a new file in a new dir, an image file deleted',
    lowers: [BASE],
    upper: { 'etc/': { dir: true }, 'etc/motd': { whiteout: true }, 'www/index.html': '<h1>edited</h1>\n' },
    want: ['C /etc', 'D /etc/motd', 'A /www', 'A /www/index.html'],
  },
  {
    name: 'a deleted tree is shown once',
    lowers: [BASE],
    upper: { opt: { whiteout: true } },
    want: ['D /opt'],
  },
  {
    name: 'an opaque dir: lower content gone, new content added',
    lowers: [BASE],
    upper: { 'data/': { dir: true, opaque: true }, 'data/c': 'c', 'data/b': 'new b' },
    want: ['C /data', 'D /data/a', 'C /data/b', 'A /data/c'],
  },
  {
    name: 'a copied-up file is changed, its parents too',
    lowers: [BASE],
    upper: { 'etc/passwd': 'root:x:0:0::/root:/bin/ash\n' },
    want: ['C /etc', 'C /etc/passwd'],
  },
  {
    name: 'new dirs under an image dir are all added',
    lowers: [BASE],
    upper: { 'usr/local/bin/tool': 'x' },
    want: ['C /usr', 'A /usr/local', 'A /usr/local/bin', 'A /usr/local/bin/tool'],
  },
  {
    name: 'a file replaced by a dir',
    lowers: [BASE],
    upper: { 'etc/motd/': { dir: true }, 'etc/motd/part': 'p' },
    want: ['C /etc', 'C /etc/motd', 'A /etc/motd/part'],
  },
  {
    name: 'a symlink added',
    lowers: [BASE],
    upper: { 'bin/sh': { symlink: 'busybox' } },
    want: ['C /bin', 'A /bin/sh'],
  },
  {
    name: 'several lowers: a whiteout below hides, an upper whiteout of a hidden path is no change',
    lowers: [{ 'etc/': { dir: true }, 'etc/motd': { whiteout: true } }, BASE],
    upper: { 'etc/': { dir: true }, 'etc/motd': { whiteout: true }, 'etc/passwd': { whiteout: true } },
    want: ['C /etc', 'D /etc/passwd'],
  },
  {
    name: 'an opaque dir in a lower layer hides what is below it',
    lowers: [{ 'data/': { dir: true, opaque: true }, 'data/only': 'o' }, BASE],
    upper: { data: { whiteout: true } },
    want: ['D /data'],
  },
  {
    name: 'excluded paths (runtime mount stubs) are left out',
    lowers: [BASE],
    upper: { 'etc/hosts': '', 'etc/resolv.conf': '', 'proc/': { dir: true }, 'root/.ash_history': 'ls' },
    exclude: ['/etc/hosts', '/etc/resolv.conf', '/proc'],
    want: ['A /root', 'A /root/.ash_history'],
  },
  {
    name: 'an empty upper is no change',
    lowers: [BASE],
    upper: {},
    want: [],
  },
];

const upper = suite<{ dir: string }>('overlay upperdir reader', { dir: '' });
upper.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-changes-'); });
upper.after.each(async (ctx) => { await rmrf(ctx.dir); });

for (const c of upperCases) {
  upper(c.name, privileged(async ({ dir }) => {
    const lowers: string[] = [];
    for (const [i, l] of c.lowers.entries()) {
      const d = join(dir, `l${i}`);
      await writeTree(d, l);
      lowers.push(d);
    }
    await writeTree(join(dir, 'upper'), c.upper);
    const ex = new Set(c.exclude ?? []);
    const got = await overlayChanges(join(dir, 'upper'), new LayeredView(lowers), { exclude: (p) => ex.has(p) });
    assert.equal(lines(got), c.want);
  }));
}

upper('adds carry kind and size; deletes carry the deleted kind', privileged(async ({ dir }) => {
  await writeTree(join(dir, 'l'), BASE);
  await writeTree(join(dir, 'u'), { 'www/index.html': '12345', opt: { whiteout: true } });
  const got = await overlayChanges(join(dir, 'u'), new LayeredView([join(dir, 'l')]));
  assert.equal(got, [
    { op: 'delete', path: '/opt', kind: 'dir' },
    { op: 'add', path: '/www', kind: 'dir' },
    { op: 'add', path: '/www/index.html', kind: 'file', size: 5 },
  ]);
}));

upper.run();

// ------------------------------------------------------------------------------------------------
// The double walk (copy-based snapshotter, two containers/images).

const walk = suite<{ dir: string }>('double walk', { dir: '' });
walk.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-changes-'); });
walk.after.each(async (ctx) => { await rmrf(ctx.dir); });

walk('docker rules: same stat is no change, dir mtime ignored, parents listed, deleted tree once', async ({ dir }) => {
  await writeTree(join(dir, 'a'), BASE);
  await sh(dir, 'cp -a a b');
  await writeTree(join(dir, 'b'), {
    'etc/': { dir: true, mtime: 2000 },            // only the dir's mtime: no change
    'etc/passwd': { file: 'root:x:0:0::/root:/bin/sh\n', mtime: 1500 }, // same size, other mtime: changed
    'bin/busybox': { file: 'ELF', mode: 0o700, mtime: 1000 },           // mode: changed
    'www/index.html': 'hi',
  });
  await rmrf(join(dir, 'b', 'opt'));
  await rmrf(join(dir, 'b', 'etc', 'motd'));
  const got = await compareViews(new DirView(join(dir, 'a')), new DirView(join(dir, 'b')));
  assert.equal(lines(got), ['C /bin', 'C /bin/busybox', 'C /etc', 'D /etc/motd', 'C /etc/passwd', 'D /opt', 'A /www', 'A /www/index.html']);
});

walk('against nothing: everything is added', async ({ dir }) => {
  await writeTree(join(dir, 'a'), { 'x/y': 'y', z: 'z' });
  const got = await compareViews(EMPTY_VIEW, new DirView(join(dir, 'a')));
  assert.equal(lines(got), ['A /x', 'A /x/y', 'A /z']);
});

walk('a dir replaced by a file: changed, the old children are not listed', async ({ dir }) => {
  await writeTree(join(dir, 'a'), { 'x/y': 'y' });
  await writeTree(join(dir, 'b'), { x: 'now a file' });
  assert.equal(lines(await compareViews(new DirView(join(dir, 'a')), new DirView(join(dir, 'b')))), ['C /x']);
});

walk.run();

// ------------------------------------------------------------------------------------------------
// The two mechanisms agree on a real overlay mount.

const real = suite<{ dir: string; umount?: () => Promise<void> }>('real overlay', { dir: '' });
real.before.each(async (ctx) => { ctx.dir = await tmpdir('sbx-changes-'); ctx.umount = undefined; });
real.after.each(async (ctx) => { await ctx.umount?.().catch(() => undefined); await rmrf(ctx.dir); });

real('upperdir reader == double walk of lower vs merged, for the usual edits', privileged(async (ctx) => {
  const { dir } = ctx;
  const l0 = join(dir, 'l0');
  const l1 = join(dir, 'l1');
  await writeTree(l0, BASE);
  await writeTree(l1, { 'etc/extra': 'e', 'usr/bin/env': { whiteout: true } });
  const merged = join(dir, 'merged');
  ctx.umount = await mountOverlay([l1, l0], join(dir, 'upper'), join(dir, 'work'), merged);
  await sh(merged, [
    'mkdir -p www && echo "<h1>edited</h1>" > www/index.html',
    'rm etc/motd',
    'rm -rf opt',
    'rm -rf data && mkdir data && echo c > data/c',
    'echo "daemon:x:1:1::/:/bin/false" >> etc/passwd',
    'chmod 600 etc/group',
    'ln -s busybox bin/sh',
    'mv etc/extra etc/extra2',
    'mkdir -p tmp/t && echo t > tmp/t/f && rm -rf tmp/t',
  ].join('\n'));
  const lower = new LayeredView([l1, l0]);
  const a = await overlayChanges(join(dir, 'upper'), lower);
  const b = await compareViews(lower, new DirView(merged));
  assert.equal(lines(a), lines(b));
  assert.equal(lines(a), [
    'C /bin', 'A /bin/sh', 'C /data', 'D /data/a', 'D /data/b', 'A /data/c', 'C /etc', 'D /etc/extra', 'A /etc/extra2',
    'C /etc/group', 'D /etc/motd', 'C /etc/passwd', 'D /opt', 'A /tmp', 'A /www', 'A /www/index.html',
  ]);
}));

real.run();
