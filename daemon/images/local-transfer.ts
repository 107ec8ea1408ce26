/**
 * The local store (ContentStore + ImageStore) as an ImageSource and an ImageDestination.
 *
 * localDestination verifies every blob as it is written (the content store checks digest and
 * size) and, for layers, that the uncompressed bytes hash to the diffID the config lists (large
 * layers: in the background, see layer-checks.ts); the tag is set only in commit(), after every
 * blob is in. Callers hold services.gcLock shared around
 * the whole copy.
 *
 * localSource with `compress` presents a push view: uncompressed layers are replaced by their
 * gzip form (compressed in parallel across layers, cached per diffID), so the manifest a registry
 * receives differs from the local one only in those layer descriptors.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  INDEX_MEDIA_TYPES, SbxError, familiarString, parseReference, type Descriptor, type Digest, type Manifest,
} from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { sha256 } from '../content/verify.js';
import { isLent, lendFile } from '../util/lent.js';
import { compressLayer, type CompressedSink } from './compress.js';
import { diffIdHasher } from './diffid.js';
import type { LayerChecks } from './layer-checks.js';
import type { LayerSizes } from './layer-sizes.js';
import { addRepoDigest, keepUntagged, moveTag, type ImageStore } from './store.js';
import { isGzipLayer, isUncompressedLayer, type ImageDestination, type ImageSource } from './transfer.js';

export interface LocalStores { content: ContentStore; images: ImageStore }

/**
 * Groups network chunks into batches of ~1 MiB (at most 256 chunks) without copying them: the
 * store writes a batch with one writev (fewer syscalls, promises and hash calls than one write
 * per 64 KiB chunk; a Buffer.concat into fresh memory cost a fifth of a pull's CPU).
 */
async function* batches(src: AsyncIterable<Buffer>, min = 1 << 20): AsyncGenerator<Buffer[]> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    parts.push(c);
    n += c.length;
    if (n < min && parts.length < 256) continue;
    yield parts;
    parts = [];
    n = 0;
  }
  if (parts.length) yield parts;
}

/** Layers at least this large have their diffID checked after the pull (LayerChecks), smaller ones while stored. */
export const DEFER_MIN = 8 * 1024 * 1024;

/**
 * Pull into the local store; `name` (a tagged reference) is set in commit(), if given. With
 * `checks`, a large gzip layer is usable once its compressed digest verifies and its diffID is
 * checked in the background (see layer-checks.ts); without, or for a small layer, the diffID is
 * checked as the layer is stored and a mismatch fails the put. With `layerSizes`, what a gzip
 * layer decompressed to is recorded (the check of a deferred one records it: layer-checks.ts).
 */
export interface LocalDestinationOptions {
  /**
   * The registry repository pulled from ("127.0.0.1:5000/me/app"): commit() records the digest the
   * source resolved as the image's repo digest, in the same index write as the tag.
   */
  repository?: string;
  /** Deferred diffID checks start once this settles (a pull's end), not while the pull still writes. */
  checksAfter?: Promise<unknown>;
}

export function localDestination(s: LocalStores & { layerChecks?: LayerChecks; layerSizes?: LayerSizes }, name: string | undefined, opts: LocalDestinationOptions = {}): ImageDestination {
  const checks = s.layerChecks;
  return {
    name: 'the local store',
    async has(d) { return !checks?.failed(d.digest) && s.content.has(d.digest); },
    async put(d, open, hints = {}) {
      const src = await open();
      const gzip = hints.diffId !== undefined && isGzipLayer(d.mediaType);
      const defer = gzip && checks !== undefined && d.size >= DEFER_MIN;
      const hasher = gzip && !defer ? diffIdHasher() : undefined;
      // A deferred check is recorded while the layer downloads; the blob becomes visible (the
      // store renames it in after the last chunk) only once the record is on disk.
      let storedOk!: () => void;
      let storedFailed!: (e: unknown) => void;
      const stored = new Promise<void>((res, rej) => { storedOk = res; storedFailed = rej; });
      stored.catch(() => undefined);
      const recorded = defer ? checks.defer(d, hints.diffId!, opts.checksAfter ? stored.then(() => opts.checksAfter!.catch(() => undefined)) : stored) : undefined;
      recorded?.catch(() => undefined);
      // Each batch reaches the diffID hasher after the store has hashed and written it. Lent
      // chunks are large already and go one by one (the store uses each up before the next);
      // the hasher, which keeps what it is fed for a while, gets a copy.
      async function* body(): AsyncGenerator<Buffer[] | Uint8Array> {
        let complete = false;
        try {
          if (isLent(src)) {
            for await (const c of src) {
              yield c;
              if (hasher) await hasher.feed(Buffer.from(c));
            }
          } else {
            for await (const batch of batches(src)) {
              yield batch;
              if (hasher) for (const c of batch) await hasher.feed(c);
            }
          }
          await recorded;
          complete = true;
          hasher?.end();
        } finally {
          if (!complete) hasher?.abort();
        }
      }
      try {
        await s.content.write(body(), { digest: d.digest, size: d.size }, hints.signal);
        storedOk();
      } catch (e) {
        storedFailed(e);
        throw e;
      } finally {
        if (isLent(src)) src.cancel(); else src.destroy();
      }
      if (defer) return;
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
        if (hasher) await s.layerSizes?.record(d.digest, hasher.bytes());
      }
    },
    async commit(top, bytes, signal, resolved) {
      await s.content.write(bytes, { digest: top.digest, size: top.size }, signal);
      signal?.throwIfAborted();
      const { repository } = opts;
      if (!name && !repository) return;
      await s.images.update((tags, untagged) => {
        if (name) moveTag(tags, untagged, name, top);
        else keepUntagged(tags, untagged, { mediaType: top.mediaType, digest: top.digest, size: top.size });
        // docker records the digest the registry gave (the index's, for a multi-platform image).
        if (repository) addRepoDigest(tags, untagged, top.digest, repository, (resolved ?? top).digest);
      });
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
  /**
   * Read blobs without hashing them again (pushes): the destination verifies, as a registry
   * refuses an upload whose bytes do not hash to the digest it is named by (DIGEST_INVALID).
   * Saves a sha256 pass over every layer on the pushing side.
   */
  unverified?: boolean;
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
      if (opts.unverified) return createReadStream(await s.content.path(d.digest), { highWaterMark: 1 << 20 });
      return s.content.read(d.digest);
    },
    // Pushes read a layer into a few recycled buffers, each sent before it is read into again.
    ...(opts.unverified ? {
      async fetchLent(d: Descriptor) {
        if (docs.has(d.digest) || !(await s.content.has(d.digest))) throw new SbxError('not_found', `local image ${shown}: blob ${d.digest} is missing from the content store`);
        return lendFile(await s.content.path(d.digest));
      },
    } : {}),
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
