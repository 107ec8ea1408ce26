/**
 * Conformance suite for any Differ (with the snapshotter it is picked for): the same container
 * changes give the same change list, views, followed target and exported layer whatever the
 * snapshot format. Privileged: a container's changes are made through a real mount.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import tar from 'tar-stream';
import { setAttribute } from '@napi-rs/xattr';
import { formatChange } from '../../protocol/index.js';
import { applyLayer } from '../../daemon/archive/apply.js';
import { openLocalContentStore } from '../../daemon/content/local.js';
import type { ContentStore } from '../../daemon/content/store.js';
import { excludeFilter } from '../../daemon/changes/stubs.js';
import { createDiffer, type Differ, type ExportOptions, type ExportedLayer, type Rootfs } from '../../daemon/snapshots/differ.js';
import type { FsView } from '../../daemon/snapshots/view.js';
import { mountAll, unmount } from '../../daemon/snapshots/mount.js';
import { containerKey, rootfsOf } from '../../daemon/containers/rootfs.js';
import type { Snapshotter } from '../../daemon/snapshots/snapshotter.js';
import { sh, writeTree } from '../_helpers/fstree.js';
import { privileged } from '../_helpers/root.js';
import { rmrf, tmpdir } from '../_helpers/tmp.js';

interface Ctx { root: string; sn: Snapshotter; content: ContentStore; differ: Differ; n: number }

const EXPECTED = ['C /etc', 'D /etc/gone', 'C /etc/motd', 'A /new.txt', 'C /opt', 'D /opt/app'];

export function differSuite(name: string, open: (root: string) => Promise<Snapshotter>): void {
  const s = suite<Ctx>(`differ:${name}`, {} as Ctx);

  s.before.each(async (ctx) => {
    ctx.root = await tmpdir('sbx-differ-');
    ctx.n = 0;
    ctx.content = await openLocalContentStore(join(ctx.root, 'oci'), join(ctx.root, 'ingest'));
    if (process.getuid?.() !== 0) return;
    ctx.sn = await open(join(ctx.root, 'snapshots'));
    ctx.differ = createDiffer({ snapshotter: ctx.sn, content: ctx.content });
    await ctx.sn.prepare('build', undefined);
    await writeTree((await ctx.sn.dirs('build')).upper, {
      'etc/motd': 'welcome\n', 'etc/gone': 'x', 'opt/app/a': 'a', 'opt/app/b': 'b', 'keep.txt': 'same',
    });
    await ctx.sn.commit('base', 'build');
  });
  s.after.each(async (ctx) => {
    await ctx.sn?.close();
    await rmrf(ctx.root);
  });

  const CHANGE = 'echo hi > new.txt && echo changed > etc/motd && rm etc/gone && rm -r opt/app';

  /** A container over `parent` whose root ran `script` (through a real mount), then `also`. */
  async function container(ctx: Ctx, parent: string, script: string, also?: (dir: string) => Promise<void>): Promise<Rootfs> {
    const id = `c${++ctx.n}`;
    await ctx.sn.prepare(containerKey(id), parent);
    const r = await rootfsOf({ snapshotter: ctx.sn }, id);
    const dir = join(ctx.root, 'mnt', id);
    await mkdir(dir, { recursive: true });
    await mountAll(r.mounts, dir);
    try {
      await sh(dir, script);
      await also?.(dir);
    } finally { await unmount(dir); }
    return r;
  }

  /** Export, settle and commit the container's snapshot as `kept`; apply the layer over the parent as `unpacked`. */
  async function keepAndUnpack(ctx: Ctx, r: Rootfs, o: ExportOptions): Promise<{ kept: boolean; layer: ExportedLayer }> {
    const layer = await ctx.differ.exportLayer(r, o);
    assert.ok(layer);
    const kept = await ctx.differ.settle(r, o);
    if (kept) await ctx.sn.commit('kept', r.key);
    await ctx.sn.prepare('apply', r.chainId);
    const d = await ctx.sn.dirs('apply');
    await applyLayer(d.upper, await ctx.content.read(layer.diffId), { whiteouts: d.whiteouts, lowers: d.lowers, diffId: layer.diffId });
    await ctx.sn.commit('unpacked', 'apply');
    return { kept, layer };
  }

  const SETTLE = [
    CHANGE, 'mkdir -p dev proc tmp/cache etc/sub && echo stub > etc/hosts && echo cached > tmp/cache/x && echo sub > etc/sub/f',
    'rm keep.txt', 'chmod 700 opt', 'ln new.txt new2.txt',
    `node -e "const s=require('net').createServer();s.listen('run.sock',()=>process.exit(0))"`,
  ].join(' && ');
  const xattrs = async (dir: string): Promise<void> => {
    await setAttribute(join(dir, 'new.txt'), 'user.kept', 'yes');
    await setAttribute(join(dir, 'new.txt'), 'trusted.dropped', 'no');
  };

  s('settle: the kept snapshot is the tree an unpack of the layer gives (stubs, excluded paths, sockets, xattrs, times)', privileged(async (ctx) => {
    const r = await container(ctx, 'base', SETTLE, xattrs);
    const o: ExportOptions = { exclude: excludeFilter(['/tmp/cache']) };
    const { kept } = await keepAndUnpack(ctx, r, o);
    assert.ok(kept, 'kept');
    const [a, b] = [ctx.differ.treeOf(await ctx.sn.dirs('kept')), ctx.differ.treeOf(await ctx.sn.dirs('unpacked'))];
    const listing = await sameTrees(a, b);
    for (const p of ['/new.txt', '/new2.txt', '/etc/sub/f', '/tmp']) assert.ok(listing.includes(p), `${p} in ${listing.join(' ')}`);
    for (const p of ['/etc/hosts', '/dev', '/proc', '/tmp/cache', '/run.sock', '/keep.txt', '/etc/gone']) assert.not.ok(listing.includes(p), `${p} left out`);
    assert.is((await a.xattr('/new.txt', 'user.kept'))?.toString(), 'yes');
    assert.is(await a.xattr('/new.txt', 'trusted.dropped'), null);
  }));

  s('settle: with a source date epoch, times are clamped as in the layer', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    const { kept } = await keepAndUnpack(ctx, r, { exclude: excludeFilter(), sourceDateEpoch: 1000 });
    assert.ok(kept);
    await sameTrees(ctx.differ.treeOf(await ctx.sn.dirs('kept')), ctx.differ.treeOf(await ctx.sn.dirs('unpacked')));
    assert.is((await ctx.differ.treeOf(await ctx.sn.dirs('kept')).lstat('/new.txt'))?.mtimeSec, 1000n);
  }));

  s('settle: a changed file linked to an unchanged one is either kept exactly or not kept', privileged(async (ctx) => {
    const r = await container(ctx, 'base', 'ln keep.txt k2');
    const { kept } = await keepAndUnpack(ctx, r, {});
    if (kept) await sameTrees(ctx.differ.treeOf(await ctx.sn.dirs('kept')), ctx.differ.treeOf(await ctx.sn.dirs('unpacked')));
    else await ctx.sn.remove(r.key);
  }));

  s('settle: a squashed layer is not the container\'s snapshot', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    assert.is(await ctx.differ.settle(r, { squash: true }), false);
  }));


  s('changes: added, modified and deleted paths, docker\'s order', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    assert.equal((await ctx.differ.changes(r)).map(formatChange), EXPECTED);
    assert.equal((await ctx.differ.changes(r, { exclude: (p) => p === '/new.txt' })).map(formatChange), EXPECTED.filter((c) => c !== 'A /new.txt'));
  }));

  s('view: lower is the image, merged the container\'s whole tree', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    const { lower, merged } = ctx.differ.view(r);
    assert.is((await lower.readFile('/etc/motd', 100))?.data?.toString(), 'welcome\n');
    assert.is((await merged.readFile('/etc/motd', 100))?.data?.toString(), 'changed\n');
    assert.is((await merged.readFile('/keep.txt', 100))?.data?.toString(), 'same');
    assert.is(await merged.lstat('/etc/gone'), undefined);
    assert.ok(await lower.lstat('/etc/gone'));
    assert.equal((await merged.readdir('/')).sort(), ['etc', 'keep.txt', 'new.txt', 'opt']);
  }));

  s('follow: a layer to watch or a whole tree, and the image below', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    const f = ctx.differ.follow(r);
    assert.ok((f.layer === undefined) !== (f.tree === undefined), 'exactly one of layer and tree');
    assert.is((await f.lower.readFile('/etc/motd', 100))?.data?.toString(), 'welcome\n');
  }));

  s('exportLayer: nothing changed → no layer', privileged(async (ctx) => {
    const r = await container(ctx, 'base', 'true');
    assert.is(await ctx.differ.exportLayer(r), undefined);
  }));

  s('exportLayer: an OCI tar whose digest is its diffID, that reapplied gives the same changes', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    const layer = await ctx.differ.exportLayer(r);
    assert.ok(layer);
    assert.is(layer.descriptor.digest, layer.diffId);
    assert.ok(await ctx.content.has(layer.diffId));
    const names = await tarNames(ctx.content, layer.diffId);
    for (const n of ['new.txt', 'etc/motd', 'etc/.wh.gone', 'opt/.wh.app']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    assert.not.ok(names.some((n) => n.startsWith('keep.txt')), 'unchanged files stay out');
    // Applied as a new layer over the image, it holds exactly the container's changes.
    await ctx.sn.prepare('apply', 'base');
    const d = await ctx.sn.dirs('apply');
    await applyLayer(d.upper, await ctx.content.read(layer.diffId), { whiteouts: d.whiteouts, lowers: d.lowers, diffId: layer.diffId });
    await ctx.sn.commit('next', 'apply');
    const again = await container(ctx, 'next', 'true');
    assert.equal((await ctx.differ.changes(again)).map(formatChange), [], 'the new image is the container');
    const { merged } = ctx.differ.view(again);
    assert.is((await merged.readFile('/new.txt', 100))?.data?.toString(), 'hi\n');
    assert.is(await merged.lstat('/opt/app'), undefined);
  }));

  s('exportLayer squash: the whole tree, no whiteouts', privileged(async (ctx) => {
    const r = await container(ctx, 'base', CHANGE);
    const layer = await ctx.differ.exportLayer(r, { squash: true });
    assert.ok(layer);
    const names = await tarNames(ctx.content, layer.diffId);
    for (const n of ['keep.txt', 'new.txt', 'etc/motd']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    assert.not.ok(names.some((n) => n.includes('.wh.') || n.startsWith('opt/app')), names.join(' '));
  }));

  s.run();
}

/** Every path of `a` and `b` alike (kind, mode, owner, size, times, links, bytes, xattrs); returns the paths. */
async function sameTrees(a: FsView, b: FsView): Promise<string[]> {
  const seen: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const names = await a.readdir(dir);
    assert.equal(names, await b.readdir(dir), `entries of ${dir}`);
    for (const n of names) {
      const p = dir === '/' ? `/${n}` : `${dir}/${n}`;
      seen.push(p);
      const [ea, eb] = [await a.lstat(p), await b.lstat(p)];
      assert.ok(ea && eb, p);
      const pick = (e: typeof ea) => ({ kind: e.kind, mode: e.mode, uid: e.uid, gid: e.gid, size: e.kind === 'dir' ? 0 : e.size, rdev: e.rdev, mtime: `${e.mtimeSec}.${e.mtimeNsec}`, nlink: e.kind === 'dir' ? 0 : e.nlink });
      assert.equal(pick(ea), pick(eb), p);
      if (ea.kind === 'file') assert.ok((await a.readFile(p, 1 << 20))!.data!.equals((await b.readFile(p, 1 << 20))!.data!), `bytes of ${p}`);
      for (const x of ['user.kept', 'trusted.dropped', 'security.capability']) assert.equal(await a.xattr(p, x), await b.xattr(p, x), `${x} of ${p}`);
      if (ea.kind === 'dir') await walk(p);
    }
  };
  const [ra, rb] = [await a.lstat('/'), await b.lstat('/')];
  assert.equal([ra?.mode, ra?.uid, ra?.gid], [rb?.mode, rb?.uid, rb?.gid], 'the root');
  await walk('/');
  return seen;
}

async function tarNames(content: ContentStore, digest: string): Promise<string[]> {
  const ex = tar.extract();
  const names: string[] = [];
  ex.on('entry', (h, st, next) => { names.push(h.name.replace(/^\.\//, '').replace(/\/$/, '')); st.resume(); st.on('end', next); });
  const done = new Promise<void>((res, rej) => { ex.on('finish', () => res()); ex.on('error', rej); });
  (await content.read(digest as `sha256:${string}`)).pipe(ex);
  await done;
  return names;
}
