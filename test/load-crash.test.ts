/**
 * Kill a real sbxd (SIGKILL) in the middle of a load, restart it, and show the store is as it
 * was: same images, an index.json that names only blobs that exist and verify, no leftovers in
 * the ingest and scratch areas; the same archive then loads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Client } from '../cli/client.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import { reachableFromImages } from '../daemon/images/gc.js';
import { openImageStore } from '../daemon/images/store.js';
import { Images, System } from '../protocol/index.js';
import { sbx } from './_helpers/cli.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';

const SBXD = join(dirname(fileURLToPath(import.meta.url)), '..', 'daemon', 'main.js');

interface Ctx { root: string; tmp: string; proc?: ChildProcess }

async function startSbxd(root: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [SBXD], { env: { ...process.env, SBX_ROOT: root, SBX_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const client = new Client({ root });
  const deadline = Date.now() + 15000;
  for (;;) {
    try { await client.call(System.version); return proc; } catch { /* not yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('sbxd did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ok(root: string, args: string[]): Promise<string> {
  const r = await sbx(root, args);
  assert.is(r.code, 0, `sbx ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const t = suite<Ctx>('load: crash consistency', {} as Ctx);
t.before.each(async (ctx) => { ctx.root = await tmpdir('sbx-crash-'); ctx.tmp = await tmpdir('sbx-crash-tmp-'); });
t.after.each(async (ctx) => {
  ctx.proc?.kill('SIGKILL');
  await rmrf(ctx.root);
  await rmrf(ctx.tmp);
});

t('SIGKILL in the middle of a load leaves the store consistent', async (ctx) => {
  const { root, tmp } = ctx;
  ctx.proc = await startSbxd(root);
  await ok(root, ['import', '--busybox', 'busybox']);
  const big = join(tmp, 'bigroot');
  await mkdir(big);
  await writeFile(join(big, 'blob.bin'), randomBytes(32 * 1024 * 1024));
  await writeFile(join(big, 'small'), 'x');
  await ok(root, ['import', big, 'big']);
  const archive = join(tmp, 'big.tar');
  await ok(root, ['save', '-o', archive, 'big']);
  await ok(root, ['rmi', 'big']);
  const before = { images: await ok(root, ['images', '-q', '--no-trunc']), index: await readFile(join(root, 'oci', 'index.json'), 'utf8') };

  // Stream the archive slowly and kill sbxd when half of it has been sent.
  const bytes = await readFile(archive);
  const half = Math.floor(bytes.length / 2);
  const proc = ctx.proc;
  const body = Readable.from((async function* () {
    for (let off = 0; off < bytes.length; off += 1 << 20) {
      if (off >= half && proc.exitCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
      yield bytes.subarray(off, off + (1 << 20));
      await new Promise((r) => setTimeout(r, 5));
    }
  })());
  const client = new Client({ root });
  let failed = false;
  await client.upload(Images.load, {}, body).catch(() => { failed = true; });
  assert.ok(failed, 'the interrupted load reports a failure');
  assert.ok((await readdir(join(root, 'ingest'))).length > 0, 'the kill left a half-written blob behind');

  ctx.proc = await startSbxd(root);
  assert.is(await ok(root, ['images', '-q', '--no-trunc']), before.images);
  assert.is(await readFile(join(root, 'oci', 'index.json'), 'utf8'), before.index);
  assert.equal(await readdir(join(root, 'ingest')), [], 'half-written ingest files removed at startup');
  assert.equal(await readdir(join(root, 'tmp')).catch(() => []), [], 'scratch space emptied at startup');
  // Every blob the index reaches is there and verifies.
  const layout = join(root, 'oci');
  const content = await openLocalContentStore(layout, join(tmp, 'ingest-check'));
  for (const d of await reachableFromImages(content, await openImageStore(layout))) {
    assert.ok((await stat(join(layout, 'blobs', 'sha256', d.slice(7)))).isFile(), d);
    await content.readBytes(d); // throws digest_mismatch on a damaged blob
  }
  assert.match(await ok(root, ['load', '-i', archive]), /Loaded image: big:latest/);
  assert.match(await ok(root, ['images']), /big\s+latest/);
});

t.run();
