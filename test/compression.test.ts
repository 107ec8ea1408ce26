/** Compression detection by magic bytes (daemon/archive/compression.ts), used by apply, load and the input checks. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { detectCompression } from '../daemon/archive/compression.js';

const s = suite('archive: detectCompression');

s('gzip from real gzip output, even with only its two magic bytes', () => {
  assert.is(detectCompression(gzipSync(Buffer.from('hello'))), 'gzip');
  assert.is(detectCompression(Buffer.from([0x1f, 0x8b])), 'gzip');
});

s('zstd, xz and bzip2 frames are told apart', () => {
  assert.is(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x05])), 'zstd');
  assert.is(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.is(detectCompression(Buffer.from('BZh91AY', 'latin1')), 'bzip2');
});

s('a plain tar, empty input and truncated magic are none', () => {
  const ustar = Buffer.alloc(512);
  ustar.write('etc/passwd');
  assert.is(detectCompression(ustar), 'none');
  assert.is(detectCompression(Buffer.alloc(0)), 'none');
  assert.is(detectCompression(Buffer.from([0x1f])), 'none');
  assert.is(detectCompression(Buffer.from([0x28, 0xb5, 0x2f])), 'none');
  assert.is(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x01])), 'none', 'xz needs all six bytes');
});

s.run();
