/**
 * Resolve what a user types where docker accepts an image — to the manifest and config it names.
 *
 * Accepted forms, tried in docker's order:
 *   - a full image ID: "sha256:<64 hex>" or "<64 hex>" (config digest; a manifest digest works too)
 *   - a reference: "busybox", "me/app:1" (a tag in the store), "name@sha256:…" (a stored image
 *     whose manifest, or index, has that digest)
 *   - a short ID prefix (at least 4 hex digits) of a config digest, when no tag of that name exists
 *
 * Contract
 * - Manifests, indexes and configs are read through ContentStore.readBytes (digest-verified) and
 *   their size checked against the descriptor; a tag that points at an index resolves to the
 *   manifest for the host platform (linux/amd64 here), as docker does.
 * - Nothing is written.
 *
 * Errors (SbxError codes)
 * - not_found: "image foo: no such image"; also an index without a manifest for the platform.
 * - invalid_argument: a malformed reference; a short ID prefix that matches several images.
 * - failed_precondition: a stored manifest/config that is not valid JSON of the expected shape.
 */
import {
  INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, SbxError, familiarString, formatReference, isDigest, looksLikeImageId,
  parseReference, type Descriptor, type Digest, type ImageConfig, type Index, type Manifest, type Platform,
} from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import { REPO_DIGESTS_ANNOTATION, parseRepoDigests, type ImageStore } from './store.js';

export interface ImageStores { content: ContentStore; images: ImageStore }

export interface LoadedImage {
  /** What index.json points at for this image: a manifest or an index. */
  target: Descriptor;
  /** The platform manifest's descriptor (= target unless target is an index). */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** The image ID, as docker shows it. */
  configDigest: Digest;
}

export interface ResolvedImage extends LoadedImage {
  /** The tag it was found by, normalised ("docker.io/library/busybox:latest"); unset for IDs and digests. */
  name?: string;
}

/** A stored image: one index.json target with every tag that names it (none when dangling). */
export interface StoredImage extends LoadedImage {
  names: string[];
  /** Where registries hold it ("docker.io/library/busybox@sha256:…"), from pull and push. */
  repoDigests: string[];
}

export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

function noSuchImage(input: string): SbxError {
  return new SbxError('not_found', `image ${input}: no such image`);
}

/** Read a JSON blob named by `desc`, verified (digest and size). */
export async function readJSONBlob<T>(content: ContentStore, desc: Descriptor, what: string): Promise<T> {
  const buf = await content.readBytes(desc.digest);
  if (desc.size !== undefined && buf.length !== desc.size) {
    throw new SbxError('digest_mismatch', `read ${what} ${desc.digest}: ${buf.length} bytes, descriptor says ${desc.size}`);
  }
  try {
    const v = JSON.parse(buf.toString('utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as T;
  } catch (e) {
    throw new SbxError('failed_precondition', `read ${what} ${desc.digest}: ${(e as Error).message}`, { cause: e });
  }
}

/** Pick the manifest for `platform` from an index (docker's default platform matcher, reduced). */
export function pickManifest(index: Index, platform: Platform, what: string): Descriptor {
  const manifests = (index.manifests ?? []).filter((m) => MANIFEST_MEDIA_TYPES.includes(m.mediaType) && isDigest(m.digest));
  const exact = manifests.find((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture
    && (!platform.variant || m.platform?.variant === platform.variant));
  const found = exact ?? (manifests.length === 1 && !manifests[0]!.platform ? manifests[0] : undefined);
  if (!found) throw new SbxError('not_found', `image ${what}: no manifest for ${platform.os}/${platform.architecture}`);
  return found;
}

/** Load the manifest and config behind a stored target (manifest or index). */
export async function loadImage(content: ContentStore, target: Descriptor, what: string, platform: Platform = hostPlatform()): Promise<LoadedImage> {
  let descriptor = target;
  if (INDEX_MEDIA_TYPES.includes(target.mediaType)) {
    const index = await readJSONBlob<Index>(content, target, 'index');
    descriptor = pickManifest(index, platform, what);
  } else if (!MANIFEST_MEDIA_TYPES.includes(target.mediaType)) {
    throw new SbxError('failed_precondition', `image ${what}: ${target.mediaType} is not an image manifest`);
  }
  const manifest = await readJSONBlob<Manifest>(content, descriptor, 'manifest');
  if (!manifest.config || !isDigest(manifest.config.digest) || !Array.isArray(manifest.layers)) {
    throw new SbxError('failed_precondition', `read manifest ${descriptor.digest}: missing config or layers`);
  }
  const config = await readJSONBlob<ImageConfig>(content, manifest.config, 'image config');
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) {
    throw new SbxError('failed_precondition', `read image config ${manifest.config.digest}: missing rootfs.diff_ids`);
  }
  return { target, descriptor, manifest, config, configDigest: manifest.config.digest };
}

/**
 * Every stored image (tagged and dangling), one entry per distinct target, names sorted.
 * Targets that cannot be loaded (not a manifest for this platform) are skipped.
 */
export async function listStoredImages(s: ImageStores, platform: Platform = hostPlatform()): Promise<StoredImage[]> {
  const byDigest = new Map<string, { target: Descriptor; names: string[]; repoDigests: Set<string> }>();
  for (const img of await s.images.list()) {
    const e = byDigest.get(img.target.digest) ?? { target: img.target, names: [], repoDigests: new Set<string>() };
    e.names.push(img.name);
    for (const r of img.repoDigests) e.repoDigests.add(r);
    byDigest.set(img.target.digest, e);
  }
  for (const d of await s.images.listUntagged()) {
    if (!byDigest.has(d.digest)) byDigest.set(d.digest, { target: d, names: [], repoDigests: new Set(parseRepoDigests(d.annotations?.[REPO_DIGESTS_ANNOTATION])) });
  }
  const out: StoredImage[] = [];
  for (const { target, names, repoDigests } of byDigest.values()) {
    try {
      out.push({ ...(await loadImage(s.content, target, target.digest, platform)), names: names.sort(), repoDigests: [...repoDigests].sort() });
    } catch (e) {
      if (e instanceof SbxError && (e.code === 'not_found' || e.code === 'failed_precondition')) continue;
      throw e;
    }
  }
  return out;
}

/** Resolve user input to one image. See the module comment for the forms and errors. */
export async function resolveImage(s: ImageStores, input: string, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
  if (typeof input !== 'string' || input.length === 0) throw new SbxError('invalid_argument', 'image reference: empty');
  const full = /^(sha256:)?[a-f0-9]{64}$/.test(input) ? (`sha256:${input.replace(/^sha256:/, '')}` as Digest) : undefined;
  if (full) {
    const all = await listStoredImages(s, platform);
    const hit = all.find((i) => i.configDigest === full) ?? all.find((i) => i.descriptor.digest === full || i.target.digest === full);
    if (!hit) throw noSuchImage(input);
    return strip(hit);
  }
  let ref;
  try {
    ref = parseReference(input);
  } catch (e) {
    if (looksLikeImageId(input)) return byPrefix(s, input, platform);
    throw e;
  }
  if (ref.digest) {
    const digest = ref.digest;
    const all = await listStoredImages(s, platform);
    const repo = `${ref.registry}/${ref.repository}`;
    // A pushed image is known by the registry's digest too (its layers were compressed for the push).
    const matches = all.filter((i) => i.target.digest === digest || i.descriptor.digest === digest || i.repoDigests.includes(`${repo}@${digest}`));
    const hit = matches.find((i) => i.names.some((n) => n.startsWith(`${repo}:`))) ?? matches[0];
    if (!hit) throw noSuchImage(input);
    return strip(hit);
  }
  const name = formatReference(ref);
  const tagged = (await s.images.list()).find((i) => i.name === name);
  if (tagged) {
    return { name, ...(await loadImage(s.content, tagged.target, familiarString(ref), platform)) };
  }
  if (looksLikeImageId(input)) return byPrefix(s, input, platform);
  throw noSuchImage(input);
}

async function byPrefix(s: ImageStores, input: string, platform: Platform): Promise<ResolvedImage> {
  const prefix = `sha256:${input.replace(/^sha256:/, '')}`;
  const all = await listStoredImages(s, platform);
  const matches = all.filter((i) => i.configDigest.startsWith(prefix));
  const ids = new Set(matches.map((m) => m.configDigest));
  if (ids.size === 0) throw noSuchImage(input);
  if (ids.size > 1) {
    throw new SbxError('invalid_argument', `image ${input}: short ID is ambiguous (matches ${[...ids].map((d) => d.slice(7, 19)).join(', ')})`);
  }
  // Several targets with one config (e.g. the same image stored twice): prefer a tagged one.
  return strip(matches.find((m) => m.names.length > 0) ?? matches[0]!);
}

function strip(img: StoredImage): ResolvedImage {
  const { names: _names, repoDigests: _repoDigests, ...rest } = img;
  return rest;
}
