/**
 * Copying images between places (containers/image's ImageSource/ImageDestination + copy, reduced).
 *
 *   pull = copyImage(registry.source(ref), localDestination(services, name))
 *   push = copyImage(localSource(services, name, {compress: true}), registry.destination(ref))
 *
 * copyImage walks index → manifest → config/layers and writes children before parents: every
 * blob first, then the manifest (commit), so a destination never holds a manifest whose blobs
 * are missing. An index is reduced to the manifest for one platform (default: the host's).
 * Every byte a destination stores is verified against the descriptor (digest and size); a
 * mismatch aborts the copy before anything is tagged.
 */
import { Readable, Transform, pipeline } from 'node:stream';
import {
  INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, SbxError, isDigest, isGzipLayer,
  type Descriptor, type Digest, type ImageConfig, type Index, type Manifest, type Platform, type ProgressEvent,
} from '../../protocol/index.js';
import { sha256 } from '../content/verify.js';
import { countLent, type LentChunks } from '../util/lent.js';
import { hostPlatform, pickManifest } from './resolve.js';

export type { LentChunks };
/** A blob's bytes on their way: a stream, or lent chunks (util/lent.ts: each valid until the next is asked for). */
export type BlobBody = Readable | LentChunks;

/** Something images can be copied from. */
export interface ImageSource {
  /** A name for messages ("127.0.0.1:5000/me/app:1", "local image me/app:1"). */
  readonly name: string;
  /** The top-level manifest or index descriptor. @throws not_found, unauthorized, unavailable */
  resolve(signal?: AbortSignal): Promise<Descriptor>;
  /** The raw bytes of a blob or manifest; unverified (the destination verifies). @throws not_found */
  fetch(desc: Descriptor, signal?: AbortSignal): Promise<Readable>;
  /**
   * The same bytes of a layer as lent chunks read into a few recycled buffers (no allocation or
   * copy per chunk); copyImage prefers it for layers. Optional. @throws not_found
   */
  fetchLent?(desc: Descriptor, signal?: AbortSignal): Promise<LentChunks>;
}

export interface PutHints {
  /** For a layer: the uncompressed digest the image config lists for it. */
  diffId?: Digest;
  signal?: AbortSignal;
  /** Bytes sent so far (for progress). */
  onBytes?: (n: number) => void;
}

/** Something images can be copied to. */
export interface ImageDestination {
  readonly name: string;
  /** Already there? (skip the upload; "Layer already exists"). */
  has(desc: Descriptor, signal?: AbortSignal): Promise<boolean>;
  /**
   * Store a blob, verifying digest and size (and diffId when given). `open` may be called again
   * to retry; a destination uses lent chunks up one by one, or copies them (toReadable), and
   * cancels or destroys what it opened and did not read to the end. @throws digest_mismatch
   */
  put(desc: Descriptor, open: () => Promise<BlobBody>, hints?: PutHints): Promise<void | { mountedFrom: string }>;
  /**
   * Store a blob whose digest is known only after its last byte was made (push-time
   * compression uploads while compressing): `body` streams the bytes, `done` gives digest and
   * size at the end. Optional; not retried (the caller falls back to put()).
   */
  putStream?(body: Readable, done: Promise<{ digest: Digest; size: number }>, signal?: AbortSignal): Promise<void>;
  /**
   * Store the top manifest (bytes as given) and name it: local tag, or registry PUT by tag.
   * `resolved`: what the source's reference resolved to (an index, for a multi-platform image).
   */
  commit(top: Descriptor, bytes: Buffer, signal?: AbortSignal, resolved?: Descriptor): Promise<void>;
}

export interface CopyOptions {
  /** "os/arch[/variant]"; default the host's (linux/amd64 on x86-64). */
  platform?: Platform;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** Progress wording: pulls say "Download complete"/"Already exists", pushes "Pushed"/"Layer already exists". */
  direction?: 'pull' | 'push';
  /** Base delay before a blob whose transfer broke off is tried again (default 1 s; 3 tries). */
  retryDelayMs?: number;
  /** Blobs copied at once (default 3, as docker). */
  concurrency?: number;
  /** Blobs the destination got already during this copy (see ImageDestination.putStream): reported as copied. */
  sent?: ReadonlySet<string>;
}

export interface CopyResult {
  /** The top-level manifest or index as the source named it (what a pull by tag resolved to). */
  resolved: Descriptor;
  /** The image manifest copied (the platform's one when `resolved` is an index). */
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export function parsePlatform(s: string): Platform {
  const [os, architecture, variant, ...rest] = s.split('/');
  if (!os || !architecture || rest.length) throw new SbxError('invalid_argument', `platform "${s}": expected os/arch[/variant], e.g. linux/amd64`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export const formatPlatform = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

export async function readAll(stream: Readable | AsyncIterable<Uint8Array>, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new SbxError('invalid_argument', `document larger than ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Fetch a small document and check it is exactly the bytes the descriptor names. */
async function fetchVerified(src: ImageSource, desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
  const bytes = await readAll(await src.fetch(desc, signal));
  const got = sha256(bytes);
  if (got !== desc.digest || bytes.length !== desc.size) {
    throw new SbxError('digest_mismatch', `${src.name}: ${desc.mediaType} ${desc.digest} arrived as ${bytes.length} bytes hashing to ${got} (expected ${desc.size} bytes)`);
  }
  return bytes;
}

function parseJSON<T>(bytes: Buffer, what: string): T {
  try { return JSON.parse(bytes.toString('utf8')) as T; } catch (e) {
    throw new SbxError('invalid_argument', `${what}: not valid JSON (${(e as Error).message})`);
  }
}

/** A failure worth another try: the network, not the content or the caller. */
function transient(e: unknown): boolean {
  if (e instanceof SbxError) return e.code === 'unavailable';
  const code = (e as { code?: string; cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code;
  return e instanceof TypeError || ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code ?? '');
}

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

/** Counts bytes through a stream, reporting at most every 100 ms. */
function counter(onBytes: (n: number) => void): Transform {
  let n = 0;
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      const now = Date.now();
      if (now - last > 100) { last = now; onBytes(n); }
      cb(null, chunk);
    },
    flush(cb) { onBytes(n); cb(); },
  });
}

export async function copyImage(src: ImageSource, dst: ImageDestination, opts: CopyOptions = {}): Promise<CopyResult> {
  const { signal } = opts;
  const emit = opts.onProgress ?? (() => {});
  const push = opts.direction === 'push';
  let top = await src.resolve(signal);
  const resolved = top;
  let bytes = await fetchVerified(src, top, signal);
  if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
    const index = parseJSON<Index>(bytes, `${src.name}: image index`);
    if (!Array.isArray(index.manifests)) throw new SbxError('invalid_argument', `${src.name}: image index has no manifests`);
    top = pickManifest(index, opts.platform ?? hostPlatform(), src.name);
    bytes = await fetchVerified(src, top, signal);
  }
  if (!MANIFEST_MEDIA_TYPES.includes(top.mediaType)) {
    throw new SbxError('invalid_argument', `${src.name}: ${top.mediaType} is not an image manifest sbx can copy`);
  }
  const manifest = parseJSON<Manifest>(bytes, `${src.name}: manifest`);
  if (!manifest.config || !Array.isArray(manifest.layers) || ![manifest.config, ...manifest.layers].every((d) => isDigest(d?.digest) && typeof d.size === 'number')) {
    throw new SbxError('invalid_argument', `${src.name}: manifest ${top.digest} lacks a valid config or layers`);
  }
  const configBytes = await fetchVerified(src, manifest.config, signal);
  const config = parseJSON<ImageConfig>(configBytes, `${src.name}: image config`);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new SbxError('invalid_argument', `${src.name}: the config lists ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
  }

  const copyBlob = async (d: Descriptor, diffId?: Digest): Promise<void> => {
    // Pushes name a layer by its diffID, pulls by the blob's digest (as docker prints them).
    const id = short(push && diffId ? diffId : d.digest);
    if (opts.sent?.has(d.digest)) {
      emit({ type: 'progress', id, status: push ? 'Pushed' : 'Pull complete', current: d.size, total: d.size });
      return;
    }
    if (await dst.has(d, signal)) {
      emit({ type: 'progress', id, status: push ? 'Layer already exists' : 'Already exists' });
      return;
    }
    emit({ type: 'progress', id, status: push ? 'Pushing' : 'Downloading', current: 0, total: d.size });
    const onBytes = (n: number): void => emit({ type: 'progress', id, status: push ? 'Pushing' : 'Downloading', current: n, total: d.size });
    for (let attempt = 1; ; attempt++) {
      try {
        const open = async (): Promise<BlobBody> => src.fetchLent
          ? countLent(await src.fetchLent(d, signal), onBytes)
          : pipeline(await src.fetch(d, signal), counter(onBytes), () => {});
        const r = await dst.put(d, open, { ...(diffId ? { diffId } : {}), ...(signal ? { signal } : {}) });
        if (r) { emit({ type: 'progress', id, status: `Mounted from ${r.mountedFrom}` }); return; }
        break;
      } catch (e) {
        if (e instanceof SbxError && e.code === 'digest_mismatch') {
          throw new SbxError('digest_mismatch', `copy ${src.name} to ${dst.name}: blob ${d.digest}: ${e.message}`, { cause: e });
        }
        // A connection dropped mid-transfer: start this blob again (the partial copy was discarded).
        if (attempt >= 3 || signal?.aborted || !transient(e)) throw e;
        emit({ type: 'progress', id, status: `Retrying in ${attempt} second${attempt > 1 ? 's' : ''}` });
        await new Promise((r) => setTimeout(r, attempt * (opts.retryDelayMs ?? 1000)));
      }
    }
    emit({ type: 'progress', id, status: push ? 'Pushed' : 'Pull complete', current: d.size, total: d.size });
  };

  const queue = manifest.layers.map((l, i) => () => copyBlob(l, diffIds[i]));
  const workers = Array.from({ length: Math.min(opts.concurrency ?? 3, queue.length) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  });
  // The config (in hand already) is stored alongside the layers, not after them.
  const configStored = (async () => {
    if (!(await dst.has(manifest.config, signal))) await dst.put(manifest.config, async () => Readable.from([configBytes]), signal ? { signal } : {});
  })();
  await Promise.all([configStored, ...workers]);
  signal?.throwIfAborted();
  await dst.commit(top, bytes, signal, resolved);
  return { resolved, manifest: top, config: manifest.config, layers: manifest.layers };
}

/** Is this layer stored without compression (so a push compresses it)? */
export function isUncompressedLayer(mediaType: string): boolean {
  return mediaType === 'application/vnd.oci.image.layer.v1.tar' || mediaType === 'application/vnd.docker.image.rootfs.diff.tar';
}

export { hostPlatform, isGzipLayer };
