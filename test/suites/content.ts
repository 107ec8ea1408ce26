/** Conformance suite for any ContentStore implementation. */
import { readdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContentStore } from '../../daemon/content/store.js';
import { sha256 } from '../../daemon/content/verify.js';
import { rejects } from '../_helpers/assert.js';
import { readAll } from '../../cli/client.js';
import { rmrf, tmpdir } from '../_helpers/tmp.js';

interface Ctx { root: string; store: ContentStore }

export function contentSuite(name: string, open: (root: string) => Promise<ContentStore>): void {
  const s = suite<Ctx>(`content:${name}`, {} as Ctx);
  s.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-content-'); ctx.store = await open(ctx.root); });
  s.after.each(async (ctx) => { await rmrf(ctx.root); });

  s('write then read returns the same bytes, verified', async ({ store }) => {
    const data = Buffer.from('hello sbx');
    const info = await store.write(data, { digest: sha256(data), size: data.length });
    assert.is(info.digest, sha256(data));
    assert.is(info.size, data.length);
    assert.ok(await store.has(info.digest));
    assert.equal(await readAll(await store.read(info.digest)), data);
    assert.equal(await store.readBytes(info.digest), data);
  });

  s('write from a stream hashes while writing', async ({ store }) => {
    const chunks = [Buffer.from('a'.repeat(70000)), Buffer.from('b'.repeat(5))];
    const info = await store.write(Readable.from(chunks));
    assert.is(info.digest, sha256(Buffer.concat(chunks)));
  });

  s('a digest mismatch stores nothing', async ({ store }) => {
    const wrong = sha256('something else');
    await rejects(() => store.write(Buffer.from('data'), { digest: wrong }), 'digest_mismatch');
    assert.not.ok(await store.has(wrong));
    assert.not.ok(await store.has(sha256('data')));
    const left: string[] = [];
    for await (const b of store.list()) left.push(b.digest);
    assert.equal(left, []);
  });

  s('a size mismatch stores nothing', async ({ store }) => {
    await rejects(() => store.write(Buffer.from('data'), { size: 3 }), 'digest_mismatch');
    assert.not.ok(await store.has(sha256('data')));
  });

  s('put is idempotent and delete is idempotent', async ({ store }) => {
    const a = await store.write(Buffer.from('x'));
    const b = await store.write(Buffer.from('x'));
    assert.equal(a, b);
    await store.delete(a.digest);
    await store.delete(a.digest);
    assert.not.ok(await store.has(a.digest));
    await rejects(() => store.info(a.digest), 'not_found');
  });

  s('reading a missing blob is not_found; a malformed digest is invalid_argument', async ({ store }) => {
    await rejects(() => store.read(sha256('nope')), 'not_found');
    await rejects(() => store.info('sha256:xyz' as never), 'invalid_argument');
  });

  s('corruption on disk is caught on read', async ({ store }) => {
    const info = await store.write(Buffer.from('precious'));
    await writeFile(await store.path(info.digest), 'tampered');
    await rejects(() => store.readBytes(info.digest), 'digest_mismatch');
    await rejects(async () => readAll(await store.read(info.digest)), 'digest_mismatch');
  });

  s('ingest appends in chunks and commits once verified', async ({ store }) => {
    const ing = await store.ingest('upload-1');
    await ing.append(Buffer.from('abc'));
    assert.is(await ing.append(Buffer.from('def')), 6);
    const info = await ing.commit({ digest: sha256('abcdef') });
    assert.is(info.size, 6);
    assert.ok(await store.has(sha256('abcdef')));
  });

  s('an aborted ingest leaves nothing behind', async ({ store, root }) => {
    const ing = await store.ingest('upload-2');
    await ing.append(Buffer.from('partial'));
    await ing.abort();
    const blobs: string[] = [];
    for await (const b of store.list()) blobs.push(b.digest);
    assert.equal(blobs, []);
    void root;
  });

  s('list shows every committed blob once', async ({ store }) => {
    await store.write(Buffer.from('1'));
    await store.write(Buffer.from('2'));
    await store.write(Buffer.from('1'));
    const seen: string[] = [];
    for await (const b of store.list()) seen.push(b.digest);
    assert.equal(seen.sort(), [sha256('1'), sha256('2')].sort());
  });

  s.run();
}

export async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir)).length;
}
