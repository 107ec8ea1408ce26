/**
 * PAX extended attributes (SCHILY.xattr.NAME) as bytes. tar-stream decodes every PAX value as
 * UTF-8, which corrupts binary xattrs such as security.capability, so this module swaps in a
 * decoder that keeps SCHILY.xattr.* values as latin1 (one char per byte) and everything else as
 * UTF-8. Read xattrs only through xattrsOf().
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type tar from 'tar-stream';

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
