/**
 * The layer explorer's reading of layer tars (daemon/images/layers.ts): add vs modify against the
 * layers below, `.wh.NAME` deletes with the kind it had, an opaque directory is a modify whose old
 * children are gone (so re-adding one is an add), gzip layers read like plain ones, and each
 * layer's size is its unpacked size (a gzip layer's too).
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalContentStore } from '../daemon/content/local.js';
import { sized } from '../daemon/images/describe.js';
import { createLayerSizes } from '../daemon/images/layer-sizes.js';
import { layerFiles } from '../daemon/images/layers.js';
import type { LoadedImage } from '../daemon/images/resolve.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

type Entry = [name: string, body?: string];

async function layer(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  for (const [name, body] of entries) {
    if (name.endsWith('/')) p.entry({ name, type: 'directory', mode: 0o755 });
    else p.entry({ name, mode: 0o644 }, body ?? '');
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('per layer: add, modify, whiteouts and opaque directories, bottom up', async () => {
  const dir = await tmpdir('sbx-layers-');
  try {
    const content = await openLocalContentStore(join(dir, 'oci'), join(dir, 'ingest'));
    const tars = [
      await layer([['a/'], ['a/f', 'one'], ['b', 'bb'], ['c/'], ['c/x', 'x']]),
      await layer([['a/f', 'two!'], ['.wh.b'], ['c/'], ['c/.wh..wh..opq'], ['c/y', 'y'], ['d', 'dd']]),
      await layer([['.wh.c'], ['c2/'], ['c2/x', 'x']]),
    ];
    const blobs = [tars[0]!, gzipSync(tars[1]!), tars[2]!];
    const layers = [];
    for (const [i, b] of blobs.entries()) layers.push({ mediaType: `application/vnd.oci.image.layer.v1.tar${i === 1 ? '+gzip' : ''}`, ...(await content.write(b)) });
    const img = {
      manifest: { schemaVersion: 2, config: layers[0]!, layers },
      config: { history: [{ created_by: 'one' }, { created_by: 'meta', empty_layer: true }, { created_by: 'two' }, { created_by: 'three' }] },
    } as unknown as LoadedImage;
    const got = await layerFiles(content, await sized(createLayerSizes(join(dir, 'sizes'), content), img));
    const show = (i: number): string[] => got[i]!.changes.map((c) => `${c.op} ${c.path} ${c.kind}${c.size !== undefined ? ` ${c.size}` : ''}`);
    assert.equal(show(0), ['add /a dir', 'add /a/f file 3', 'add /b file 2', 'add /c dir', 'add /c/x file 1']);
    assert.equal(show(1), ['modify /a/f file 4', 'delete /b file', 'modify /c dir', 'add /c/y file 1', 'add /d file 2']);
    assert.equal(show(2), ['delete /c dir', 'add /c2 dir', 'add /c2/x file 1']);
    assert.equal(got.map((l) => l.createdBy), ['one', 'two', 'three'], 'empty_layer history entries skipped');
    assert.equal(got.map((l) => l.size), tars.map((t) => t.length), 'unpacked sizes');
    assert.ok(layers[1]!.size < tars[1]!.length, 'the gzip blob is smaller than its tar');
  } finally {
    await rmrf(dir);
  }
});

test.run();
