/** The diffID of a gzip layer computed while the layer is stored (small layers; large ones: layer-checks.test.ts). */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Digest } from '../protocol/index.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import { diffIdHasher } from '../daemon/images/diffid.js';
import { localDestination } from '../daemon/images/local-transfer.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Feeds `data` to the hasher in 1 MiB pieces of their own (as the store hands them on). */
async function feed(data: Buffer): Promise<string> {
  const h = diffIdHasher();
  for (let i = 0; i < data.length; i += 1 << 20) await h.feed(Buffer.from(data.subarray(i, i + (1 << 20))));
  h.end();
  return h.result();
}

const s = suite('diffID while storing');

// Several gzip members (as sbx pushes), stored and deflated: the diffID is over all of them.
const tar = Buffer.concat([randomBytes(5 << 20), Buffer.from('line of text\n'.repeat(400_000)), randomBytes(4 << 20)]);
const members = Buffer.concat([gzipSync(tar.subarray(0, 4 << 20), { level: 0 }), gzipSync(tar.subarray(4 << 20, 8 << 20)), gzipSync(tar.subarray(8 << 20))]);

s('multi-member gzip hashes to the tar\'s digest', async () => {
  assert.is(await feed(members), sha(tar));
});

s('bytes that are not gzip reject the result (and feeding them does not hang)', async () => {
  await feed(randomBytes(20 << 20)).then(() => assert.unreachable('not gzip'), (e: Error) => assert.ok(e instanceof Error));
});

s('a copy stopped midway gives no digest and ends the work (the process can exit)', async () => {
  const h = diffIdHasher();
  await h.feed(Buffer.from(members.subarray(0, 1 << 20)));
  h.abort();
  await h.result().then(() => assert.unreachable('no digest for part of a layer'), () => {});
});

s('localDestination: a pulled gzip layer whose config lists another diffID stores no image', async () => {
  const root = await tmpdir('sbx-diffid-');
  try {
    const content = await openLocalContentStore(join(root, 'oci'), join(root, 'ingest'));
    const dst = localDestination({ content, images: undefined as never }, undefined);
    const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(members) as Digest, size: members.length };
    const open = async (): Promise<Readable> => Readable.from([members.subarray(0, 3 << 20), members.subarray(3 << 20)]);
    await dst.put(desc, open, { diffId: sha(tar) as Digest });
    assert.ok(await content.has(desc.digest), 'the right diffID: stored');
    await content.delete(desc.digest);
    await dst.put(desc, open, { diffId: sha(Buffer.from('another layer')) as Digest })
      .then(() => assert.unreachable('wrong diffID'), (e: Error) => assert.match(e.message, /uncompressed content hashes to sha256:[0-9a-f]{64}, the image config says/));
  } finally { await rmrf(root); }
});

s.run();
