/**
 * The local store (ContentStore + ImageStore) as an ImageSource and an ImageDestination.
 *
 * localDestination verifies every blob as it is written (the content store checks digest and
 * size) and, for layers, that the uncompressed bytes hash to the diffID the config lists; the
 * tag is set only in commit(), after every blob is in. Callers hold services.gcLock shared around
 * the whole copy.
 *
 * localSource with `compress` presents a push view: uncompressed layers are replaced by their
 * gzip form (compressed in parallel across layers, cached per diffID), so the manifest a registry
 * receives differs from the local one only in those layer descriptors.
 */
import { Readable, Transform, pipeline } from 'node:stream';
import {
  INDEX_MEDIA_TYPES, SbxError, familiarString, parseReference, type Descriptor, type Digest, type Manifest,
} from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { sha256 } from '../content/verify.js';
import { compressLayer, type CompressedSink } from './compress.js';
import { diffIdHasher } from './diffid.js';
import type { ImageStore } from './store.js';
import { isGzipLayer, isUncompressedLayer, type ImageDestination, type ImageSource } from './transfer.js';

export interface LocalStores { content: ContentStore; images: ImageStore }

/** Batches small network chunks into ~1 MiB writes (fewer syscalls and hash calls, less GC). */
function coalesce(min = 1 << 20): Transform {
  let parts: Buffer[] = [];
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      n += chunk.length;
      if (n < min) { cb(); return; }
      const out = Buffer.concat(parts, n);
      parts = [];
      n = 0;
      cb(null, out);
    },
    flush(cb) { cb(null, n ? Buffer.concat(parts, n) : undefined); },
  });
}

/** Pull into the local store; `name` (a tagged reference) is set in commit(), if given. */
export function localDestination(s: LocalStores, name: string | undefined): ImageDestination {
  return {
    name: 'the local store',
    async has(d) { return s.content.has(d.digest); },
    async put(d, open, hints = {}) {
      const stream = await open();
      const hasher = hints.diffId && isGzipLayer(d.mediaType) ? diffIdHasher(d.size) : undefined;
      const chunks = pipeline(stream, coalesce(), () => {});
      // Each chunk reaches the diffID hasher after the store has hashed and written it.
      async function* body(): AsyncGenerator<Buffer> {
        let complete = false;
        try {
          for await (const chunk of chunks as AsyncIterable<Buffer>) {
            yield chunk;
            await hasher?.feed(chunk);
          }
          complete = true;
          hasher?.end();
        } finally {
          if (!complete) hasher?.abort();
        }
      }
      try {
        await s.content.write(body(), { digest: d.digest, size: d.size }, hints.signal);
      } finally {
        stream.destroy();
      }
      if (hints.diffId) {
        let got: Digest | undefined = isUncompressedLayer(d.mediaType) ? d.digest : undefined;
        if (hasher) {
          try { got = await hasher.result(); } catch (e) {
            throw new SbxError('digest_mismatch', `layer ${d.digest}: cannot decompress (${(e as Error).message})`, { cause: e });
          }
        }
        if (got !== undefined && got !== hints.diffId) {
          throw new SbxError('digest_mismatch', `layer ${d.digest}: uncompressed content hashes to ${got}, the image config says ${hints.diffId}`);
        }
      }
    },
    async commit(top, bytes, signal) {
      await s.content.write(bytes, { digest: top.digest, size: top.size }, signal);
      signal?.throwIfAborted();
      if (name) await s.images.put(name, top);
    },
  };
}

export interface LocalSourceOptions {
  /** Present uncompressed layers gzip-compressed (pushes). */
  compress?: boolean;
  /** Where compressed digests are cached per diffID. */
  cacheDir?: string;
  /** The top descriptor when already resolved (else the image store's tag `name`). */
  target?: Descriptor;
  /**
   * Where a layer compressed now (not cached) is streamed while it is being compressed: a push
   * uploads it then (see ImageDestination.putStream). Layers it took are added to `sent`.
   */
  sink?: CompressedSink;
  sent?: Set<string>;
}

/** The local image `name` as a source. */
export function localSource(s: LocalStores, name: string, opts: LocalSourceOptions = {}): ImageSource {
  const docs = new Map<string, Buffer>();
  let shown = name;
  try { shown = familiarString(parseReference(name)); } catch { /* keep as given */ }
  return {
    name: `local image ${shown}`,
    async resolve(signal) {
      const target = opts.target ?? (await s.images.get(name)).target;
      if (!opts.compress || INDEX_MEDIA_TYPES.includes(target.mediaType)) return target;
      return pushView(s, target, docs, opts, signal);
    },
    async fetch(d) {
      const doc = docs.get(d.digest);
      if (doc) return Readable.from([doc]);
      if (!(await s.content.has(d.digest))) throw new SbxError('not_found', `local image ${shown}: blob ${d.digest} is missing from the content store`);
      return s.content.read(d.digest);
    },
  };
}

async function pushView(s: LocalStores, target: Descriptor, docs: Map<string, Buffer>, opts: LocalSourceOptions, signal?: AbortSignal): Promise<Descriptor> {
  const bytes = await s.content.readBytes(target.digest);
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  if (!Array.isArray(manifest.layers) || !manifest.layers.some((l) => isUncompressedLayer(l.mediaType))) return target;
  const layers = await Promise.all(manifest.layers.map(async (l) => {
    if (!isUncompressedLayer(l.mediaType)) return l;
    const z = await compressLayer(s.content, l, { cacheDir: opts.cacheDir!, ...(signal ? { signal } : {}), ...(opts.sink ? { sink: opts.sink } : {}) });
    if (z.sunk) opts.sent?.add(z.descriptor.digest);
    return { ...l, ...z.descriptor };
  }));
  const out = Buffer.from(JSON.stringify({ ...manifest, layers }));
  const d: Descriptor = { mediaType: target.mediaType, digest: sha256(out), size: out.length };
  docs.set(d.digest, out);
  return d;
}
