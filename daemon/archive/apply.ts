/**
 * applyLayer: extract an OCI layer tar onto a directory, safely.
 *
 * - gzip is detected by its magic bytes and decompressed; the diffID (sha256 of the uncompressed
 *   tar, every byte of it) is computed as it streams and checked against the expected one.
 * - No entry can write outside `dir`: absolute names and `..` components are refused, parents are
 *   walked component by component with lstat (a symlink as a parent is refused, so a link the
 *   layer planted is never followed), files are created with O_EXCL|O_NOFOLLOW after the old
 *   entry is unlinked, hard-link targets resolve the same way and must already exist inside.
 * - Whiteouts (`.wh.NAME`, `.wh..wh..opq`) hide lower-layer entries only, never the layer's own:
 *   'overlay' writes them as overlayfs does (0/0 char device, trusted.overlay.opaque=y) into an
 *   upper directory; 'remove' deletes the hidden entries from a complete tree (native snapshotter).
 * - Modes (incl. setuid/sticky), numeric uid/gid, mtimes, symlinks, hard links, device nodes,
 *   fifos and PAX SCHILY.xattr.* are kept (except trusted.* and user.overlay.*, which would steer
 *   overlayfs; xattrs the host filesystem refuses are skipped, except security.capability).
 *   Directory modes and times are set last, after their children are written.
 *
 * Errors: invalid_argument (not a tar, an unsafe or malformed entry), digest_mismatch (diffID),
 * not_implemented (zstd), internal (the filesystem failed). On error the directory holds a partial
 * extraction; the caller discards it (unpack works in a throwaway snapshot).
 */
import { createHash } from 'node:crypto';
import { pipeline as pipelineCb, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SbxError, type Digest } from '../../protocol/index.js';
import { Applier } from './applier.js';
import { extractor } from './tar-stream-patches.js';
import { MAGIC_LENGTH, detectCompression } from './compression.js';

export { cleanPath } from './applier.js';

export interface ApplyOptions {
  /** How whiteouts are written; see the file comment. */
  whiteouts: 'overlay' | 'remove';
  /** The expected diffID; a mismatch fails with digest_mismatch after the whole tar is read. */
  diffId?: Digest;
  /** Overlay mode: the lower layers' directories, top first, to copy up hard-link targets from. */
  lowers?: string[];
  /** The root entry ("./") leaves `dir`'s own metadata alone (ADD into an existing directory). */
  keepRoot?: boolean;
  signal?: AbortSignal;
}

export interface Applied {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Uncompressed size in bytes. */
  size: number;
}

export async function applyLayer(dir: string, layer: Readable | AsyncIterable<Uint8Array>, opts: ApplyOptions): Promise<Applied> {
  const raw = await decompressed(layer);
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _e, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); },
  });
  const ex = extractor();
  const sink = ex as unknown as NodeJS.WritableStream;
  const feeding = opts.signal ? pipeline(raw, hasher, sink, { signal: opts.signal }) : pipeline(raw, hasher, sink);
  let feedError: unknown;
  feeding.catch((e) => { feedError ??= e; });
  const applier = new Applier(dir, opts.whiteouts, opts.whiteouts === 'overlay' ? opts.lowers ?? [] : [], !!opts.keepRoot);
  let entries = 0;
  try {
    for await (const entry of ex) {
      entries++;
      await applier.entry(entry.header, entry as unknown as AsyncIterable<Buffer>);
    }
    await feeding;
    if (entries === 0 && size === 0) throw new SbxError('invalid_argument', 'apply layer: empty input is not a tar');
    await applier.finish();
  } catch (e) {
    ex.destroy();
    hasher.destroy();
    await feeding.catch(() => undefined);
    // The entry loop only sees "stream destroyed" when the source failed: report the source's error.
    throw asLayerError(e instanceof SbxError || feedError === undefined ? e : feedError);
  }
  const diffId: Digest = `sha256:${hash.digest('hex')}`;
  if (opts.diffId && diffId !== opts.diffId) {
    throw new SbxError('digest_mismatch', `apply layer: uncompressed content hashes to ${diffId}, expected diffID ${opts.diffId}`);
  }
  return { diffId, size };
}

/** The tar inside `layer`: gzip is recognised by its magic bytes, zstd refused. */
async function decompressed(layer: Readable | AsyncIterable<Uint8Array>): Promise<Readable> {
  const it = layer[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < MAGIC_LENGTH) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    const b = Buffer.from(r.value as Uint8Array);
    head.push(b);
    have += b.length;
  }
  const first = Buffer.concat(head);
  const rest = Readable.from((async function* () {
    if (first.length) yield first;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Uint8Array;
  })(), { objectMode: false });
  const compression = detectCompression(first);
  if (compression === 'zstd') {
    rest.destroy();
    await it.return?.();
    throw new SbxError('not_implemented', 'apply layer: zstd-compressed layers are not supported');
  }
  if (compression !== 'gzip') return rest;
  // pipeline, not pipe: an error of the compressed source (a failed digest check) must reach the reader.
  const gz = createGunzip();
  pipelineCb(rest, gz, (err) => { if (err) gz.destroy(err); });
  return gz;
}

function asLayerError(e: unknown): SbxError {
  if (e instanceof SbxError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException).code;
  if (/tar|header|Unexpected end|incorrect header check|unexpected end of file|Invalid/i.test(msg) && !code?.startsWith('E')) {
    return new SbxError('invalid_argument', `apply layer: not a valid tar: ${msg}`, { cause: e });
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') return new SbxError('invalid_argument', `apply layer: bad gzip data: ${msg}`, { cause: e });
  if (code === 'ABORT_ERR') return new SbxError('cancelled', 'apply layer: cancelled', { cause: e });
  return SbxError.wrap(e, 'apply layer');
}
