/**
 * Garbage collection of the content store, and startup recovery of the image store.
 *
 * collectGarbage: mark every blob reachable from index.json (tags and untagged images: index →
 * manifests → config + layers + subject) and from the extra roots in services.gcRoots, then
 * delete the rest. It holds gcLock exclusive, so it never runs while an import, load, commit or
 * registry upload (which hold it shared from first blob to last tag) is half done. A blob whose
 * JSON cannot be read is kept (and its children are not followed): GC never guesses.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, type Descriptor, type Digest, type Index, type Manifest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import type { ImageDeps } from './deps.js';
import type { Logger } from '../util/log.js';
import type { ImageStore } from './store.js';

export type GcDeps = Pick<ImageDeps, 'content' | 'images' | 'gcLock' | 'gcRoots' | 'log'>;

/** Every digest reachable from the image store's index.json. */
export async function reachableFromImages(content: ContentStore, images: ImageStore): Promise<Set<Digest>> {
  return reachable(content, [...(await images.list()).map((i) => i.target), ...(await images.listUntagged())]);
}

/** Every digest reachable from `roots` (index → manifests → config + layers + subject). */
export async function reachable(content: ContentStore, roots: Iterable<Descriptor>): Promise<Set<Digest>> {
  const marked = new Set<Digest>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (marked.has(d.digest)) return;
    marked.add(d.digest);
    const isIndex = INDEX_MEDIA_TYPES.includes(d.mediaType);
    if (!isIndex && !MANIFEST_MEDIA_TYPES.includes(d.mediaType)) return;
    let doc: Partial<Index & Manifest>;
    try { doc = JSON.parse((await content.readBytes(d.digest)).toString('utf8')) as Partial<Index & Manifest>; } catch { return; }
    const children: Descriptor[] = [];
    if (Array.isArray(doc.manifests)) children.push(...doc.manifests);
    if (doc.config) children.push(doc.config);
    if (Array.isArray(doc.layers)) children.push(...doc.layers);
    if (doc.subject) children.push(doc.subject);
    for (const c of children) if (c && typeof c.digest === 'string') await visit(c);
  };
  for (const r of roots) await visit(r);
  return marked;
}

/**
 * Delete unreferenced blobs; with `only`, consider just those digests (used to drop what a
 * failed load wrote). Returns the digests deleted.
 */
export async function collectGarbage(s: GcDeps, opts: { only?: Iterable<Digest> } = {}): Promise<Digest[]> {
  return s.gcLock.withExclusive(async () => {
    const keep = await reachableFromImages(s.content, s.images);
    for (const root of s.gcRoots) for (const d of await root()) keep.add(d);
    const candidates: Digest[] = [];
    if (opts.only) candidates.push(...opts.only);
    else for await (const b of s.content.list()) candidates.push(b.digest);
    const deleted: Digest[] = [];
    for (const d of candidates) {
      if (keep.has(d)) continue;
      await s.content.delete(d);
      deleted.push(d);
    }
    if (deleted.length) s.log.info('garbage collected blobs', { count: deleted.length });
    return deleted;
  });
}

/** Scratch space for imports and loads, under $SBX_ROOT/tmp (emptied at startup). */
export async function scratchDir(root: string, prefix: string): Promise<string> {
  await mkdir(join(root, 'tmp'), { recursive: true, mode: 0o700 });
  return mkdtemp(join(root, 'tmp', prefix));
}

/**
 * Startup recovery: whatever a crash left half-done is removed — scratch trees under tmp/ and
 * the temp files of an interrupted index.json rewrite. (The content store empties its own ingest
 * area when it opens.) Blobs a killed load had already written stay unreferenced until the next
 * collection; the index never names a blob that is missing, because tags are written last.
 */
export async function recoverImages(root: string, log: Logger): Promise<void> {
  const tmp = join(root, 'tmp');
  const stale = await readdir(tmp).catch(() => [] as string[]);
  for (const name of stale) await rm(join(tmp, name), { recursive: true, force: true });
  const layout = join(root, 'oci');
  const temps = (await readdir(layout).catch(() => [] as string[])).filter((n) => /^\.index\.json\.tmp-/.test(n));
  for (const name of temps) await rm(join(layout, name), { force: true });
  if (stale.length || temps.length) log.info('recovered after an unclean stop', { scratch: stale.length, indexTemps: temps.length });
}
