/** Conformance suite for any Snapshotter; the mount parts are privileged. */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mountAll, unmount } from '../../daemon/snapshots/mount.js';
import type { Snapshotter } from '../../daemon/snapshots/snapshotter.js';
import { rejects } from '../_helpers/assert.js';
import { privileged } from '../_helpers/root.js';
import { rmrf, tmpdir } from '../_helpers/tmp.js';

interface Ctx { root: string; sn: Snapshotter; mnt: string; mounted: string[] }

export function snapshotterSuite(name: string, open: (root: string) => Promise<Snapshotter>): void {
  const s = suite<Ctx>(`snapshotter:${name}`, {} as Ctx);

  s.before.each(async (ctx) => {
    ctx.root = await tmpdir('sbx-snap-');
    ctx.sn = await open(join(ctx.root, 'snapshots'));
    ctx.mnt = join(ctx.root, 'mnt');
    ctx.mounted = [];
  });
  s.after.each(async (ctx) => {
    for (const m of ctx.mounted.reverse()) await unmount(m).catch(() => undefined);
    await ctx.sn.close();
    await rmrf(ctx.root);
  });

  /** A committed snapshot `name` over `parent` holding `files`, written through dirs() (no mount). */
  async function layer(sn: Snapshotter, name: string, parent: string | undefined, files: Record<string, string>): Promise<void> {
    await sn.prepare(`build-${name}`, parent);
    const { upper } = await sn.dirs(`build-${name}`);
    for (const [f, data] of Object.entries(files)) {
      await mkdir(join(upper, f, '..'), { recursive: true });
      await writeFile(join(upper, f), data);
    }
    await sn.commit(name, `build-${name}`);
  }

  async function mountAt(ctx: Ctx, key: string, dir: string, view = false, parent?: string): Promise<string> {
    const mounts = view ? await ctx.sn.view(key, parent) : await ctx.sn.mounts(key);
    await mkdir(dir, { recursive: true });
    await mountAll(mounts, dir);
    ctx.mounted.push(dir);
    return dir;
  }

  s('prepare → commit: the name is committed, the key is gone', async ({ sn }) => {
    const mounts = await sn.prepare('k1');
    assert.ok(mounts.length >= 1);
    assert.is((await sn.stat('k1')).kind, 'active');
    await sn.commit('base', 'k1', { purpose: 'test' });
    const base = await sn.stat('base');
    assert.is(base.kind, 'committed');
    assert.is(base.labels.purpose, 'test');
    await rejects(() => sn.stat('k1'), 'not_found');
    assert.equal((await sn.list()).map((i) => i.key), ['base']);
  });

  s('prepare refuses an existing key, a missing parent, an uncommitted parent, a bad key', async ({ sn }) => {
    await sn.prepare('k1');
    await rejects(() => sn.prepare('k1'), 'already_exists');
    await rejects(() => sn.prepare('k2', 'nope'), 'not_found');
    await rejects(() => sn.prepare('k2', 'k1'), 'failed_precondition');
    await rejects(() => sn.prepare(''), 'invalid_argument');
    await rejects(() => sn.prepare('a\nb'), 'invalid_argument');
    assert.equal((await sn.list()).map((i) => i.key), ['k1']);
  });

  s('commit refuses views, committed snapshots and taken names (leaving the key)', async ({ sn }) => {
    await layer(sn, 'base', undefined, { a: 'a' });
    await sn.view('v', 'base');
    await rejects(() => sn.commit('x', 'v'), 'failed_precondition');
    await rejects(() => sn.commit('y', 'base'), 'failed_precondition');
    await sn.prepare('k', 'base');
    await rejects(() => sn.commit('base', 'k'), 'already_exists');
    assert.is((await sn.stat('k')).kind, 'active');
    await rejects(() => sn.commit('z', 'missing'), 'not_found');
  });

  s('a parent with children cannot be removed; children first', async ({ sn }) => {
    await layer(sn, 'base', undefined, { a: 'a' });
    await layer(sn, 'mid', 'base', { b: 'b' });
    await sn.prepare('top', 'mid');
    await rejects(() => sn.remove('base'), 'failed_precondition');
    await rejects(() => sn.remove('mid'), 'failed_precondition');
    await sn.remove('top');
    await sn.remove('mid');
    await sn.remove('base');
    await rejects(() => sn.remove('base'), 'not_found');
    assert.equal(await sn.list(), []);
  });

  s('dirs: a child sees its parents through lowers; its upper starts without their entries or with a copy', async ({ sn }) => {
    await layer(sn, 'base', undefined, { 'etc/a': 'a' });
    await sn.prepare('k', 'base');
    const d = await sn.dirs('k');
    assert.is(d.lowers.length, 1);
    assert.is(await readFile(join(d.lowers[0]!, 'etc/a'), 'utf8'), 'a');
    if (d.format === 'full') assert.is(await readFile(join(d.upper, 'etc/a'), 'utf8'), 'a');
    else assert.equal(await readdir(d.upper), []);
  });

  s('state survives reopening; leftovers of a crash are removed', async (ctx) => {
    await layer(ctx.sn, 'base', undefined, { a: 'a' });
    await ctx.sn.prepare('k', 'base');
    await mkdir(join(ctx.root, 'snapshots', 'a-LEFTOVER'));
    await ctx.sn.close();
    ctx.sn = await open(join(ctx.root, 'snapshots'));
    assert.equal((await ctx.sn.list()).map((i) => `${i.key}:${i.kind}`), ['base:committed', 'k:active']);
    assert.not.ok((await readdir(join(ctx.root, 'snapshots'))).includes('a-LEFTOVER'));
    await rejects(() => ctx.sn.prepare('k'), 'already_exists');
  });

  s('mounts: writes land in the active snapshot and survive commit; views are read-only', privileged(async (ctx) => {
    const { sn } = ctx;
    await sn.prepare('k1');
    const m1 = await mountAt(ctx, 'k1', join(ctx.mnt, '1'));
    await mkdir(join(m1, 'etc'));
    await writeFile(join(m1, 'etc/hello'), 'from base');
    await writeFile(join(m1, 'doomed'), 'x');
    await unmount(m1);
    await sn.commit('base', 'k1');

    await sn.prepare('k2', 'base');
    const m2 = await mountAt(ctx, 'k2', join(ctx.mnt, '2'));
    assert.is(await readFile(join(m2, 'etc/hello'), 'utf8'), 'from base');
    await rm(join(m2, 'doomed'));
    await writeFile(join(m2, 'etc/hello'), 'changed');
    await unmount(m2);
    await sn.commit('child', 'k2');

    const v = await mountAt(ctx, 'v', join(ctx.mnt, 'v'), true, 'child');
    assert.equal((await readdir(v)).sort(), ['etc']);
    assert.is(await readFile(join(v, 'etc/hello'), 'utf8'), 'changed');
    try {
      await writeFile(join(v, 'new'), 'x');
      assert.unreachable('a view must be read-only');
    } catch (e) {
      assert.is((e as NodeJS.ErrnoException).code, 'EROFS');
    }
    const vb = await mountAt(ctx, 'vb', join(ctx.mnt, 'vb'), true, 'base');
    assert.is(await readFile(join(vb, 'doomed'), 'utf8'), 'x', 'the parent is unchanged');
  }));

  s('two actives over one parent do not see each other\'s writes', privileged(async (ctx) => {
    await layer(ctx.sn, 'base', undefined, { shared: 's' });
    await ctx.sn.prepare('c1', 'base');
    await ctx.sn.prepare('c2', 'base');
    const a = await mountAt(ctx, 'c1', join(ctx.mnt, 'c1'));
    const b = await mountAt(ctx, 'c2', join(ctx.mnt, 'c2'));
    await writeFile(join(a, 'only-a'), 'a');
    await writeFile(join(a, 'shared'), 'changed by a');
    assert.equal((await readdir(b)).sort(), ['shared']);
    assert.is(await readFile(join(b, 'shared'), 'utf8'), 's');
  }));

  s('a 64-layer chain mounts and shows every layer', privileged(async (ctx) => {
    let parent: string | undefined;
    for (let i = 0; i < 64; i++) {
      const name = `sha256:${i.toString(16).padStart(64, '0')}`;
      await layer(ctx.sn, name, parent, { [`f${i}`]: String(i) });
      parent = name;
    }
    await ctx.sn.prepare('deep', parent);
    const m = await mountAt(ctx, 'deep', join(ctx.mnt, 'deep'));
    assert.is((await readdir(m)).length, 64);
    assert.is(await readFile(join(m, 'f0'), 'utf8'), '0');
    assert.is(await readFile(join(m, 'f63'), 'utf8'), '63');
  }));

  s.run();
}
