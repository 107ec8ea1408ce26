/**
 * Trust-but-verify for large pulled layers (daemon/images/layer-checks.ts): the pull ends once the
 * compressed bytes verify; a layer whose diffID lies is found in the background, its image removed
 * loudly, and nothing reads the layer before the check is done.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SbxError, type Digest } from '../protocol/index.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import type { ContentStore } from '../daemon/content/store.js';
import { DEFER_MIN } from '../daemon/images/local-transfer.js';
import { createLayerChecks, type LayerChecks } from '../daemon/images/layer-checks.js';
import { createLogger, type Logger } from '../daemon/util/log.js';
import { sbx } from './_helpers/cli.js';
import { startTestDaemon } from './_helpers/daemon.js';
import { startFakeRegistry, type FakeImage } from './_helpers/fake-registry.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { eventually } from './_helpers/wait.js';

const sha = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const GZ = 'application/vnd.oci.image.layer.v1.tar+gzip';

function captured(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('info', {}, (l) => lines.push(l)), lines };
}

interface Ctx { dir: string; content: ContentStore; checks?: LayerChecks; removed: Digest[]; lines: string[] }
const unit = suite<Ctx>('LayerChecks', {} as Ctx);
unit.before.each(async (ctx) => {
  ctx.dir = await tmpdir('sbx-checks-');
  ctx.content = await openLocalContentStore(join(ctx.dir, 'oci'), join(ctx.dir, 'ingest'));
  ctx.removed = [];
});
unit.after.each(async (ctx) => { await ctx.checks?.close(); await rmrf(ctx.dir); });

function open(ctx: Ctx): LayerChecks {
  const { log, lines } = captured();
  ctx.lines = lines;
  ctx.checks = createLayerChecks({ dir: join(ctx.dir, 'checks'), content: ctx.content, log, onFailed: async (d) => { ctx.removed.push(d); } });
  return ctx.checks;
}

const raw = randomBytes(3 << 20);
const gz = gzipSync(raw, { level: 1 });

unit('a layer that decompresses to its diffID: readers wait for the check, then read; the record goes', async (ctx) => {
  const checks = open(ctx);
  const info = await ctx.content.write(gz);
  await checks.defer({ mediaType: GZ, digest: info.digest, size: info.size }, sha(raw));
  const gated = checks.gate(ctx.content);
  const chunks: Buffer[] = [];
  for await (const c of await gated.read(info.digest)) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(gz));
  await checks.settled(info.digest);
  assert.equal(await readdir(join(ctx.dir, 'checks')), [], 'no record left once checked');
  assert.equal(ctx.removed, []);
});

unit('a layer whose diffID lies: every read fails naming both digests, the images go, the log says so', async (ctx) => {
  const checks = open(ctx);
  const info = await ctx.content.write(gz);
  const claimed = sha(Buffer.from('another layer'));
  await checks.defer({ mediaType: GZ, digest: info.digest, size: info.size }, claimed);
  const gated = checks.gate(ctx.content);
  for (const read of [() => gated.read(info.digest), () => gated.path(info.digest), () => checks.settled(info.digest)]) {
    await read().then(() => assert.unreachable('read of a layer that failed its check'), (e: unknown) => {
      assert.ok(e instanceof SbxError && e.code === 'digest_mismatch', String(e));
      assert.match((e as Error).message, `uncompressed content hashes to ${sha(raw)}, the image config says ${claimed}`);
    });
  }
  assert.ok(checks.failed(info.digest), 'a pull stores the layer again rather than reuse it');
  await eventually('images removed', () => ctx.removed.length > 0);
  assert.equal(ctx.removed, [info.digest]);
  assert.ok(ctx.lines.some((l) => /"level":"error".*failed its diffID check/.test(l)), ctx.lines.join('\n'));
});

unit('a check the daemon did not finish runs again at the next start (and still finds the lie)', async (ctx) => {
  const first = open(ctx);
  const info = await ctx.content.write(gz);
  const claimed = sha(Buffer.from('not it'));
  await first.defer({ mediaType: GZ, digest: info.digest, size: info.size }, claimed);
  await first.close();
  assert.equal((await readdir(join(ctx.dir, 'checks'))).length, 1, 'the record survives a stop');
  const again = open(ctx);
  await again.recover();
  await again.settled(info.digest).then(() => assert.unreachable('the lie is found after a restart'), (e: Error) => assert.match(e.message, /the image config says/));
  await eventually('images removed', () => ctx.removed.length > 0);
});

unit.run();

// ---

/** A one-layer image of `raw` (gzip level 1) whose config claims `diffId`. */
function lyingImage(rawLayer: Buffer, diffId: Digest): FakeImage {
  const layer = gzipSync(rawLayer, { level: 1 });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(layer), size: layer.length }],
  }));
  return { manifest, manifestDigest: sha(manifest), config, layer, layerDigest: sha(layer), diffId };
}

const pull = suite('sbx pull of a large layer whose diffID lies');

pull('the pull ends when the bytes verify; then the image is removed loudly and cannot be saved', async () => {
  const { log, lines } = captured();
  const d = await startTestDaemon({}, log);
  const big = randomBytes(DEFER_MIN + (1 << 20));
  const fake = await startFakeRegistry({}, lyingImage(big, sha(Buffer.from('a different layer'))));
  try {
    assert.ok(fake.image.layer.length >= DEFER_MIN, 'large enough to be checked after the pull');
    const r = await sbx(d.root, ['pull', `${fake.host}/me/big:1`]);
    assert.is(r.code, 0, r.stderr);
    const saved = await sbx(d.root, ['save', '-o', join(d.root, 'out.tar'), `${fake.host}/me/big:1`]);
    assert.is.not(saved.code, 0, 'save never writes a layer that failed its check');
    assert.match(saved.stderr, /uncompressed content hashes to|no such image/i, saved.stderr);
    await eventually('image removed', async () => (await d.daemon.services.images.list()).length === 0, 30_000);
    assert.ok(lines.some((l) => /"level":"error".*failed its diffID check/.test(l) && l.includes(fake.image.layerDigest)), 'the daemon log names the layer');
    await eventually('blob collected', async () => !(await d.daemon.services.content.has(fake.image.layerDigest as Digest)), 30_000);
    const images = await sbx(d.root, ['images', '-q']);
    assert.is(images.stdout, '');
  } finally {
    await fake.close();
    await d.close();
  }
});

pull('a large layer that tells the truth: pulled, checked after, saved whole', async () => {
  const d = await startTestDaemon();
  const big = randomBytes(DEFER_MIN + (1 << 20));
  const fake = await startFakeRegistry({}, lyingImage(big, sha(big)));
  try {
    const r = await sbx(d.root, ['pull', `${fake.host}/me/big:1`]);
    assert.is(r.code, 0, r.stderr);
    const saved = await sbx(d.root, ['save', '-o', join(d.root, 'out.tar'), `${fake.host}/me/big:1`]);
    assert.is(saved.code, 0, saved.stderr);
    await d.daemon.services.layerChecks.settled(fake.image.layerDigest as Digest);
    assert.equal(await readdir(join(d.root, 'checks')), []);
    assert.is((await d.daemon.services.images.list()).length, 1);
  } finally {
    await fake.close();
    await d.close();
  }
});

pull.run();
