/**
 * ImageStore: tags → top-level descriptors (a manifest or an index), kept in the OCI layout's
 * index.json so that skopeo (`oci:$SBX_ROOT/oci:busybox`) and umoci read sbx's tags as they are.
 *
 * Naming: an image `name` is a normalised reference with a tag ("docker.io/library/busybox:latest").
 * On disk the `org.opencontainers.image.ref.name` annotation holds docker's familiar form, with
 * ":latest" left off ("busybox", "mysite:1", "127.0.0.1:5000/me/app:2"), because that is what
 * users type after `oci:DIR:`. Entries with other annotations (written by other tools) are kept.
 *
 * Contract
 * - Every change rewrites index.json atomically (temp, fsync, rename) under one mutex, so
 *   concurrent tag operations never lose each other's writes and a crash shows the old or the
 *   new index, never a mix.
 * - put() creates or moves a tag; the target's blobs must already be in the content store
 *   (callers write children before parents). When a tag moves away from an image that no other
 *   tag names, that image stays in the layout as an untagged ("dangling", docker's <none>:<none>)
 *   entry, so nothing a container or a user still refers to by ID disappears; `rmi` removes it.
 * - Untagged entries are index.json descriptors without a ref.name (also what other tools wrote).
 *
 * Errors: not_found (get/delete of an unknown tag), invalid_argument (a name that is not a
 * tagged reference).
 */
import { join } from 'node:path';
import {
  DEFAULT_TAG, MediaType, REF_NAME_ANNOTATION, SbxError,
  familiarString, formatReference, parseReference, type Descriptor, type Digest, type Index,
} from '../../protocol/index.js';
import { readJSONOr, writeJSON } from '../util/fs.js';
import { KeyedMutex } from '../util/lock.js';

/** Annotation sbx adds to remember when a tag was last moved (docker's Metadata.LastTagTime). */
export const TAGGED_AT_ANNOTATION = 'io.sbx.tagged-at';
/**
 * Annotation listing where the image is known to live in registries (docker's RepoDigests):
 * comma-separated "registry/repository@digest", set by pull and push only, so an image built or
 * imported locally has none. The digest is the registry's manifest digest, which for a pushed
 * image differs from the local one (its layers were compressed for the push).
 */
export const REPO_DIGESTS_ANNOTATION = 'io.sbx.repo-digests';

export interface Image {
  /** Normalised reference with tag: "docker.io/library/busybox:latest". */
  name: string;
  target: Descriptor;
  taggedAt: string;
  /** "docker.io/library/busybox@sha256:…" per registry repository it was pulled from or pushed to. */
  repoDigests: string[];
}

export interface ImageStore {
  /** @throws not_found */
  get(name: string): Promise<Image>;
  list(): Promise<Image[]>;
  /** Create or move a tag. Returns the stored image. */
  put(name: string, target: Descriptor): Promise<Image>;
  /** @throws not_found */
  delete(name: string): Promise<void>;
  /** Untagged (dangling) images: index.json entries without a ref.name. */
  listUntagged(): Promise<Descriptor[]>;
  /**
   * Several changes in one atomic index rewrite (e.g. `load` of many tags). `untagged` is the
   * mutable list of untagged entries; use moveTag() to get put()'s dangling rule and
   * keepUntagged() for an image stored without a name.
   */
  update(fn: (tags: Map<string, Image>, untagged: Descriptor[]) => void | Promise<void>): Promise<void>;
}

/**
 * Point tag `name` (normalised) at `target` inside an update(): the image it named before becomes
 * untagged if no other tag names it; `target` stops being untagged.
 */
export function moveTag(tags: Map<string, Image>, untagged: Descriptor[], name: string, target: Descriptor): Image {
  const key = normalizeTag(name);
  const old = tags.get(key);
  // Repo digests belong to the image: a new tag for it shares those its other names have.
  const known = new Set<string>();
  for (const t of tags.values()) if (t.target.digest === target.digest) for (const r of t.repoDigests) known.add(r);
  for (const u of untagged) if (u.digest === target.digest) for (const r of parseRepoDigests(u.annotations?.[REPO_DIGESTS_ANNOTATION])) known.add(r);
  const stored: Image = {
    name: key,
    target: { mediaType: target.mediaType, digest: target.digest, size: target.size, ...(target.platform ? { platform: target.platform } : {}) },
    taggedAt: new Date().toISOString(),
    repoDigests: [...known].sort(),
  };
  tags.set(key, stored);
  for (let i = untagged.length - 1; i >= 0; i--) if (untagged[i]!.digest === target.digest) untagged.splice(i, 1);
  if (old && old.target.digest !== target.digest) {
    const stillNamed = [...tags.values()].some((t) => t.target.digest === old.target.digest);
    if (!stillNamed && !untagged.some((u) => u.digest === old.target.digest)) {
      untagged.push({
        mediaType: old.target.mediaType, digest: old.target.digest, size: old.target.size,
        ...(old.repoDigests.length ? { annotations: { [REPO_DIGESTS_ANNOTATION]: old.repoDigests.join(',') } } : {}),
      });
    }
  }
  return stored;
}

/**
 * Keep `target` inside an update() as an untagged image (an import/commit/load without a name,
 * a pull by digest): added once, and only if no tag names it already.
 */
export function keepUntagged(tags: Map<string, Image>, untagged: Descriptor[], target: Descriptor): void {
  if (untagged.some((u) => u.digest === target.digest)) return;
  if ([...tags.values()].some((t) => t.target.digest === target.digest)) return;
  untagged.push(target);
}

export function parseRepoDigests(value: string | undefined): string[] {
  return value ? value.split(',').filter((r) => /^[^@,]+@sha256:[a-f0-9]{64}$/.test(r)) : [];
}

/**
 * Record inside an update() that the image `target` (a local digest) is `repository@digest` in
 * a registry (normalised repository, "127.0.0.1:5000/me/app"), on every entry naming it. An
 * earlier digest for the same repository is replaced (docker keeps the latest per repository).
 */
export function addRepoDigest(tags: Map<string, Image>, untagged: Descriptor[], target: Digest, repository: string, digest: Digest): void {
  const add = (list: string[]): string[] => [...list.filter((r) => !r.startsWith(`${repository}@`)), `${repository}@${digest}`].sort();
  for (const t of tags.values()) if (t.target.digest === target) t.repoDigests = add(t.repoDigests);
  for (const u of untagged) {
    if (u.digest !== target) continue;
    u.annotations = { ...u.annotations, [REPO_DIGESTS_ANNOTATION]: add(parseRepoDigests(u.annotations?.[REPO_DIGESTS_ANNOTATION])).join(',') };
  }
}

/** The ref.name annotation for a normalised name. */
export function refNameFor(name: string): string {
  const ref = parseReference(name);
  if (ref.tag === DEFAULT_TAG && !ref.digest) delete ref.tag;
  return familiarString(ref);
}

/** Normalised tagged name for a ref.name annotation, or undefined if it is not a reference. */
export function nameFromRefName(refName: string): string | undefined {
  try {
    const ref = parseReference(refName);
    if (ref.digest) return undefined;
    return formatReference(ref);
  } catch {
    return undefined;
  }
}

export function normalizeTag(name: string): string {
  const ref = parseReference(name);
  if (ref.digest) throw new SbxError('invalid_argument', `tag "${name}": a tag cannot contain a digest`);
  return formatReference(ref);
}

export async function openImageStore(layout: string): Promise<ImageStore> {
  return new LayoutImageStore(join(layout, 'index.json'));
}

class LayoutImageStore implements ImageStore {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly indexPath: string) {}

  private async readIndex(): Promise<Index> {
    const idx = await readJSONOr<Index>(this.indexPath, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    if (!Array.isArray(idx.manifests)) throw new SbxError('internal', `read ${this.indexPath}: "manifests" is not an array`);
    return idx;
  }

  private split(idx: Index): { tags: Map<string, Image>; foreign: Descriptor[] } {
    const tags = new Map<string, Image>();
    const foreign: Descriptor[] = [];
    for (const d of idx.manifests) {
      const refName = d.annotations?.[REF_NAME_ANNOTATION];
      const name = refName === undefined ? undefined : nameFromRefName(refName);
      if (name === undefined) { foreign.push(d); continue; }
      const { [TAGGED_AT_ANNOTATION]: taggedAt, [REPO_DIGESTS_ANNOTATION]: repoDigests, ...rest } = d.annotations ?? {};
      delete rest[REF_NAME_ANNOTATION];
      const target: Descriptor = { ...d };
      if (Object.keys(rest).length) target.annotations = rest; else delete target.annotations;
      tags.set(name, { name, target, taggedAt: taggedAt ?? '', repoDigests: parseRepoDigests(repoDigests) });
    }
    return { tags, foreign };
  }

  private join(tags: Map<string, Image>, foreign: Descriptor[]): Index {
    const manifests: Descriptor[] = [...foreign];
    for (const img of [...tags.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      manifests.push({
        ...img.target,
        annotations: {
          ...img.target.annotations, [REF_NAME_ANNOTATION]: refNameFor(img.name), [TAGGED_AT_ANNOTATION]: img.taggedAt,
          ...(img.repoDigests.length ? { [REPO_DIGESTS_ANNOTATION]: img.repoDigests.join(',') } : {}),
        },
      });
    }
    return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  }

  async get(name: string): Promise<Image> {
    const key = normalizeTag(name);
    const img = this.split(await this.readIndex()).tags.get(key);
    if (!img) throw new SbxError('not_found', `image ${shortName(key)}: no such image`);
    return img;
  }

  async list(): Promise<Image[]> {
    return [...this.split(await this.readIndex()).tags.values()];
  }

  async put(name: string, target: Descriptor): Promise<Image> {
    normalizeTag(name);
    let stored!: Image;
    await this.update((tags, untagged) => { stored = moveTag(tags, untagged, name, target); });
    return stored;
  }

  async listUntagged(): Promise<Descriptor[]> {
    return this.split(await this.readIndex()).foreign;
  }

  async delete(name: string): Promise<void> {
    const key = normalizeTag(name);
    await this.update((tags) => {
      if (!tags.delete(key)) throw new SbxError('not_found', `image ${shortName(key)}: no such image`);
    });
  }

  async update(fn: (tags: Map<string, Image>, untagged: Descriptor[]) => void | Promise<void>): Promise<void> {
    await this.mutex.run('index', async () => {
      const { tags, foreign } = this.split(await this.readIndex());
      await fn(tags, foreign);
      for (const [k, v] of tags) if (k !== v.name) throw new SbxError('internal', `image store update: key ${k} names ${v.name}`);
      await writeJSON(this.indexPath, this.join(tags, foreign));
    });
  }
}

function shortName(name: string): string {
  try { return familiarString(parseReference(name)); } catch { return name; }
}

