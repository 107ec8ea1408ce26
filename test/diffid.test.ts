/** The diffID of a gzip layer computed while the layer is stored: on the daemon's thread and on a worker. */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WORKER_MIN, diffIdHasher } from '../daemon/images/diffid.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Runs `data` through the hasher in 1 MiB pieces; returns what came out the other side. */
async function through(data: Buffer, size: number): Promise<{ out: Buffer; result: Promise<string> }> {
  const h = diffIdHasher(size);
  const parts: Buffer[] = [];
  const pieces = function* () { for (let i = 0; i < data.length; i += 1 << 20) yield data.subarray(i, i + (1 << 20)); };
  await pipeline(Readable.from(pieces()), h.through, new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } }));
  return { out: Buffer.concat(parts), result: h.result() };
}

const s = suite('diffID while storing');

// Several gzip members (as sbx pushes), stored and deflated: the diffID is over all of them.
const tar = Buffer.concat([randomBytes(5 << 20), Buffer.from('line of text\n'.repeat(400_000)), randomBytes(4 << 20)]);
const members = Buffer.concat([gzipSync(tar.subarray(0, 4 << 20), { level: 0 }), gzipSync(tar.subarray(4 << 20, 8 << 20)), gzipSync(tar.subarray(8 << 20))]);

for (const [where, size] of [['daemon thread', 1024], ['worker thread', WORKER_MIN]] as const) {
  s(`${where}: multi-member gzip hashes to the tar's digest; bytes pass unchanged`, async () => {
    const { out, result } = await through(members, size);
    assert.ok(out.equals(members));
    assert.is(await result, sha(tar));
  });

  s(`${where}: bytes that are not gzip reject the result, yet still pass to the store`, async () => {
    const junk = randomBytes(3 << 20);
    const { out, result } = await through(junk, size);
    assert.ok(out.equals(junk));
    await result.then(() => assert.unreachable('not gzip'), (e: Error) => assert.ok(e instanceof Error));
  });
}

s('worker thread: a copy stopped midway ends the worker (the process can exit)', async () => {
  const h = diffIdHasher(WORKER_MIN);
  const src = new Readable({ read() {} });
  const done = pipeline(src, h.through, new Writable({ write(_c, _e, cb) { cb(); } }));
  src.push(members.subarray(0, 1 << 20));
  src.destroy(new Error('connection reset'));
  await done.then(() => assert.unreachable('stopped'), (e: Error) => assert.match(e.message, /connection reset/));
  await h.result().then(() => assert.unreachable('no digest for half a layer'), () => {});
});

s.run();
