/**
 * Manifests, tags, _catalog and referrers of the embedded registry. Manifest bytes are kept as
 * pushed (stored as a blob, served with the media type they were put with), so digests are
 * preserved byte for byte.
 */
import { MediaType, type Descriptor, type Digest } from '../../protocol/index.js';
import { sha256 } from '../content/verify.js';
import { RegistryError, checkDigest, checkName } from './errors.js';
import type { Exchange } from './exchange.js';
import type { ManifestEntry, RepositoryIndex } from './repos.js';
import type { RegCtx } from './server.js';

const MAX_MANIFEST = 4 * 1024 * 1024;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const ACCEPTED = new Set<string>([MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList]);
const INDEXES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);

type Ref = { tag: string } | { digest: Digest };

function parseRef(ref: string): Ref {
  if (ref.includes(':')) return { digest: checkDigest(ref) };
  if (!TAG_RE.test(ref)) throw new RegistryError('MANIFEST_INVALID', `invalid tag "${ref}"`);
  return { tag: ref };
}

/**
 * A reference to read or delete: a malformed tag can name no manifest, so it is unknown (404
 * MANIFEST_UNKNOWN, as the distribution spec's conformance suite expects), not a bad request.
 */
function lookupRef(rc: RegCtx, ref: string): Ref {
  if (!ref.includes(':') && !TAG_RE.test(ref)) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${rc.name}:${ref}: unknown (not a valid tag)`);
  return parseRef(ref);
}

async function resolve(rc: RegCtx, ref: Ref): Promise<{ digest: Digest; entry: ManifestEntry }> {
  const repo = await rc.repos.get(rc.name);
  if (!repo) throw new RegistryError('NAME_UNKNOWN', `repository ${rc.name}: not known to this registry`);
  const digest = 'tag' in ref ? repo.tags[ref.tag] : ref.digest;
  const entry = digest ? repo.manifests[digest] : undefined;
  if (!digest || !entry) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${rc.name}:${'tag' in ref ? ref.tag : ref.digest}: unknown`);
  return { digest, entry };
}

export async function getManifest(rc: RegCtx, reference: string): Promise<void> {
  const { digest, entry } = await resolve(rc, lookupRef(rc, reference));
  const { ctx } = rc;
  ctx.status = 200;
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('Etag', `"${digest}"`);
  if (ctx.method !== 'HEAD') ctx.body = await rc.content.readBytes(digest);
  ctx.set('Content-Type', entry.mediaType);
  ctx.length = entry.size;
}

async function readBody(ctx: Exchange): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of ctx.req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_MANIFEST) throw new RegistryError('SIZE_INVALID', `manifest larger than ${MAX_MANIFEST} bytes`, 413);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function descriptor(d: unknown, what: string): Descriptor {
  const x = d as Descriptor | undefined;
  if (!x || typeof x !== 'object' || typeof x.mediaType !== 'string' || typeof x.size !== 'number' || typeof x.digest !== 'string') {
    throw new RegistryError('MANIFEST_INVALID', `${what}: not a descriptor (mediaType, digest, size)`);
  }
  checkDigest(x.digest);
  return x;
}

export async function putManifest(rc: RegCtx, reference: string): Promise<void> {
  const ref = parseRef(reference);
  const body = await readBody(rc.ctx);
  const digest = sha256(body);
  if ('digest' in ref && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', `manifest put as ${ref.digest} hashes to ${digest}`);
  let doc: Record<string, unknown>;
  try { doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>; } catch (e) {
    throw new RegistryError('MANIFEST_INVALID', `manifest: not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || doc.schemaVersion !== 2) throw new RegistryError('MANIFEST_INVALID', 'manifest: schemaVersion must be 2');
  const contentType = rc.ctx.get('content-type').split(';')[0]!.trim();
  const mediaType = contentType || (typeof doc.mediaType === 'string' ? doc.mediaType : '') || (Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest);
  if (!ACCEPTED.has(mediaType)) throw new RegistryError('MANIFEST_INVALID', `manifest media type "${mediaType}" is not supported`);
  if (typeof doc.mediaType === 'string' && doc.mediaType !== mediaType) {
    throw new RegistryError('MANIFEST_INVALID', `manifest says mediaType ${doc.mediaType} but was put as ${mediaType}`);
  }
  const repo = await rc.repos.get(rc.name);
  const known = (d: Digest): boolean => !!repo && (repo.blobs.includes(d) || d in repo.manifests);
  const refs: Digest[] = [];
  let artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;
  if (INDEXES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new RegistryError('MANIFEST_INVALID', 'index: "manifests" must be an array');
    for (const [i, m] of doc.manifests.entries()) {
      const d = descriptor(m, `index manifests[${i}]`);
      if (!repo || !(d.digest in repo.manifests)) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest ${d.digest} (listed by the index): unknown to repository ${rc.name}`, 400, { digest: d.digest });
      refs.push(d.digest);
    }
  } else {
    const config = descriptor(doc.config, 'manifest config');
    if (!Array.isArray(doc.layers)) throw new RegistryError('MANIFEST_INVALID', 'manifest: "layers" must be an array');
    const layers = doc.layers.map((l, i) => descriptor(l, `manifest layers[${i}]`));
    for (const d of [config, ...layers]) {
      if (d.urls?.length) continue; // foreign layer: not expected here
      if (!known(d.digest) || !(await rc.content.has(d.digest))) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob ${d.digest} (listed by the manifest): unknown to repository ${rc.name}`, 400, { digest: d.digest });
      }
      refs.push(d.digest);
    }
    artifactType ??= config.mediaType;
  }
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'manifest subject');
  const entry: ManifestEntry = { mediaType, size: body.length, refs };
  if (subject) entry.subject = subject.digest;
  if (artifactType) entry.artifactType = artifactType;
  if (doc.annotations && typeof doc.annotations === 'object') entry.annotations = doc.annotations as Record<string, string>;
  await rc.withLock(async () => {
    await rc.content.write(body, { digest, size: body.length });
    await rc.repos.update(rc.name, (r) => {
      r.manifests[digest] = entry;
      if ('tag' in ref) r.tags[ref.tag] = digest;
    });
  });
  const { ctx } = rc;
  ctx.status = 201;
  ctx.set('Location', `/v2/${rc.name}/manifests/${digest}`);
  ctx.set('Docker-Content-Digest', digest);
  if (subject) ctx.set('OCI-Subject', subject.digest);
  ctx.length = 0;
}

export async function deleteManifest(rc: RegCtx, reference: string): Promise<void> {
  const ref = lookupRef(rc, reference);
  await resolve(rc, ref);
  await rc.repos.update(rc.name, (r) => {
    if ('tag' in ref) { delete r.tags[ref.tag]; return; }
    delete r.manifests[ref.digest];
    for (const [t, d] of Object.entries(r.tags)) if (d === ref.digest) delete r.tags[t];
  });
  rc.ctx.status = 202;
  rc.ctx.length = 0;
}

/** n/last pagination over a sorted list, with the Link header for the next page. */
function paginate(ctx: Exchange, all: string[], base: string): string[] {
  const nRaw = ctx.query.n;
  const last = typeof ctx.query.last === 'string' ? ctx.query.last : undefined;
  let list = last === undefined ? all : all.filter((x) => x > last);
  if (nRaw !== undefined) {
    const n = Number(nRaw);
    if (!Number.isInteger(n) || n < 0) throw new RegistryError('UNSUPPORTED', `invalid page size n=${String(nRaw)}`, 400);
    if (list.length > n) {
      list = list.slice(0, n);
      if (n > 0) ctx.set('Link', `<${base}?n=${n}&last=${encodeURIComponent(list[list.length - 1]!)}>; rel="next"`);
    }
  }
  return list;
}

export async function tagsList(rc: RegCtx): Promise<void> {
  const repo = await rc.repos.get(rc.name);
  if (!repo) throw new RegistryError('NAME_UNKNOWN', `repository ${rc.name}: not known to this registry`);
  const tags = paginate(rc.ctx, Object.keys(repo.tags).sort(), `/v2/${rc.name}/tags/list`);
  rc.ctx.status = 200;
  rc.ctx.body = { name: rc.name, tags };
}

export async function catalog(ctx: Exchange, repos: RepositoryIndex): Promise<void> {
  const names = paginate(ctx, await repos.names(), '/v2/_catalog');
  ctx.status = 200;
  ctx.body = { repositories: names.map(checkName) };
}

export async function referrers(rc: RegCtx, subject: Digest): Promise<void> {
  const repo = await rc.repos.get(rc.name);
  const filter = typeof rc.ctx.query.artifactType === 'string' ? rc.ctx.query.artifactType : undefined;
  const manifests: Descriptor[] = [];
  for (const [digest, m] of Object.entries(repo?.manifests ?? {})) {
    if (m.subject !== subject) continue;
    if (filter !== undefined && m.artifactType !== filter) continue;
    manifests.push({
      mediaType: m.mediaType, digest: digest as Digest, size: m.size,
      ...(m.artifactType ? { artifactType: m.artifactType } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    });
  }
  manifests.sort((a, b) => a.digest.localeCompare(b.digest));
  if (filter !== undefined) rc.ctx.set('OCI-Filters-Applied', 'artifactType');
  rc.ctx.status = 200;
  rc.ctx.body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
  rc.ctx.set('Content-Type', MediaType.ociIndex);
}
