/**
 * Which compression a stream starts with, from its magic bytes (the one place sbx reads them).
 * Callers decide what to do: gzip is inflated, the others are refused with their own message.
 */

/** How many leading bytes detectCompression() needs to tell every format apart. */
export const MAGIC_LENGTH = 6;

export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2 = [0x42, 0x5a, 0x68]; // "BZh"

/** The compression `head` (a stream's first bytes, ideally MAGIC_LENGTH of them) announces; 'none' if too short to tell. */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]): boolean => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts(GZIP)) return 'gzip';
  if (starts(ZSTD)) return 'zstd';
  if (starts(XZ)) return 'xz';
  if (starts(BZIP2)) return 'bzip2';
  return 'none';
}
