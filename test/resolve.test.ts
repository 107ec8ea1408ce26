import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MediaType, type Descriptor, type ImageConfig } from '../protocol/index.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import { resolveImage, type ImageStores } from '../daemon/images/resolve.js';
import { openImageStore } from '../daemon/images/store.js';
import { writeImage } from '../daemon/images/write.js';
import { rejects } from './_helpers/assert.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

interface Ctx { dir: string; s: ImageStores }

function config(extra: Partial<ImageConfig> = {}): ImageConfig {
  return { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'] }, ...extra };
}

async function image(s: ImageStores, cfg: ImageConfig, name?: string): Promise<{ manifest: Descriptor; id: string }> {
  const { manifest, configDigest } = await writeImage(s.content, [], cfg);
  if (name) await s.images.put(name, manifest);
  return { manifest, id: configDigest };
}

const t = suite<Ctx>('images: resolve', {} as Ctx);
t.before.each(async (ctx) => {
  ctx.dir = await tmpdir('sbx-resolve-');
  const layout = join(ctx.dir, 'oci');
  ctx.s = { content: await openLocalContentStore(layout, join(ctx.dir, 'ingest')), images: await openImageStore(layout) };
});
t.after.each(async (ctx) => { await rmrf(ctx.dir); });

t('a tag resolves to its manifest and config, with the normalised name', async ({ s }) => {
  const { manifest, id } = await image(s, config(), 'busybox');
  const r = await resolveImage(s, 'busybox');
  assert.is(r.name, 'docker.io/library/busybox:latest');
  assert.is(r.descriptor.digest, manifest.digest);
  assert.is(r.configDigest, id);
  assert.equal(r.config.config?.Cmd, ['sh']);
  assert.is((await resolveImage(s, 'docker.io/library/busybox:latest')).configDigest, id);
});

t('full IDs, short IDs and name@digest resolve like docker', async ({ s }) => {
  const { manifest, id } = await image(s, config(), 'app:1');
  const hex = id.slice(7);
  for (const input of [id, hex, hex.slice(0, 12), hex.slice(0, 4), manifest.digest, `app@${manifest.digest}`]) {
    const r = await resolveImage(s, input);
    assert.is(r.configDigest, id, input);
    assert.is(r.name, undefined, input);
  }
});

t('unknown images: "image foo: no such image"', async ({ s }) => {
  await image(s, config(), 'app:1');
  await rejects(() => resolveImage(s, 'foo'), 'not_found', /^image foo: no such image$/);
  await rejects(() => resolveImage(s, 'app:2'), 'not_found', /^image app:2: no such image$/);
  await rejects(() => resolveImage(s, 'abcdef012345'), 'not_found', /no such image/);
  await rejects(() => resolveImage(s, `app@sha256:${'0'.repeat(64)}`), 'not_found');
  await rejects(() => resolveImage(s, 'UPPER:case'), 'invalid_argument', /invalid reference format/);
});

t('an ambiguous short ID prefix is an error naming the candidates', async ({ s }) => {
  // Find two configs whose digests share their first 4 hex digits, then store both.
  const seen = new Map<string, number>();
  let pair: [number, number] | undefined;
  for (let i = 0; !pair; i++) {
    const p = createHash('sha256').update(JSON.stringify(config({ author: `a${i}` }))).digest('hex').slice(0, 4);
    const j = seen.get(p);
    if (j !== undefined) pair = [j, i]; else seen.set(p, i);
  }
  const a = await image(s, config({ author: `a${pair[0]}` }), 'one');
  const b = await image(s, config({ author: `a${pair[1]}` }), 'two');
  await rejects(() => resolveImage(s, a.id.slice(7, 11)), 'invalid_argument', /ambiguous/);
  assert.is((await resolveImage(s, a.id.slice(7, 20))).configDigest, a.id);
  assert.is((await resolveImage(s, b.id.slice(7, 20))).configDigest, b.id);
});

t('a tag on an index resolves to the host platform manifest', async ({ s }) => {
  const arm = await image(s, config({ architecture: 'arm64' }));
  const amd = await image(s, config({ architecture: 'amd64' }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociIndex,
    manifests: [{ ...arm.manifest, platform: { os: 'linux', architecture: 'arm64' } }, { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } }],
  }));
  const info = await s.content.write(index);
  await s.images.put('multi', { mediaType: MediaType.ociIndex, digest: info.digest, size: info.size });
  const r = await resolveImage(s, 'multi', { os: 'linux', architecture: 'amd64' });
  assert.is(r.configDigest, amd.id);
  assert.is(r.target.digest, info.digest);
  await rejects(() => resolveImage(s, 'multi', { os: 'linux', architecture: 's390x' }), 'not_found', /no manifest for linux\/s390x/);
});

t('a corrupted config blob is reported, not trusted', async ({ dir, s }) => {
  const { id } = await image(s, config(), 'bad');
  await writeFile(join(dir, 'oci', 'blobs', 'sha256', id.slice(7)), '{"tampered":true}');
  await rejects(() => resolveImage(s, 'bad'), 'digest_mismatch');
});

t('moving a tag leaves the old image dangling, still resolvable by ID', async ({ s }) => {
  const old = await image(s, config({ author: 'old' }), 'x');
  await image(s, config({ author: 'new' }), 'x');
  assert.equal((await s.images.listUntagged()).map((d) => d.digest), [old.manifest.digest]);
  assert.is((await resolveImage(s, old.id.slice(7, 19))).configDigest, old.id);
  await s.images.put('y', old.manifest);
  assert.equal(await s.images.listUntagged(), [], 'tagging it again makes it not dangling');
});

t.run();
