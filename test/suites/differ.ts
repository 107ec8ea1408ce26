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
import { formatChange } from '../../protocol/index.js';
import { applyLayer } from '../../daemon/archive/apply.js';
import { openLocalContentStore } from '../../daemon/content/local.js';
import type { ContentStore } from '../../daemon/content/store.js';
import { createDiffer, type Differ } from '../../daemon/snapshots/differ.js';
import { mountAll, unmount } from '../../daemon/snapshots/mount.js';
import { containerKey, rootfsOf, type Rootfs } from '../../daemon/snapshots/rootfs.js';
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

  /** A container over `parent` whose root ran `script` (through a real mount). */
  async function container(ctx: Ctx, parent: string, script: string): Promise<Rootfs> {
    const id = `c${++ctx.n}`;
    await ctx.sn.prepare(containerKey(id), parent);
    const r = await rootfsOf({ snapshotter: ctx.sn }, id);
    const dir = join(ctx.root, 'mnt', id);
    await mkdir(dir, { recursive: true });
    await mountAll(r.mounts, dir);
    try { await sh(dir, script); } finally { await unmount(dir); }
    return r;
  }

  const CHANGE = 'echo hi > new.txt && echo changed > etc/motd && rm etc/gone && rm -r opt/app';

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

async function tarNames(content: ContentStore, digest: string): Promise<string[]> {
  const ex = tar.extract();
  const names: string[] = [];
  ex.on('entry', (h, st, next) => { names.push(h.name.replace(/^\.\//, '').replace(/\/$/, '')); st.resume(); st.on('end', next); });
  const done = new Promise<void>((res, rej) => { ex.on('finish', () => res()); ex.on('error', rej); });
  (await content.read(digest as `sha256:${string}`)).pipe(ex);
  await done;
  return names;
}
