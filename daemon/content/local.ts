import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SbxError, isDigest, type Digest } from '../../protocol/index.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, atomicWriteFile, fsyncDir, pathExists } from '../util/fs.js';
import type { BlobInfo, ContentStore, Expect, Ingest } from './store.js';
import { VerifyingStream } from './verify.js';

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });
const FLUSH_EVERY = 8 * 1024 * 1024;

/**
 * A ContentStore over an OCI image layout directory: blobs live in `<layout>/blobs/sha256/<hex>`
 * so that skopeo and umoci read the store as it is. Partial writes go to `ingestDir` (same
 * file system, outside the layout) and are renamed in once verified.
 */
export async function openLocalContentStore(layout: string, ingestDir: string): Promise<ContentStore> {
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true, mode: PRIVATE_DIR_MODE });
  await rm(ingestDir, { recursive: true, force: true });
  await mkdir(ingestDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!(await pathExists(join(layout, 'oci-layout')))) await atomicWriteFile(join(layout, 'oci-layout'), OCI_LAYOUT);
  return new LocalContentStore(layout, ingestDir);
}

function checkDigest(digest: string): asserts digest is Digest {
  if (!isDigest(digest)) throw new SbxError('invalid_argument', `malformed digest "${digest}": expected sha256:<64 hex>`);
}

/** Bytes to store: one buffer, or a stream of buffers or of batches of buffers (written with one writev). */
type Chunks = Readable | AsyncIterable<Uint8Array | readonly Uint8Array[]> | Uint8Array;

async function appendAll(fh: FileHandle, data: Chunks, onChunk: (b: Uint8Array) => void, signal?: AbortSignal, onWritten?: (n: number) => void): Promise<number> {
  let n = 0;
  const write = async (b: Uint8Array | readonly Uint8Array[]): Promise<void> => {
    signal?.throwIfAborted();
    let parts = Array.isArray(b) ? (b as readonly Uint8Array[]) : [b as Uint8Array];
    const total = parts.reduce((t, p) => t + p.length, 0);
    // The write runs on libuv's pool while this thread hashes the same bytes (neither changes them).
    let writing = fh.writev(parts as Uint8Array[]);
    try {
      for (const p of parts) onChunk(p);
    } catch (e) {
      await writing.catch(() => undefined);
      throw e;
    }
    for (let left = total; left > 0;) {
      const { bytesWritten } = await writing;
      left -= bytesWritten;
      if (left > 0) { parts = rest(parts, bytesWritten); writing = fh.writev(parts as Uint8Array[]); }
    }
    n += total;
    onWritten?.(n);
  };
  if (data instanceof Uint8Array) await write(data);
  else for await (const chunk of data as AsyncIterable<Uint8Array | Uint8Array[] | string>) await write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return n;
}

/** What a short writev left of `parts`. */
function rest(parts: readonly Uint8Array[], written: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (written >= p.length) { written -= p.length; continue; }
    out.push(written ? p.subarray(written) : p);
    written = 0;
  }
  return out;
}

class LocalContentStore implements ContentStore {
  private readonly blobDir: string;

  constructor(layout: string, private readonly ingestDir: string) {
    this.blobDir = join(layout, 'blobs', 'sha256');
  }

  private blobPath(digest: Digest): string {
    return join(this.blobDir, digest.slice('sha256:'.length));
  }

  async info(digest: Digest): Promise<BlobInfo> {
    checkDigest(digest);
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SbxError('not_found', `blob ${digest}: not in the content store`);
      throw e;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    checkDigest(digest);
    return pathExists(this.blobPath(digest));
  }

  async path(digest: Digest): Promise<string> {
    await this.info(digest);
    return this.blobPath(digest);
  }

  async read(digest: Digest): Promise<Readable> {
    const { size } = await this.info(digest);
    const verify = new VerifyingStream(digest, size);
    // 1 MiB reads: a tenth of the per-chunk work (hash calls, stream callbacks, GC) of the 64 KiB default.
    const src = createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 });
    src.on('error', (e) => verify.destroy(e));
    return src.pipe(verify);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    checkDigest(digest);
    let buf: Buffer;
    try {
      buf = await readFile(this.blobPath(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SbxError('not_found', `blob ${digest}: not in the content store`);
      throw e;
    }
    const got = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    if (got !== digest) throw new SbxError('digest_mismatch', `read blob ${digest}: content on disk hashes to ${got}`);
    return buf;
  }

  async write(data: Chunks, expect: Expect = {}, signal?: AbortSignal): Promise<BlobInfo> {
    if (expect.digest !== undefined) checkDigest(expect.digest);
    const ing = await this.ingest(`write-${randomBytes(8).toString('hex')}`, signal);
    try {
      await ing.append(data);
    } catch (e) {
      await ing.abort();
      throw e;
    }
    return ing.commit(expect);
  }

  async ingest(ref: string, signal?: AbortSignal): Promise<Ingest> {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(ref)) throw new SbxError('invalid_argument', `ingest ref "${ref}": use letters, digits, . _ -`);
    const file = join(this.ingestDir, ref);
    const fh = await open(file, 'wx', PRIVATE_FILE_MODE).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') throw new SbxError('already_exists', `ingest ${ref}: already open`);
      throw e;
    });
    const hash = createHash('sha256');
    let offset = 0;
    let closed = false;
    // Writeback started while the blob still arrives (fdatasync every FLUSH_EVERY bytes, on the
    // thread pool), so the fsync at commit finds little left to write: for 100 MB ~45 → ~4 ms.
    let flushedAt = 0;
    let flushing: Promise<void> | undefined;
    const flushSome = (written: number): void => {
      if (flushing || written - flushedAt < FLUSH_EVERY) return;
      flushedAt = written;
      flushing = fh.datasync().catch(() => {}).finally(() => { flushing = undefined; });
    };
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await flushing;
      await fh.close().catch(() => {});
    };
    const store = this;
    return {
      ref,
      get offset() { return offset; },
      async append(chunk) {
        if (closed) throw new SbxError('failed_precondition', `ingest ${ref}: already closed`);
        const base = offset;
        offset += await appendAll(fh, chunk, (b) => hash.update(b), signal, (n) => flushSome(base + n));
        return offset;
      },
      async commit(expect) {
        try {
          if (closed) throw new SbxError('failed_precondition', `ingest ${ref}: already closed`);
          const digest = `sha256:${hash.digest('hex')}` as Digest;
          if (expect.size !== undefined && expect.size !== offset) {
            throw new SbxError('digest_mismatch', `commit blob ${expect.digest ?? digest}: got ${offset} bytes, expected ${expect.size}`);
          }
          if (expect.digest !== undefined && expect.digest !== digest) {
            throw new SbxError('digest_mismatch', `commit blob ${expect.digest}: content hashes to ${digest}`);
          }
          await flushing;
          await fh.sync();
          await close();
          const target = store.blobPath(digest);
          if (await pathExists(target)) {
            await rm(file, { force: true });
            return { digest, size: offset };
          }
          await rename(file, target);
          await fsyncDir(store.blobDir);
          return { digest, size: offset };
        } catch (e) {
          await close();
          await rm(file, { force: true });
          throw e;
        }
      },
      async abort() {
        await close();
        await rm(file, { force: true });
      },
    };
  }

  async delete(digest: Digest): Promise<void> {
    checkDigest(digest);
    await rm(this.blobPath(digest), { force: true });
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const name of await readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      try {
        const st = await stat(join(this.blobDir, name));
        yield { digest: `sha256:${name}`, size: st.size };
      } catch { /* deleted meanwhile */ }
    }
  }
}
