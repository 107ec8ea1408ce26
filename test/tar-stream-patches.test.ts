/**
 * The tar-stream patches (daemon/archive/tar-stream-patches.ts) are pinned to one tar-stream
 * version and still take effect: binary xattrs, long non-ASCII paths and large ids round-trip.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Header as TarHeader } from 'tar-stream';
import { preparePax, xattrsOf, type Header } from '../daemon/archive/pax.js';
import { TAR_STREAM_VERSION, binaryPaxPack, extractor } from '../daemon/archive/tar-stream-patches.js';

const require = createRequire(import.meta.url);
const s = suite('archive: tar-stream patches');

/** Every byte value, as a security.capability blob may hold. */
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const LONG = `${'dïr/'.repeat(40)}fïlé-${'x'.repeat(120)}`;

async function packed(h: Header): Promise<Buffer> {
  const pack = binaryPaxPack();
  preparePax(h);
  if (h.type === 'file') pack.entry(h as TarHeader, Buffer.from('body'));
  else pack.entry(h as TarHeader);
  pack.finalize();
  const out: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

async function unpacked(tarBytes: Buffer): Promise<TarHeader[]> {
  const ex = extractor();
  const headers: TarHeader[] = [];
  ex.on('entry', (h, stream, next) => { headers.push(h); stream.on('end', next); stream.resume(); });
  const done = new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject); });
  ex.end(tarBytes);
  await done;
  return headers;
}

s('tar-stream is the version the patches were written for', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  const installed = (JSON.parse(readFileSync(join(dirname(require.resolve('tar-stream')), 'package.json'), 'utf8')) as { version: string }).version;
  const hint = 'tar-stream changed version: re-check daemon/archive/tar-stream-patches.ts against its headers.js/pack.js, then update TAR_STREAM_VERSION';
  assert.is(pkg.dependencies['tar-stream'], TAR_STREAM_VERSION, `package.json pins ${pkg.dependencies['tar-stream']}; ${hint}`);
  assert.is(installed, TAR_STREAM_VERSION, `node_modules has ${installed}; ${hint}`);
});

s('encode: binary xattr values are written byte for byte (as Go writes them)', async () => {
  const bytes = await packed({ name: 'bin/ping', type: 'file', mode: 0o755, size: 4, xattrs: [['security.capability', BINARY]] });
  const rec = Buffer.concat([Buffer.from(' SCHILY.xattr.security.capability='), BINARY, Buffer.from('\n')]);
  assert.ok(bytes.includes(rec), 'the PAX record holds the raw bytes, not their UTF-8 re-encoding');
});

s('decode: binary xattrs, a long non-ASCII path and large ids round-trip', async () => {
  const uid = 0o777777 + 12345;
  const [h] = await unpacked(await packed({ name: LONG, type: 'file', mode: 0o644, size: 4, uid, gid: uid + 1, xattrs: [['security.capability', BINARY], ['user.note', Buffer.from('ünï')]] }));
  assert.is(h.name, LONG);
  // tar-stream's reader takes path/linkpath from PAX but not ids: the records are there for GNU tar and Go.
  const pax = (h.pax ?? {}) as Record<string, string>;
  assert.is(pax.uid, String(uid));
  assert.is(pax.gid, String(uid + 1));
  const x = new Map(xattrsOf(h));
  assert.ok(x.get('security.capability')?.equals(BINARY), 'binary xattr survives the decoder');
  assert.is(x.get('user.note')?.toString('utf8'), 'ünï');
});

s('a long symlink target goes through PAX linkpath', async () => {
  const target = `/${'t'.repeat(150)}/ü`;
  const [h] = await unpacked(await packed({ name: 'l', type: 'symlink', linkname: target, mode: 0o777, size: 0 }));
  assert.is(h.linkname, target);
});

s.run();
