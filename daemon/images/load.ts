/**
 * `sbx load`: an OCI archive (a tar of an OCI image layout, as `skopeo copy … oci-archive:` and
 * `sbx save --format oci` write) or a `docker save` archive (manifest.json + config + layer
 * files, as docker, podman and `skopeo copy … docker-archive:` write), plain or gzip-compressed,
 * with plain or gzip layers.
 *
 * Every digest is verified: blobs named by digest hash to their names, manifests and configs to
 * their descriptors, and each layer, uncompressed, to the config's rootfs.diff_ids. Layers are
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
import tar from 'tar-stream';
import {
  INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType, REF_NAME_ANNOTATION, SbxError, familiarString, isDigest, parseReference,
  type Descriptor, type Digest, type ImageConfig, type Index, type LoadResult, type Manifest,
} from '../../protocol/index.js';
import { decompress, unsafePath } from '../archive/check.js';
import type { Services } from '../services.js';
import { collectGarbage } from './gc.js';
import { hostPlatform, loadImage, pickManifest } from './resolve.js';
import { moveTag, normalizeTag } from './store.js';

const MEM_LIMIT = 1024 * 1024;
/** Small files are held in memory (manifests, configs, tiny layers), up to this much in all. */
const MEM_TOTAL = 64 * 1024 * 1024;
const CONTAINERD_NAME = 'io.containerd.image.name';

type Entry = { kind: 'mem'; buf: Buffer; digest: Digest } | { kind: 'cas'; digest: Digest; size: number };

interface Loaded { target: Descriptor; names: string[]; configDigest: Digest }

const sha = (b: Uint8Array): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function loadArchive(s: Services, body: Readable, signal?: AbortSignal): Promise<LoadResult> {
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
            const named = [...tags.values()].some((t) => t.target.digest === img.target.digest);
            if (!named && !untagged.some((u) => u.digest === img.target.digest)) untagged.push(img.target);
          }
        }
      });
      return result;
    });
    if (replaced) await collectGarbage(s);
    return loaded;
  } catch (e) {
    if (written.size) await collectGarbage(s, { only: written }).catch((ge) => s.log.warn('load cleanup', { error: String(ge) }));
    throw e;
  }
}

function familiar(name: string): string {
  try { return familiarString(parseReference(name)); } catch { return name; }
}

/** Read every regular file (small ones in memory, large ones straight into the content store) and symlink. */
async function readArchive(s: Services, body: Readable, written: Set<Digest>, signal?: AbortSignal): Promise<Map<string, Entry | { kind: 'link'; target: string }>> {
  const { stream, empty } = await decompress(body as AsyncIterable<Buffer>, 'load');
  if (empty) throw new SbxError('invalid_argument', 'load: empty input (give an archive written by sbx save, docker save, podman save or skopeo)');
  const files = new Map<string, Entry | { kind: 'link'; target: string }>();
  const extract = tar.extract();
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
class ArchiveBlobs {
  constructor(readonly s: Services, private readonly files: Map<string, Entry | { kind: 'link'; target: string }>, private readonly written: Set<Digest>) {}

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

  /** sha256 of the layer uncompressed (gzip detected by media type or magic). */
  async diffId(path: string, mediaType: string | undefined): Promise<Digest> {
    const e = this.entry(path, 'layer');
    if (mediaType?.includes('zstd')) throw new SbxError('not_implemented', `load: layer ${path} is zstd-compressed; sbx handles tar and tar+gzip layers`);
    if (e.kind === 'mem') {
      if (e.buf[0] === 0x1f && e.buf[1] === 0x8b) {
        try { return sha(gunzipSync(e.buf)); } catch (err) { throw new SbxError('invalid_argument', `load: layer ${path}: bad gzip data: ${(err as Error).message}`); }
      }
      return e.digest;
    }
    const head = await firstBytes(await this.s.content.read(e.digest), 2);
    if (!(head[0] === 0x1f && head[1] === 0x8b)) return e.digest;
    const hash = createHash('sha256');
    const gunzip = createGunzip();
    const src = await this.s.content.read(e.digest);
    src.on('error', (err) => gunzip.destroy(err));
    try {
      for await (const c of src.pipe(gunzip)) hash.update(c as Buffer);
    } catch (err) {
      throw new SbxError('invalid_argument', `load: layer ${path}: bad gzip data: ${(err as Error).message}`);
    }
    return `sha256:${hash.digest('hex')}`;
  }
}

async function firstBytes(r: Readable, n: number): Promise<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const c of r) { buf = Buffer.concat([buf, c as Buffer]); if (buf.length >= n) break; }
  r.destroy();
  return buf;
}

function digestFromName(path: string): Digest | undefined {
  const m = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json|\.tar)?$/.exec(path);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

async function checkConfigAndLayers(ctx: ArchiveBlobs, config: ImageConfig, layerDiffIds: Digest[], what: string): Promise<void> {
  const want = config.rootfs?.diff_ids;
  if (!Array.isArray(want)) throw new SbxError('invalid_argument', `load: ${what}: config has no rootfs.diff_ids`);
  if (want.length !== layerDiffIds.length) {
    throw new SbxError('invalid_argument', `load: ${what}: ${layerDiffIds.length} layers but the config lists ${want.length} diff_ids`);
  }
  layerDiffIds.forEach((d, i) => {
    if (want[i] !== d) throw new SbxError('digest_mismatch', `load: ${what}: layer ${i + 1} uncompressed hashes to ${d}, the config says ${want[i]}`);
  });
  void ctx;
}

// --- docker save format -----------------------------------------------------------------------

interface DockerManifestItem { Config: string; RepoTags?: string[] | null; Layers: string[] }

async function fromDockerArchive(ctx: ArchiveBlobs): Promise<Loaded[]> {
  const items = await ctx.json<DockerManifestItem[]>('manifest.json', 'file');
  if (!Array.isArray(items)) throw new SbxError('invalid_argument', 'load: manifest.json is not a list');
  const out: Loaded[] = [];
  for (const [i, item] of items.entries()) {
    if (!item || typeof item.Config !== 'string' || !Array.isArray(item.Layers)) {
      throw new SbxError('invalid_argument', `load: manifest.json entry ${i}: needs Config and Layers`);
    }
    const what = `image ${item.RepoTags?.[0] ?? i}`;
    const names = (item.RepoTags ?? []).map((t) => normalizeTag(t));
    const cfgExpect = digestFromName(item.Config);
    const cfg = await ctx.store(item.Config, 'config', cfgExpect ? { digest: cfgExpect } : undefined);
    const config = await ctx.json<ImageConfig>(item.Config, 'config');
    const layers: Descriptor[] = [];
    const diffIds: Digest[] = [];
    for (const lp of item.Layers) {
      const expect = digestFromName(lp);
      const diffId = await ctx.diffId(lp, undefined);
      const stored = await ctx.store(lp, 'layer');
      // A file named by a digest must be either its own digest or its diffID (docker names layers by either).
      if (expect && expect !== stored.digest && expect !== diffId) {
        throw new SbxError('digest_mismatch', `load: layer ${lp} hashes to ${stored.digest}, its name says ${expect}`);
      }
      const gz = stored.digest !== diffId;
      layers.push({ mediaType: gz ? MediaType.ociLayerGzip : MediaType.ociLayer, digest: stored.digest, size: stored.size });
      diffIds.push(diffId);
    }
    await checkConfigAndLayers(ctx, config, diffIds, what);
    const manifest: Manifest = {
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers,
    };
    const m = await ctx.s.content.write(Buffer.from(JSON.stringify(manifest)));
    out.push({ target: { mediaType: MediaType.ociManifest, digest: m.digest, size: m.size }, names, configDigest: cfg.digest });
  }
  return out;
}

// --- OCI image layout -------------------------------------------------------------------------

function blobPath(d: Descriptor): string {
  if (!isDigest(d.digest)) throw new SbxError('invalid_argument', `load: descriptor digest "${String(d.digest)}" is not sha256:<64 hex>`);
  return `blobs/sha256/${d.digest.slice(7)}`;
}

function nameOf(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  const full = a[CONTAINERD_NAME] ?? a[REF_NAME_ANNOTATION];
  if (!full) return [];
  try {
    const ref = parseReference(full);
    if (ref.digest) return [];
    return [normalizeTag(full)];
  } catch {
    return [];
  }
}

async function fromOciLayout(ctx: ArchiveBlobs): Promise<Loaded[]> {
  const index = await ctx.json<Index>('index.json', 'file');
  if (!Array.isArray(index.manifests)) throw new SbxError('invalid_argument', 'load: index.json has no manifests list');
  const out: Loaded[] = [];
  for (const top of index.manifests) {
    let desc = top;
    if (INDEX_MEDIA_TYPES.includes(desc.mediaType)) {
      await ctx.store(blobPath(desc), 'index', { digest: desc.digest, size: desc.size });
      const inner = await ctx.json<Index>(blobPath(desc), 'index');
      desc = pickManifest(inner, hostPlatform(), `in archive ${top.digest}`);
    }
    if (!MANIFEST_MEDIA_TYPES.includes(desc.mediaType)) continue; // artifacts and the like
    const path = blobPath(desc);
    await ctx.store(path, 'manifest', { digest: desc.digest, size: desc.size });
    const manifest = await ctx.json<Manifest>(path, 'manifest');
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new SbxError('invalid_argument', `load: manifest ${desc.digest} lacks config or layers`);
    await ctx.store(blobPath(manifest.config), 'config', { digest: manifest.config.digest, size: manifest.config.size });
    const config = await ctx.json<ImageConfig>(blobPath(manifest.config), 'config');
    const diffIds: Digest[] = [];
    for (const l of manifest.layers) {
      await ctx.store(blobPath(l), 'layer', { digest: l.digest, size: l.size });
      diffIds.push(await ctx.diffId(blobPath(l), l.mediaType));
    }
    await checkConfigAndLayers(ctx, config, diffIds, `image ${nameOf(top)[0] ?? desc.digest}`);
    out.push({ target: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, names: nameOf(top), configDigest: manifest.config.digest });
  }
  return out;
}
