/**
 * The two archive formats `sbx load` reads, over the archive's files (load.ts ArchiveBlobs):
 * `docker save` (manifest.json + config + layer files; each image becomes an OCI manifest over
 * the same config) and an OCI image layout (index.json + blobs). Each layer is hashed to its
 * diffID and checked as unpacking would check it, in the image's layer order.
 */
import {
  INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType, REF_NAME_ANNOTATION, SbxError, familiarString, isDigest, parseReference,
  type Descriptor, type Digest, type ImageConfig, type Index, type Manifest,
} from '../../protocol/index.js';
import { ImageTreeCheck } from '../archive/check.js';
import type { ArchiveBlobs } from './load.js';
import { hostPlatform, pickManifest } from './resolve.js';
import { normalizeTag } from './store.js';
import { LAYER_MEDIA_TYPE } from './unpack.js';

const CONTAINERD_NAME = 'io.containerd.image.name';

/** One image of the archive: what to tag, and its ID. */
export interface Loaded { target: Descriptor; names: string[]; configDigest: Digest }

export function familiar(name: string): string {
  try { return familiarString(parseReference(name)); } catch { return name; }
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

export async function fromDockerArchive(ctx: ArchiveBlobs): Promise<Loaded[]> {
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
    const tree = new ImageTreeCheck();
    for (const lp of item.Layers) {
      const expect = digestFromName(lp);
      const diffId = await ctx.diffId(lp, undefined, tree, what);
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
    const m = await ctx.put(Buffer.from(JSON.stringify(manifest)));
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

export async function fromOciLayout(ctx: ArchiveBlobs): Promise<Loaded[]> {
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
    const what = `image ${familiar(nameOf(top)[0] ?? desc.digest)}`;
    const tree = new ImageTreeCheck();
    for (const l of manifest.layers) {
      if (typeof l?.mediaType !== 'string' || !LAYER_MEDIA_TYPE.test(l.mediaType)) {
        throw new SbxError('invalid_argument', `load: ${what}: layer ${String(l?.digest)} has media type ${JSON.stringify(l?.mediaType)}, not a tar layer sbx can unpack`);
      }
      await ctx.store(blobPath(l), 'layer', { digest: l.digest, size: l.size });
      diffIds.push(await ctx.diffId(blobPath(l), l.mediaType, tree, what));
    }
    await checkConfigAndLayers(ctx, config, diffIds, what);
    out.push({ target: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, names: nameOf(top), configDigest: manifest.config.digest });
  }
  return out;
}
