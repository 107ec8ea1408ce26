/**
 * `sbx load`: an OCI archive (a tar of an OCI image layout, as `skopeo copy … oci-archive:` and
 * `sbx save --format oci` write) or a `docker save` archive (manifest.json + config + layer
 * files, as docker, podman and `skopeo copy … docker-archive:` write), plain or gzip-compressed,
 * with plain or gzip layers.
 *
 * Every digest is verified: blobs named by digest hash to their names, manifests and configs to
 * their descriptors, and each layer, uncompressed, to the config's rootfs.diff_ids. In the same
 * pass each layer is parsed as a tar and checked as unpacking would check it (ImageTreeCheck):
 * an image whose layers a run would refuse is refused here, naming the image, the layer and the
 * entry, and nothing is tagged (docker load refuses such layers up front too). Layers are
 * kept as they came (a gzip layer stays gzip, so manifest digests survive a round trip); docker
 * archives become OCI manifests over the same config (the image ID does not change).
 *
 * Atomicity: blobs are written first, all tags in one index.json rewrite last, under gcLock
 * shared. A bad, truncated or corrupt archive fails with a clear error before any tag changes,
 * and the blobs it had written are collected; a crash leaves at most unreferenced blobs.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { extractor } from '../archive/tar-stream-patches.js';
import { MAGIC_LENGTH, detectCompression } from '../archive/compression.js';
import { SbxError, type Digest, type LoadResult } from '../../protocol/index.js';
import { decompress, unsafePath, type ImageTreeCheck } from '../archive/check.js';
import type { ImageDeps } from './deps.js';
import { collectGarbage } from './gc.js';
import { familiar, fromDockerArchive, fromOciLayout } from './load-formats.js';
import { loadImage } from './resolve.js';
import { keepUntagged, moveTag } from './store.js';

const MEM_LIMIT = 1024 * 1024;
/** Small files are held in memory (manifests, configs, tiny layers), up to this much in all. */
const MEM_TOTAL = 64 * 1024 * 1024;

type Entry = { kind: 'mem'; buf: Buffer; digest: Digest } | { kind: 'cas'; digest: Digest; size: number };

const sha = (b: Uint8Array): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function loadArchive(s: ImageDeps, body: Readable, signal?: AbortSignal): Promise<LoadResult> {
  const written = new Set<Digest>();
  let replaced = false;
  try {
    const loaded = await s.gcLock.withShared(async () => {
      const files = await readArchive(s, body, written, signal);
      const ctx = new ArchiveBlobs(s, files, written);
      const images = files.has('manifest.json') ? await fromDockerArchive(ctx) : files.has('index.json') ? await fromOciLayout(ctx) : undefined;
      if (!images) throw new SbxError('invalid_argument', 'load: the archive has neither manifest.json nor index.json (not a docker save or OCI archive)');
      if (images.length === 0) throw new SbxError('invalid_argument', 'load: the archive holds no image');
      const byName = new Map<string, Digest>();
      for (const img of images) {
        for (const n of img.names) {
          const prev = byName.get(n);
          if (prev && prev !== img.target.digest) throw new SbxError('invalid_argument', `load: the archive names ${familiar(n)} twice, for different images`);
          byName.set(n, img.target.digest);
        }
      }
      const result: LoadResult = { loaded: [], ids: [] };
      await s.images.update(async (tags, untagged) => {
        for (const img of images) {
          for (const n of img.names) {
            const old = tags.get(n)?.target;
            moveTag(tags, untagged, n, img.target);
            result.loaded.push(familiar(n));
            // The same image (same config) stored another way, e.g. with gzip layers: replace it
            // instead of leaving a dangling twin with the same ID.
            if (old && old.digest !== img.target.digest && untagged.some((u) => u.digest === old.digest)) {
              const cfg = await loadImage(s.content, old, old.digest).then((i) => i.configDigest, () => undefined);
              if (cfg === img.configDigest) { untagged.splice(untagged.findIndex((u) => u.digest === old.digest), 1); replaced = true; }
            }
          }
          if (img.names.length === 0) {
            result.ids.push(img.configDigest);
            keepUntagged(tags, untagged, img.target);
          }
        }
      });
      return result;
    });
    if (replaced) await collectGarbage(s);
    for (const n of [...loaded.loaded, ...loaded.ids]) s.events?.emit('image', 'load', n, { name: n });
    return loaded;
  } catch (e) {
    if (written.size) await collectGarbage(s, { only: written }).catch((ge) => s.log.warn('load cleanup', { error: String(ge) }));
    throw e;
  }
}

/** Read every regular file (small ones in memory, large ones straight into the content store) and symlink. */
async function readArchive(s: ImageDeps, body: Readable, written: Set<Digest>, signal?: AbortSignal): Promise<Map<string, Entry | { kind: 'link'; target: string }>> {
  const { stream, empty } = await decompress(body as AsyncIterable<Buffer>, 'load');
  if (empty) throw new SbxError('invalid_argument', 'load: empty input (give an archive written by sbx save, docker save, podman save or skopeo)');
  const files = new Map<string, Entry | { kind: 'link'; target: string }>();
  const extract = extractor();
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  let inMemory = 0;
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      const h = entry.header;
      const name = posix.normalize(h.name.replace(/^(\.\/)+/, '')).replace(/\/$/, '');
      const why = unsafePath(name);
      if (why) throw new SbxError('invalid_argument', `load: archive entry "${h.name}" has ${why}`);
      if (h.type === 'file' || h.type === 'contiguous-file') {
        if (h.size <= MEM_LIMIT && inMemory + h.size <= MEM_TOTAL) {
          inMemory += h.size;
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          const buf = Buffer.concat(chunks);
          files.set(name, { kind: 'mem', buf, digest: sha(buf) });
        } else {
          const info = await s.content.write(entry as unknown as AsyncIterable<Uint8Array>, { size: h.size }, signal);
          written.add(info.digest);
          files.set(name, { kind: 'cas', digest: info.digest, size: info.size });
        }
      } else {
        if ((h.type === 'symlink' || h.type === 'link') && h.linkname) {
          const target = h.type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), h.linkname)) : posix.normalize(h.linkname.replace(/^(\.\/)+/, ''));
          files.set(name, { kind: 'link', target });
        }
        entry.resume();
      }
    }
  } catch (e) {
    if (e instanceof SbxError) throw e;
    throw new SbxError('invalid_argument', `load: not a valid archive: ${(e as Error).message}`, { cause: e });
  }
  return files;
}

/** The archive's files, resolved through links, written to the content store on demand (verified). */
export class ArchiveBlobs {
  constructor(readonly s: ImageDeps, private readonly files: Map<string, Entry | { kind: 'link'; target: string }>, private readonly written: Set<Digest>) {}

  has(path: string): boolean { return this.files.has(path); }

  entry(path: string, what: string): Entry {
    let p = path.replace(/^(\.\/)+/, '');
    for (let i = 0; i < 16; i++) {
      const e = this.files.get(p);
      if (!e) break;
      if (e.kind !== 'link') return e;
      p = e.target;
    }
    throw new SbxError('invalid_argument', `load: ${what} ${path} is missing from the archive (truncated?)`);
  }

  async bytes(path: string, what: string): Promise<Buffer> {
    const e = this.entry(path, what);
    return e.kind === 'mem' ? e.buf : this.s.content.readBytes(e.digest);
  }

  async json<T>(path: string, what: string): Promise<T> {
    const buf = await this.bytes(path, what);
    try { return JSON.parse(buf.toString('utf8')) as T; } catch (e) {
      throw new SbxError('invalid_argument', `load: ${what} ${path} is not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Put the file into the content store; when `expect` is given, it must hash to it. */
  async store(path: string, what: string, expect?: { digest?: Digest; size?: number }): Promise<{ digest: Digest; size: number }> {
    const e = this.entry(path, what);
    const size = e.kind === 'mem' ? e.buf.length : e.size;
    if (expect?.digest && expect.digest !== e.digest) throw new SbxError('digest_mismatch', `load: ${what} ${path} hashes to ${e.digest}, expected ${expect.digest}`);
    if (expect?.size !== undefined && expect.size !== size) throw new SbxError('digest_mismatch', `load: ${what} ${path} has ${size} bytes, expected ${expect.size}`);
    if (e.kind === 'mem') {
      const info = await this.s.content.write(e.buf, { digest: e.digest, size });
      this.written.add(info.digest);
    }
    return { digest: e.digest, size };
  }

  /**
   * sha256 of the layer uncompressed (gzip detected by media type or magic), and in the same
   * pass the layer's entries checked against `tree` (the image's layers so far).
   */
  async diffId(path: string, mediaType: string | undefined, tree: ImageTreeCheck, image: string): Promise<Digest> {
    const e = this.entry(path, 'layer');
    if (mediaType?.includes('zstd')) throw new SbxError('not_implemented', `load: layer ${path} is zstd-compressed; sbx handles tar and tar+gzip layers`);
    const refuse = (err: unknown): never => {
      if (err instanceof SbxError && err.code === 'invalid_argument') {
        throw new SbxError('invalid_argument', `load: ${image}: layer ${e.digest}: ${err.message}; a container of it could not run, so it is not loaded`, { cause: err });
      }
      throw err;
    };
    if (e.kind === 'mem') {
      let tarBytes = e.buf;
      if (detectCompression(e.buf) === 'gzip') {
        try { tarBytes = gunzipSync(e.buf); } catch (err) { throw new SbxError('invalid_argument', `load: layer ${path}: bad gzip data: ${(err as Error).message}`); }
        await this.s.layerSizes.record(e.digest, tarBytes.length);
      }
      await tree.layer([tarBytes]).catch(refuse);
      return tarBytes === e.buf ? e.digest : sha(tarBytes);
    }
    const head = await firstBytes(await this.s.content.read(e.digest), MAGIC_LENGTH);
    if (detectCompression(head) !== 'gzip') {
      // Hashed when it was stored; read once more to check its entries.
      await tree.layer(await this.s.content.read(e.digest) as AsyncIterable<Buffer>).catch(refuse);
      return e.digest;
    }
    const hash = createHash('sha256');
    let size = 0;
    const gunzip = createGunzip();
    const src = await this.s.content.read(e.digest);
    src.on('error', (err) => gunzip.destroy(err));
    let gzError: Error | undefined;
    gunzip.on('error', (err) => { gzError = err; });
    const hashed = (async function* () { for await (const c of src.pipe(gunzip)) { hash.update(c as Buffer); size += (c as Buffer).length; yield c as Buffer; } })();
    try {
      await tree.layer(hashed);
    } catch (err) {
      if (gzError) throw new SbxError('invalid_argument', `load: layer ${path}: bad gzip data: ${gzError.message}`);
      refuse(err);
    }
    await this.s.layerSizes.record(e.digest, size);
    return `sha256:${hash.digest('hex')}`;
  }

  /** A blob made by the load (a manifest for a docker archive's image): collected if the load fails. */
  async put(buf: Buffer): Promise<{ digest: Digest; size: number }> {
    const info = await this.s.content.write(buf);
    this.written.add(info.digest);
    return info;
  }
}

async function firstBytes(r: Readable, n: number): Promise<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const c of r) { buf = Buffer.concat([buf, c as Buffer]); if (buf.length >= n) break; }
  r.destroy();
  return buf;
}
