/**
 * Sending a byte range of a blob file as an HTTP response body, for the registry's blob GET.
 *
 * Node has no sendfile, so the bytes are read and written; what this saves over a piped
 * fs.ReadStream is the allocation: a read stream takes a fresh buffer for every chunk, which
 * for blobs means fresh pages (mmap, page faults, zeroing, munmap) on every megabyte served.
 * Here a few buffers are reused from a small pool, one is read while the previous is being
 * written (double buffering), and a buffer goes back to the pool only once the socket has
 * taken its bytes (the write's callback).
 */
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

const CHUNK = 1 << 20;
const POOL_MAX = 16;
const pool: Buffer[] = [];

const take = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
const give = (b: Buffer): void => { if (pool.length < POOL_MAX) pool.push(b); };

/**
 * Write bytes `start`..`end` (inclusive) of `file` to `res` and end it. Status and headers
 * (Content-Length included) must be set already. Resolves when done or when the client went
 * away; rejects if the file cannot be read (the response is then destroyed, not ended, so the
 * client sees a short body rather than a wrong one).
 */
export async function sendFileRange(res: ServerResponse, file: string, start: number, end: number): Promise<void> {
  const fh = await open(file, 'r');
  let gone = false;
  const closed = new Promise<void>((resolve) => res.once('close', () => { gone = true; resolve(); }));
  try {
    let pos = start;
    let writing: Promise<void> | undefined;
    while (pos <= end) {
      const buf = take();
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos + 1), pos);
      if (bytesRead === 0) { give(buf); throw new Error(`${file}: ended at ${pos}, expected ${end + 1} bytes`); }
      pos += bytesRead;
      if (writing) await Promise.race([writing, closed]);
      if (gone) { give(buf); return; }
      writing = new Promise<void>((resolve) => {
        res.write(buf.subarray(0, bytesRead), () => { give(buf); resolve(); });
      });
    }
    if (writing) await Promise.race([writing, closed]);
    if (!gone) res.end();
  } catch (e) {
    res.destroy(e as Error);
    throw e;
  } finally {
    await fh.close();
  }
}
