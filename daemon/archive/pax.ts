/**
 * PAX extended attributes (SCHILY.xattr.NAME) as bytes. tar-stream decodes every PAX value as
 * UTF-8, which corrupts binary xattrs such as security.capability, so this module swaps in a
 * decoder that keeps SCHILY.xattr.* values as latin1 (one char per byte) and everything else as
 * UTF-8. Read xattrs only through xattrsOf().
 *
 * Writing (pack.ts): installBinaryPax() makes a tar-stream pack write PAX records from Buffers,
 * as Go's archive/tar does, for long or non-ASCII names and link targets, large ids and xattrs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type tar from 'tar-stream';
import type { Pack } from 'tar-stream';
import { SbxError } from '../../protocol/index.js';

const XATTR = 'SCHILY.xattr.';
const require = createRequire(import.meta.url);
const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as { decodePax: (b: Buffer) => Record<string, string> };

headers.decodePax = function decodePax(buf: Buffer): Record<string, string> {
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
};

/** The header's xattrs, name → raw value. */
export function xattrsOf(h: tar.Header): [string, Buffer][] {
  const pax = (h.pax ?? {}) as Record<string, string>;
  return Object.entries(pax).filter(([k]) => k.startsWith(XATTR)).map(([k, v]) => [k.slice(XATTR.length), Buffer.from(v, 'latin1')]);
}

/** A tar header as pack.ts builds it. */
export interface Header {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo' | 'pax-header';
  mode?: number; uid?: number; gid?: number; size?: number; mtime?: Date;
  linkname?: string | null; devmajor?: number; devminor?: number;
  pax?: Record<string, string>;
  /** Kept xattrs, written as PAX records by installBinaryPax. */
  xattrs?: [string, Buffer][];
}

// --- PAX ---------------------------------------------------------------------------------------
// tar-stream writes PAX records as UTF-8 strings, which would mangle binary xattr values such as
// security.capability. We keep tar-stream's framing and replace only how a PAX record set is
// built: from Buffers, with the same length-prefixed "LEN key=value\n" records Go writes.

const USTAR_ID_MAX = 0o777777;

function fitsUstar(s: string, max: number): boolean {
  return /^[\x20-\x7e]*$/.test(s) && s.length <= max;
}

export function preparePax(h: Header): void {
  const needs = !fitsUstar(h.name, 100) || (h.linkname != null && !fitsUstar(h.linkname, 100))
    || (h.xattrs?.length ?? 0) > 0 || (h.uid ?? 0) > USTAR_ID_MAX || (h.gid ?? 0) > USTAR_ID_MAX;
  if (needs) h.pax = {};
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


export function installBinaryPax(pack: Pack): void {
  const p = pack as unknown as { _encodePax(h: Header): void; push(b: Buffer): boolean };
  p._encodePax = function encodePax(this: typeof p, h: Header): void {
    const enc = headers as unknown as { encode(h: Header): Buffer | null };
    const records: Buffer[] = [];
    const dirSlash = h.type === 'directory' && !h.name.endsWith('/') ? '/' : '';
    if (!fitsUstar(h.name + dirSlash, 100)) records.push(record('path', Buffer.from(h.name + dirSlash)));
    if (h.linkname != null && !fitsUstar(h.linkname, 100)) records.push(record('linkpath', Buffer.from(h.linkname)));
    if ((h.uid ?? 0) > USTAR_ID_MAX) records.push(record('uid', Buffer.from(String(h.uid))));
    if ((h.gid ?? 0) > USTAR_ID_MAX) records.push(record('gid', Buffer.from(String(h.gid))));
    for (const [k, v] of h.xattrs ?? []) records.push(record(`SCHILY.xattr.${k}`, v));
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
  };
}
