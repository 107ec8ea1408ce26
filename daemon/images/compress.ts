/**
 * Push-time layer compression. sbx stores committed layers uncompressed (fast to write, hash and
 * unpack); a registry wants gzip. The layer is cut into 4 MiB pieces gzipped concurrently on the
 * libuv thread pool and written as one multi-member gzip stream, which RFC 1952 and
 * every gzip reader (Go's compress/gzip, zlib, busybox) read as the concatenation; the output is
 * deterministic for a given input. The result is cached per diffID
 * (`<cacheDir>/<hex>.json` → compressed digest and size), so a layer is compressed once.
 * While a layer is compressed, its bytes can also stream to a sink (a push uploads them as they
 * are made rather than after: compression and upload overlap).
 *
 * The pool (UV_THREADPOOL_SIZE, default 4 threads) also runs every file-system call of the
 * daemon, so gzip takes at most gzipSlots() of its threads and always leaves one to them: a push
 * does not stall unrelated requests behind a queue of 4 MiB members. (Raising the pool from
 * daemon/main.ts is not possible: the ESM loader has started it by the time a module body runs.)
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip as gzipCb, constants } from 'node:zlib';
import { MediaType, type Descriptor, type Digest } from '../../protocol/index.js';
import type { BlobInfo, ContentStore } from '../content/store.js';
import { ensureDir, readJSONOr, writeJSON } from '../util/fs.js';

const gzip = promisify(gzipCb);
const PIECE = 4 * 1024 * 1024;

const SAMPLE = 64 * 1024;

/** Threads libuv's pool starts with (it reads UV_THREADPOOL_SIZE once, clamped to 1..1024). */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 1024) : 4;
}

/** gzip members in flight at once: no more than the cores, and one pool thread left for the file system. */
export function gzipSlots(pool = threadPoolSize(), cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, pool - 1));
}

/**
 * One piece as one gzip member. Incompressible content (random data, files already compressed
 * inside the layer) is detected on a sample and stored (level 0, still valid gzip), which costs
 * almost nothing; the choice depends only on the bytes, so the output stays deterministic.
 */
async function member(piece: Buffer, level: number): Promise<Buffer> {
  // One output buffer for the whole member (deflate's worst case is the input plus ~0.1 %):
  // zlib's default 16 KiB output chunks cost a callback and a copy each (~40 % of the time).
  const chunkSize = Math.max(64 * 1024, piece.length + (piece.length >> 9) + 1024);
  if (level > 0 && piece.length > SAMPLE) {
    const probe = await gzip(piece.subarray(0, SAMPLE), { level: 1 });
    if (probe.length > SAMPLE * 0.97) return gzip(piece, { level: 0, chunkSize });
  }
  return gzip(piece, { level, chunkSize });
}

/** One member per PIECE, at most `slots` being made at a time (a member holds one pool thread). */
async function* gzipMembers(src: Readable, level: number, slots: number): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  let parts: Buffer[] = [];
  let n = 0;
  let any = false;
  const cut = (): void => {
    pending.push(member(parts.length === 1 ? parts[0]! : Buffer.concat(parts), level));
    parts = [];
    n = 0;
    any = true;
  };
  for await (const chunk of src as AsyncIterable<Buffer>) {
    let c = chunk;
    while (c.length) {
      const take = Math.min(PIECE - n, c.length);
      parts.push(c.subarray(0, take));
      n += take;
      c = c.subarray(take);
      if (n === PIECE) cut();
      while (pending.length >= slots) yield await pending.shift()!;
    }
  }
  if (n > 0 || !any) cut();
  while (pending.length) yield await pending.shift()!;
}

/**
 * Takes the compressed bytes of `layer` (the uncompressed one) while they are being made (a push
 * uploads them at the same time): `body` streams them, `done` gives their digest and size once
 * the last one is stored.
 */
export type CompressedSink = (body: Readable, done: Promise<BlobInfo>, layer: Descriptor) => Promise<void>;

export interface CompressOptions {
  /** Where the diffID → compressed blob mapping is kept ($SBX_ROOT/cache/gzip). */
  cacheDir: string;
  /** zlib level; default 1 (fastest): half the CPU of level 6 for layers ~8 % larger. */
  level?: number;
  signal?: AbortSignal;
  /** Where the bytes also go when the layer is compressed now (not when cached). */
  sink?: CompressedSink;
}

export interface CompressedLayer {
  descriptor: Descriptor;
  /** The sink took every byte (false when cached, or when the sink failed: the store has them anyway). */
  sunk: boolean;
}

/** The gzip media type matching an uncompressed layer's family (OCI or Docker). */
export function gzipMediaType(mediaType: string): string {
  return mediaType.startsWith('application/vnd.docker.') ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip;
}

/**
 * The compressed form of an uncompressed layer, from the cache or made now and stored in the
 * content store (and streamed to `sink` meanwhile). Returns its descriptor (gzip media type,
 * compressed digest and size). A failing sink does not fail the compression.
 */
export async function compressLayer(content: ContentStore, layer: Descriptor, opts: CompressOptions): Promise<CompressedLayer> {
  const hex = layer.digest.slice('sha256:'.length);
  const file = join(opts.cacheDir, `${hex}.json`);
  const cached = await readJSONOr<{ digest: Digest; size: number } | null>(file, null).catch(() => null);
  const mediaType = gzipMediaType(layer.mediaType);
  if (cached && await content.has(cached.digest)) return { descriptor: { mediaType, digest: cached.digest, size: cached.size }, sunk: false };
  const src = await content.read(layer.digest);
  const out = opts.sink ? new PassThrough({ highWaterMark: 8 * 1024 * 1024 }) : undefined;
  out?.on('error', () => {}); // the sink's failure is reported through its promise
  let settle!: { resolve(i: BlobInfo): void; reject(e: unknown): void };
  const done = new Promise<BlobInfo>((resolve, reject) => { settle = { resolve, reject }; });
  done.catch(() => {});
  let sinkFailed = false;
  const sunk = out && opts.sink ? opts.sink(out, done, layer).then(() => true, () => { sinkFailed = true; return false; }) : Promise.resolve(false);
  // Each member goes to the sink, then to the store; a sink that stops reading is left behind.
  async function* tee(members: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const m of members) {
      if (out && !sinkFailed && !out.destroyed && !out.write(m)) await Promise.race([once(out, 'drain').catch(() => {}), sunk]);
      yield m;
    }
    out?.end();
  }
  let info: BlobInfo;
  try {
    info = await content.write(tee(gzipMembers(src, opts.level ?? constants.Z_BEST_SPEED, gzipSlots())), {}, opts.signal);
  } catch (e) {
    out?.destroy(e as Error);
    settle.reject(e);
    await sunk;
    throw e;
  } finally {
    src.destroy();
  }
  settle.resolve(info);
  await ensureDir(opts.cacheDir);
  await writeJSON(file, { digest: info.digest, size: info.size });
  return { descriptor: { mediaType, digest: info.digest, size: info.size }, sunk: await sunk };
}
