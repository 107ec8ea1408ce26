/**
 * An image's size is its layers' unpacked size everywhere, as docker shows it: an image pushed to
 * the embedded registry (gzip layers there) and pulled back shows the same SIZE as the original in
 * `sbx images`, `image inspect`, `history`, `system df` and the Docker API (/images/json,
 * /images/NAME/json, /system/df) — for a small layer (checked while stored), a large one (its
 * diffID checked after the pull), and on a store that predates the size records.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFER_MIN } from '../daemon/images/local-transfer.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './_helpers/daemon.js';
import { raw } from './_helpers/docker-cli.js';
import { busyboxLayer, putImage, tarOf } from './_helpers/fixtures.js';
import { freePort } from './_helpers/peers.js';

interface Ctx { d: TestDaemon; reg: string }
const s = suite<Ctx>('image sizes: unpacked, however the layers travelled', {} as Ctx);
s.before.each(async (ctx) => {
  ctx.reg = `127.0.0.1:${await freePort()}`;
  ctx.d = await startTestDaemon({ registry: ctx.reg });
});
s.after.each(async (ctx) => { await ctx.d.close(); });

async function ok(d: TestDaemon, args: string[]): Promise<string> {
  const r = await sbx(d.root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** What each surface says the image's size is. */
async function sizes(d: TestDaemon, ref: string): Promise<{ table: string; inspect: number; history: number; api: number; apiInspect: number }> {
  const row = (await ok(d, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}'])).split('\n').find((l) => l.startsWith(`${ref} `));
  assert.ok(row, `sbx images lists ${ref}`);
  const inspect = JSON.parse(await ok(d, ['image', 'inspect', ref]))[0].Size as number;
  const history = (JSON.parse(`[${(await ok(d, ['history', '--format', 'json', '--human=false', ref])).trim().split('\n').join(',')}]`) as { Size: string }[])
    .reduce((n, h) => n + Number(h.Size), 0);
  const sock = d.daemon.services.config.socket;
  const list = JSON.parse((await raw(sock, 'GET', '/images/json')).text) as { RepoTags: string[]; Size: number }[];
  const api = list.find((i) => i.RepoTags.includes(ref))!.Size;
  const apiInspect = (JSON.parse((await raw(sock, 'GET', `/images/${ref}/json`)).text) as { Size: number }).Size;
  return { table: row.slice(ref.length + 1), inspect, history, api, apiInspect };
}

async function pushPullBack(d: TestDaemon, reg: string, name: string): Promise<string> {
  const remote = `${reg}/${name}`;
  await ok(d, ['tag', name, remote]);
  await ok(d, ['push', remote]);
  await ok(d, ['rmi', remote]);
  await ok(d, ['pull', remote]);
  return remote;
}

s('busybox pushed and pulled back: the same SIZE as the original, via the CLI and the Docker API', async ({ d, reg }) => {
  const sv = d.daemon.services;
  const layer = await busyboxLayer();
  await putImage(sv.content, sv.images, 'docker.io/library/box:1', [layer]);
  const original = await sizes(d, 'box:1');
  assert.is(original.inspect, layer.length, 'the size of the layer tar');
  const remote = await pushPullBack(d, reg, 'box:1');
  const manifest = JSON.parse((await sv.content.readBytes(JSON.parse(await ok(d, ['image', 'inspect', remote]))[0].Descriptor.digest)).toString());
  assert.match(manifest.layers[0].mediaType, /gzip/, 'the pulled layer is stored compressed');
  assert.ok(manifest.layers[0].size < layer.length / 1.3, `compressed ${manifest.layers[0].size} of ${layer.length}`);
  assert.equal(await sizes(d, remote), original);
  // system df: both images share one config but not their layer blobs; each layer counts unpacked
  const df = await ok(d, ['system', 'df', '--format', '{{.Type}} {{.Size}}']);
  assert.match(df, /^Images \S+/m);
  const apiDf = JSON.parse((await raw(sv.config.socket, 'GET', '/system/df')).text) as { LayersSize: number; Images: { Size: number }[] };
  assert.equal(apiDf.Images.map((i) => i.Size), [layer.length, layer.length]);
  assert.ok(apiDf.LayersSize >= 2 * layer.length, `LayersSize ${apiDf.LayersSize} counts both layers unpacked`);
});

s('a large layer (diffID checked after the pull) and a store older than the size records', async (ctx) => {
  const { d, reg } = ctx;
  const sv = d.daemon.services;
  // incompressible enough to stay above the size whose check is deferred, with zeros that shrink
  const big = await tarOf([{ name: 'noise', data: randomBytes(DEFER_MIN + (1 << 20)) }, { name: 'zeros', data: Buffer.alloc(8 << 20) }]);
  await putImage(sv.content, sv.images, 'docker.io/library/big:1', [big]);
  const original = await sizes(d, 'big:1');
  assert.is(original.inspect, big.length);
  const remote = await pushPullBack(d, reg, 'big:1');
  assert.equal(await sizes(d, remote), original, 'right after the pull, the check running or not');
  // a root from before the records: the size is computed once and kept
  const root = d.root;
  await d.daemon.close();
  await rm(join(root, 'layer-sizes'), { recursive: true, force: true });
  ctx.d = await startTestDaemon({ root, registry: reg });
  assert.equal(await sizes(ctx.d, remote), original, 'after a restart without records');
});

s.run();
