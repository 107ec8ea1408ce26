/** Startup recovery of the image store: what a crash left half-done is removed. */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestDaemon } from './_helpers/daemon.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

test('startup removes scratch trees, index temp files and half-written ingests', async () => {
  const root = await tmpdir('sbx-recover-');
  try {
    await mkdir(join(root, 'tmp', 'import-abc', 'etc'), { recursive: true });
    await mkdir(join(root, 'oci'), { recursive: true });
    await writeFile(join(root, 'oci', '.index.json.tmp-0123456789ab'), '{"half');
    await mkdir(join(root, 'ingest'), { recursive: true });
    await writeFile(join(root, 'ingest', 'write-deadbeef'), 'partial');
    const d = await startTestDaemon({ root });
    try {
      assert.equal(await readdir(join(root, 'tmp')), []);
      assert.equal(await readdir(join(root, 'ingest')), []);
      assert.not.ok((await readdir(join(root, 'oci'))).some((n) => n.includes('.tmp-')));
    } finally {
      await d.daemon.close();
    }
  } finally {
    await rmrf(root);
  }
});

test.run();
