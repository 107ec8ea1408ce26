/**
 * A bug inside sbxd reaches an API client as a generic `internal` error with a log reference;
 * the full text (which names host paths) is only in the daemon log, under the same reference.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../daemon/util/log.js';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { Build, Images, type BuildEvent } from '../protocol/index.js';
import { rejects } from './_helpers/assert.js';
import { startTestDaemon } from './_helpers/daemon.js';

test('an internal error hides host paths from the client and logs them with a reference', async () => {
  const lines: string[] = [];
  const d = await startTestDaemon({}, createLogger('info', {}, (l) => lines.push(l)));
  try {
    // A damaged image index: the store reports it as internal, naming the file's path.
    const index = join(d.root, 'oci', 'index.json');
    await writeFile(index, JSON.stringify({ schemaVersion: 2, manifests: 5 }));
    const e = await rejects(() => d.client.call(Images.list, {}), 'internal', /internal error \(see sbxd log, ref [0-9a-f]{8}\)/);
    assert.not.match(e.message, d.root, `the client saw a host path: ${e.message}`);
    assert.not.match(e.message, 'manifests', `the client saw the internal message: ${e.message}`);
    const ref = /ref ([0-9a-f]{8})/.exec(e.message)![1]!;
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.ref === ref);
    assert.ok(logged, `no log line with ref ${ref} in:\n${lines.join('\n')}`);
    assert.is(logged.level, 'error');
    assert.match(String(logged.error), `read ${index}: "manifests" is not an array`);
  } finally {
    await d.close();
  }
});

test('a streamed answer (build) hides an internal error the same way, in its event and its end', async () => {
  const lines: string[] = [];
  const d = await startTestDaemon({}, createLogger('info', {}, (l) => lines.push(l)));
  try {
    await writeFile(join(d.root, 'oci', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: 5 }));
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile' }, 'FROM busybox\nCMD ["sh"]\n');
    pack.finalize();
    const events: BuildEvent[] = [];
    const e = await rejects(() => d.client.upload(Build.build, { tags: ['x'] }, pack as unknown as Readable, (ev) => {
      if (ev.type === 'build' && ev.event) events.push(ev.event as BuildEvent);
    }), 'internal', /internal error \(see sbxd log, ref [0-9a-f]{8}\)/);
    assert.not.match(e.message, d.root, `the client saw a host path: ${e.message}`);
    const shown = events.filter((ev) => ev.kind === 'error').map((ev) => (ev as { message: string }).message);
    assert.equal(shown, [e.message], 'the error event and the final error are the same hidden text');
    const ref = /ref ([0-9a-f]{8})/.exec(e.message)![1]!;
    assert.is(lines.filter((l) => (JSON.parse(l) as { ref?: string }).ref === ref).length, 1, 'logged once, under that ref');
  } finally {
    await d.close();
  }
});

test.run();
