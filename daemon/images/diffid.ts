/**
 * The diffID of a small gzip layer while it is being stored: the stored chunks are also fed to
 * gunzip and what comes out is hashed, so digest and diffID are checked in one pass over the
 * data (no second read of the stored blob). Large layers are checked after the pull instead
 * (layer-checks.ts): their second pass is what made a pull slower than skopeo's.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import type { Digest } from '../../protocol/index.js';

export interface DiffIdHasher {
  /** The next chunk of the compressed layer (the caller no longer uses it). Await before the next. */
  feed(chunk: Buffer): Promise<void> | void;
  /** No more chunks. */
  end(): void;
  /** Give up (the copy failed or was cancelled); result() then rejects. */
  abort(): void;
  /** The sha256 of the decompressed bytes, once end() was called. Rejects if not gzip. */
  result(): Promise<Digest>;
  /** How many decompressed bytes came out (the layer's unpacked size once result() resolved). */
  bytes(): number;
}

export function diffIdHasher(): DiffIdHasher {
  const hash = createHash('sha256');
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let failed = false;
  let n = 0;
  gunzip.on('data', (c: Buffer) => { hash.update(c); n += c.length; });
  const done = new Promise<Digest>((resolve, reject) => {
    gunzip.once('end', () => resolve(`sha256:${hash.digest('hex')}`));
    gunzip.on('error', (e) => { failed = true; reject(e); });
  });
  done.catch(() => {});
  return {
    // Not gzip after all: stop feeding it; the store still checks the digest.
    async feed(chunk) {
      if (failed || gunzip.write(chunk)) return;
      await Promise.race([once(gunzip, 'drain'), done.catch(() => {})]);
    },
    end() { if (!failed) gunzip.end(); },
    abort() { gunzip.destroy(new Error('stopped')); },
    result: () => done,
    bytes: () => n,
  };
}
