/**
 * PAX extended attributes (SCHILY.xattr.NAME) as bytes, and when a header needs PAX records.
 * The bytes survive tar-stream only through tar-stream-patches.ts: read with its extractor(),
 * write with its binaryPaxPack(); read xattrs only through xattrsOf().
 */
import type tar from 'tar-stream';

export const XATTR = 'SCHILY.xattr.';
/** The largest uid/gid a ustar header holds (8 octal digits less the terminator). */
export const USTAR_ID_MAX = 0o777777;

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
  /** Kept xattrs, written as PAX records by binaryPaxPack's encoder. */
  xattrs?: [string, Buffer][];
}

export function fitsUstar(s: string, max: number): boolean {
  return /^[\x20-\x7e]*$/.test(s) && s.length <= max;
}

/** Mark `h` as needing PAX records (any pax object makes tar-stream call _encodePax). */
export function preparePax(h: Header): void {
  const needs = !fitsUstar(h.name, 100) || (h.linkname != null && !fitsUstar(h.linkname, 100))
    || (h.xattrs?.length ?? 0) > 0 || (h.uid ?? 0) > USTAR_ID_MAX || (h.gid ?? 0) > USTAR_ID_MAX;
  if (needs) h.pax = {};
}
