/**
 * Every change sbx makes to tar-stream's private internals, in one place, applied explicitly.
 *
 * tar-stream (pinned in package.json; test/tar-stream-patches.test.ts fails when the version moves)
 * decodes and encodes PAX records as UTF-8 strings, which corrupts binary xattr values such as
 * security.capability. Two patches keep bytes intact:
 *
 * - decode: headers.decodePax (module-wide) keeps SCHILY.xattr.* values as latin1 (one char per
 *   byte) and every other key as UTF-8. Read xattrs only through pax.ts xattrsOf().
 * - encode: a pack from binaryPaxPack() overrides its own _encodePax to write PAX records from
 *   Buffers, as Go's archive/tar does, for long or non-ASCII names and link targets, ids past
 *   ustar's 0o777777 and xattrs. Packs made with tar.pack() directly are untouched.
 *
 * patchTarStream() is idempotent; the daemon calls it at start-up, and extractor() and
 * binaryPaxPack() call it on first use so library callers (tests, tools) get the same bytes.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import tar, { type Extract, type Pack } from 'tar-stream';
import { SbxError } from '../../protocol/index.js';
import { fitsUstar, USTAR_ID_MAX, XATTR, type Header } from './pax.js';

/** The tar-stream version these patches were written against (package.json pins the same). */
export const TAR_STREAM_VERSION = '3.2.2';

interface Headers {
  decodePax(b: Buffer): Record<string, string>;
  encode(h: Header): Buffer | null;
}
interface PackInternals { _encodePax(h: Header): void; push(b: Buffer): boolean }

const require = createRequire(import.meta.url);
let headers: Headers | undefined;

/** Install the module-wide decode patch (once). @throws internal when tar-stream's internals moved. */
export function patchTarStream(): void {
  if (headers) return;
  const h = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as Headers;
  if (typeof h.decodePax !== 'function' || typeof h.encode !== 'function') {
    throw new SbxError('internal', `tar-stream internals changed (headers.decodePax/encode missing); archive/tar-stream-patches.ts targets ${TAR_STREAM_VERSION}`);
  }
  h.decodePax = decodePax;
  headers = h;
}

/** tar.extract() with the decode patch in place. */
export function extractor(): Extract {
  patchTarStream();
  return tar.extract();
}

/** tar.pack() whose PAX records are written from Buffers (see the module comment). */
export function binaryPaxPack(): Pack {
  patchTarStream();
  const pack = tar.pack();
  const p = pack as unknown as PackInternals;
  if (typeof p._encodePax !== 'function') {
    throw new SbxError('internal', `tar-stream internals changed (Pack#_encodePax missing); archive/tar-stream-patches.ts targets ${TAR_STREAM_VERSION}`);
  }
  p._encodePax = encodePax;
  return pack;
}

function decodePax(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.subarray(0, i).toString(), 10);
    if (!len || len > buf.length) return result;
    const record = buf.subarray(i + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) return result;
    const key = record.subarray(0, eq).toString('utf8');
    result[key] = record.subarray(eq + 1).toString(key.startsWith(XATTR) ? 'latin1' : 'utf8');
    buf = buf.subarray(len);
  }
  return result;
}

// tar-stream's framing is kept; only how a PAX record set is built changes: from Buffers, with the
// same length-prefixed "LEN key=value\n" records Go writes.
function encodePax(this: PackInternals, h: Header): void {
  const enc = headers as Headers;
  const records: Buffer[] = [];
  const dirSlash = h.type === 'directory' && !h.name.endsWith('/') ? '/' : '';
  if (!fitsUstar(h.name + dirSlash, 100)) records.push(record('path', Buffer.from(h.name + dirSlash)));
  if (h.linkname != null && !fitsUstar(h.linkname, 100)) records.push(record('linkpath', Buffer.from(h.linkname)));
  if ((h.uid ?? 0) > USTAR_ID_MAX) records.push(record('uid', Buffer.from(String(h.uid))));
  if ((h.gid ?? 0) > USTAR_ID_MAX) records.push(record('gid', Buffer.from(String(h.gid))));
  for (const [k, v] of h.xattrs ?? []) records.push(record(`${XATTR}${k}`, v));
  const data = Buffer.concat(records);
  const shortName = ustarSafe(h.name, 99);
  const paxHeader = enc.encode({
    name: ustarSafe(`PaxHeaders.0/${shortName.split('/').filter(Boolean).pop() ?? 'x'}`, 100),
    mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: h.mtime ?? new Date(0), type: 'pax-header',
  });
  const main = enc.encode({
    ...h, name: shortName,
    linkname: h.linkname == null ? h.linkname : ustarSafe(h.linkname, 100),
    uid: Math.min(h.uid ?? 0, USTAR_ID_MAX), gid: Math.min(h.gid ?? 0, USTAR_ID_MAX),
  });
  if (!paxHeader || !main) throw new SbxError('internal', `pack: cannot encode header for ${h.name}`);
  this.push(paxHeader);
  this.push(data);
  const pad = data.length % 512;
  if (pad) this.push(Buffer.alloc(512 - pad));
  this.push(main);
}

function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustarSafe(s: string, max: number): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}
