import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import tar from 'tar-stream';
import { MediaType, type Digest, type ImageConfig } from '../protocol/index.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import type { ContentStore } from '../daemon/content/store.js';
import { commitImage, type CommitOptions, type CommitResult } from '../daemon/images/commit.js';
import { loadImage, type LoadedImage } from '../daemon/images/resolve.js';
import { openImageStore, type ImageStore } from '../daemon/images/store.js';
import { chainIds, createUnpacker, type Unpacker } from '../daemon/images/unpack.js';
import { createDiffer, type Differ } from '../daemon/snapshots/differ.js';
import { mountAll, unmount } from '../daemon/snapshots/mount.js';
import { openNativeSnapshotter } from '../daemon/snapshots/native.js';
import { openOverlaySnapshotter } from '../daemon/snapshots/overlay.js';
import { prepareRootfs, rootfsOf } from '../daemon/containers/rootfs.js';
import type { Snapshotter } from '../daemon/snapshots/snapshotter.js';
import { SharedLock } from '../daemon/util/lock.js';
import { silentLogger } from '../daemon/util/log.js';
import { rejects } from './_helpers/assert.js';
import { sh } from './_helpers/fstree.js';
import { makeBusyboxImage } from './_helpers/image.js';
import { privileged } from './_helpers/root.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

interface Ctx {
  root: string; content: ContentStore; images: ImageStore; snapshotter: Snapshotter; differ: Differ; unpacker: Unpacker;
  gcLock: SharedLock; mounted: string[]; base: LoadedImage; n: number;
}

async function tarNames(content: ContentStore, digest: Digest): Promise<string[]> {
  const ex = tar.extract();
  const names: string[] = [];
  ex.on('entry', (h, s, next) => { names.push(h.type === 'link' ? `${h.name} => ${h.linkname}` : h.name); s.resume(); s.on('end', next); });
  const done = new Promise<void>((res, rej) => { ex.on('finish', () => res()); ex.on('error', rej); });
  (await content.read(digest) as Readable).pipe(ex);
  await done;
  return names;
}

function commitSuite(driver: 'overlay' | 'native'): void {
  const s = suite<Ctx>(`commit:${driver}`, {} as Ctx);
  s.before.each(async (ctx) => {
    ctx.root = await tmpdir('sbx-commit-');
    ctx.mounted = [];
    ctx.n = 0;
    ctx.content = await openLocalContentStore(join(ctx.root, 'oci'), join(ctx.root, 'ingest'));
    ctx.images = await openImageStore(join(ctx.root, 'oci'));
    ctx.gcLock = new SharedLock();
    if (process.getuid?.() !== 0) return;
    ctx.snapshotter = await (driver === 'overlay' ? openOverlaySnapshotter : openNativeSnapshotter)(join(ctx.root, 'snapshots'));
    ctx.differ = createDiffer(ctx);
    ctx.unpacker = createUnpacker({ content: ctx.content, snapshotter: ctx.snapshotter, log: silentLogger });
    const img = await makeBusyboxImage(ctx, 'busybox', { 'etc/motd': 'welcome\n', 'opt/app/a': 'a', 'opt/app/b': 'b' });
    ctx.base = await loadImage(ctx.content, img.manifest, 'busybox');
  });
  s.after.each(async (ctx) => {
    for (const m of ctx.mounted.reverse()) await unmount(m).catch(() => undefined);
    await ctx.snapshotter?.close();
    await rmrf(ctx.root);
  });

  /** A "container": its rootfs mounted, `script` run in it, unmounted again. */
  async function container(ctx: Ctx, image: LoadedImage, script: string): Promise<string> {
    const id = `c${++ctx.n}`;
    const r = await prepareRootfs(ctx, id, image);
    const dir = join(ctx.root, 'mnt', id);
    await mkdir(dir, { recursive: true });
    await mountAll(r.mounts, dir);
    try { await sh(dir, script); } finally { await unmount(dir); }
    return id;
  }

  async function commit(ctx: Ctx, id: string, image: LoadedImage, opts: CommitOptions = {}): Promise<CommitResult> {
    return commitImage(ctx, { id, rootfs: await rootfsOf(ctx, id), image, config: image.config.config ?? {} }, opts);
  }

  async function inspect(ctx: Ctx, r: CommitResult): Promise<LoadedImage> {
    return loadImage(ctx.content, r.manifest, r.id);
  }

  /** Run `script` in a fresh container of `image` and return its output. */
  async function inImage(ctx: Ctx, image: LoadedImage, script: string): Promise<string> {
    const id = `v${++ctx.n}`;
    const r = await prepareRootfs(ctx, id, image);
    const dir = join(ctx.root, 'mnt', id);
    await mkdir(dir, { recursive: true });
    await mountAll(r.mounts, dir);
    try { return await sh(dir, script); } finally { await unmount(dir); }
  }

  const SEED = "mkdir -p www && echo '<h1>edited</h1>' > www/index.html && rm etc/motd";

  s('the seed scenario: one new layer with a whiteout, -c applied, history entry, parent shared', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, SEED);
    const r = await commit(ctx, id, ctx.base, {
      author: 'me', message: 'edited index.html', reference: 'mysite:1',
      changes: ['CMD ["httpd","-f","-p","80","-h","/www"]', 'EXPOSE 80'],
    });
    assert.match(r.id, /^sha256:[0-9a-f]{64}$/);
    const img = await inspect(ctx, r);
    const cfg: ImageConfig = img.config;
    assert.equal(cfg.config?.Cmd, ['httpd', '-f', '-p', '80', '-h', '/www']);
    assert.equal(cfg.config?.ExposedPorts, { '80/tcp': {} });
    assert.equal(cfg.config?.Env, ['PATH=/bin'], 'the rest of the config is kept');
    assert.is(cfg.rootfs.diff_ids.length, 2);
    assert.is(cfg.rootfs.diff_ids[0], ctx.base.config.rootfs.diff_ids[0]);
    assert.equal(img.manifest.layers[0], ctx.base.manifest.layers[0], 'the parent layer is the same blob');
    assert.is(img.manifest.layers[1]!.mediaType, MediaType.ociLayer);
    assert.is(img.manifest.layers[1]!.digest, cfg.rootfs.diff_ids[1], 'uncompressed: digest = diffID');
    const h = cfg.history!.at(-1)!;
    assert.is(h.author, 'me');
    assert.is(h.comment, 'edited index.html');
    assert.is(h.created_by, '/bin/sh');
    assert.is(h.empty_layer, undefined);
    assert.is(cfg.author, 'me');
    assert.equal(await tarNames(ctx.content, cfg.rootfs.diff_ids[1]!), ['etc/', 'etc/.wh.motd', 'www/', 'www/index.html']);
    assert.is((await ctx.images.get('mysite:1')).target.digest, r.manifest.digest);
    // A container of the new image sees the edit and not the deleted file.
    assert.is(await inImage(ctx, img, 'cat www/index.html; ls etc/motd 2>/dev/null || echo gone'), '<h1>edited</h1>\ngone\n');
  }));

  s('an empty diff adds no layer (empty_layer) and an untagged image', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, 'true');
    const r = await commit(ctx, id, ctx.base, { changes: ['ENV A=1'] });
    const img = await inspect(ctx, r);
    assert.equal(img.config.rootfs.diff_ids, ctx.base.config.rootfs.diff_ids);
    assert.is(img.config.history!.at(-1)!.empty_layer, true);
    assert.equal(img.config.config?.Env, ['PATH=/bin', 'A=1']);
    assert.ok((await ctx.images.listUntagged()).some((d) => d.digest === r.manifest.digest));
  }));

  s('reproducible with sourceDateEpoch: the same changes give the same digests', privileged(async (ctx) => {
    const a = await container(ctx, ctx.base, SEED);
    // Tar mtimes are whole seconds: b's files must be written in a later second than a's.
    const second = Math.floor(Date.now() / 1000);
    await eventually('the next whole second', () => Date.now() >= (second + 1) * 1000 + 10, 2000, 10);
    const b = await container(ctx, ctx.base, SEED);
    const ra = await commit(ctx, a, ctx.base, { sourceDateEpoch: 1700000000, message: 'm' });
    const rb = await commit(ctx, b, ctx.base, { sourceDateEpoch: 1700000000, message: 'm' });
    assert.is(ra.layer!.diffId, rb.layer!.diffId);
    assert.is(ra.id, rb.id);
    const rc = await commit(ctx, b, ctx.base, { message: 'm' });
    assert.is.not(rc.layer!.diffId, ra.layer!.diffId, 'without it, mtimes differ');
  }));

  s('commit of a committed image shares its layers exactly', privileged(async (ctx) => {
    const a = await container(ctx, ctx.base, SEED);
    const first = await inspect(ctx, await commit(ctx, a, ctx.base, { reference: 'one' }));
    const b = await container(ctx, first, 'echo more > www/more.html');
    const second = await inspect(ctx, await commit(ctx, b, first, { reference: 'two' }));
    assert.equal(second.manifest.layers.slice(0, 2), first.manifest.layers);
    assert.equal(second.config.rootfs.diff_ids.slice(0, 2), first.config.rootfs.diff_ids);
    assert.equal(await tarNames(ctx.content, second.config.rootfs.diff_ids[2]!), ['www/', 'www/more.html']);
    assert.is(await inImage(ctx, second, 'cat www/index.html www/more.html'), '<h1>edited</h1>\nmore\n');
  }));

  s('--squash folds everything into one layer; --exclude leaves paths out', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, `${SEED} && mkdir -p var/cache && echo x > var/cache/big && echo l > www/debug.log`);
    const sq = await inspect(ctx, await commit(ctx, id, ctx.base, { squash: true, exclude: ['/var/cache', '*.log', 'www/*.log'] }));
    assert.is(sq.config.rootfs.diff_ids.length, 1);
    assert.is(sq.config.history!.filter((h) => !h.empty_layer).length, 1);
    const names = await tarNames(ctx.content, sq.config.rootfs.diff_ids[0]!);
    assert.ok(names.includes('bin/busybox') && names.includes('www/index.html') && names.includes('opt/app/a'));
    assert.not.ok(names.some((n) => n.includes('motd') || n.includes('.wh.') || n.startsWith('var/cache/') || n.endsWith('.log')), names.join(' '));
    assert.is(await inImage(ctx, sq, 'cat www/index.html; ls etc/motd 2>/dev/null || echo gone'), '<h1>edited</h1>\ngone\n');
    const ex = await inspect(ctx, await commit(ctx, id, ctx.base, { exclude: ['/var/cache', 'www/*.log'] }));
    const exNames = await tarNames(ctx.content, ex.config.rootfs.diff_ids[1]!);
    assert.ok(exNames.includes('var/'), exNames.join(' '));
    assert.not.ok(exNames.some((n) => n.startsWith('var/cache') || n.endsWith('.log')), exNames.join(' '));
  }));

  s('an opaque directory and a deleted tree round-trip through a new container', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, 'rm -rf opt/app && mkdir opt/app && echo n > opt/app/new && rm -rf opt/app2 2>/dev/null; true');
    const img = await inspect(ctx, await commit(ctx, id, ctx.base));
    assert.is(await inImage(ctx, img, 'ls opt/app'), 'new\n');
  }));

  s('bad input is refused before any work', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, 'echo x > x');
    const before = await ctx.images.list();
    await rejects(() => commit(ctx, id, ctx.base, { changes: ['RUN make'] }), 'invalid_argument', /RUN is not a valid change command/);
    await rejects(() => commit(ctx, id, ctx.base, { changes: ['EXPOSE notaport'] }), 'invalid_argument');
    await rejects(() => commit(ctx, id, ctx.base, { changes: ['FROBNICATE x'] }), 'invalid_argument', /unknown instruction/);
    await rejects(() => commit(ctx, id, ctx.base, { reference: 'Bad:Name:x' }), 'invalid_argument');
    await rejects(() => commit(ctx, id, ctx.base, { exclude: [''] }), 'invalid_argument');
    assert.equal(await ctx.images.list(), before);
  }));

  s('a running container is frozen while its layer is read, and thawed after', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, 'echo x > x');
    const events: string[] = [];
    const r = await commitImage(ctx, {
      id, rootfs: await rootfsOf(ctx, id), image: ctx.base, config: ctx.base.config.config ?? {},
      freeze: async () => { events.push('freeze'); return async () => { events.push('thaw'); }; },
    }, {});
    assert.ok(r.layer);
    assert.equal(events, ['freeze', 'thaw']);
    events.length = 0;
    await commitImage(ctx, { id, rootfs: await rootfsOf(ctx, id), image: ctx.base, config: {}, freeze: async () => { events.push('freeze'); return async () => {}; } }, { pause: false });
    assert.equal(events, []);
  }));

  s('keepSnapshot: the container\'s snapshot becomes the layer\'s; the next container does not unpack the layer', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, SEED);
    const r = await commitImage(ctx, { id, rootfs: await rootfsOf(ctx, id), image: ctx.base, config: {}, keepSnapshot: true }, {});
    assert.ok(r.layer);
    assert.is(r.kept, true);
    const img = await inspect(ctx, r);
    const top = chainIds(img.config.rootfs.diff_ids).at(-1)!;
    assert.is((await ctx.snapshotter.stat(top)).kind, 'committed');
    await rejects(() => rootfsOf(ctx, id), 'not_found');
    const reads: string[] = [];
    const read = ctx.content.read.bind(ctx.content);
    ctx.content.read = (d, ...rest) => { reads.push(d); return read(d, ...rest); };
    assert.is(await inImage(ctx, img, 'cat www/index.html; test -e etc/motd || echo gone'), '<h1>edited</h1>\ngone\n');
    assert.equal(reads, [], 'no layer blob read');
  }));

  s('keepSnapshot: a layer whose snapshot exists keeps it; the container keeps its own', privileged(async (ctx) => {
    const id = await container(ctx, ctx.base, SEED);
    const first = await commit(ctx, id, ctx.base, { sourceDateEpoch: 1 });
    await ctx.unpacker.unpack(await inspect(ctx, first));
    const again = await commitImage(ctx, { id, rootfs: await rootfsOf(ctx, id), image: ctx.base, config: {}, keepSnapshot: true }, { sourceDateEpoch: 1 });
    assert.is(again.layer?.diffId, first.layer?.diffId);
    assert.is(again.kept, false);
    assert.ok(await rootfsOf(ctx, id));
  }));

  s.run();
}

commitSuite('overlay');
commitSuite('native');

// Keep the import used when not root.
void stat; void readFile;
