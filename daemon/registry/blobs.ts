/**
 * Blobs and uploads of the embedded registry: blob GET/HEAD (byte ranges) and DELETE, monolithic
 * and chunked uploads (POST, PATCH, PUT, status, cancel) and cross-repository mounts. Every
 * upload is digest-verified before the blob is linked into its repository.
 */
import { SbxError, type Digest } from '../../protocol/index.js';
import { RegistryError, checkDigest, checkName } from './errors.js';
import { sendFileRange } from './send.js';
import type { RegCtx } from './server.js';
import type { UploadSession, Uploads } from './uploads.js';

/** Is `digest` linked in repository `name` (as a blob or a manifest)? */
async function linked(rc: RegCtx, digest: Digest): Promise<boolean> {
  const repo = await rc.repos.get(rc.name);
  return !!repo && (repo.blobs.includes(digest) || digest in repo.manifests);
}

async function link(rc: RegCtx, name: string, digest: Digest): Promise<void> {
  await rc.repos.update(name, (r) => { if (!r.blobs.includes(digest)) r.blobs.push(digest); });
}

export async function getBlob(rc: RegCtx, digest: Digest): Promise<void> {
  const { ctx } = rc;
  if (!(await linked(rc, digest)) || !(await rc.content.has(digest))) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest}: unknown to repository ${rc.name}`);
  const { size } = await rc.content.info(digest);
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Etag', `"${digest}"`);
  ctx.type = 'application/octet-stream';
  let start = 0;
  let end = size - 1;
  const range = /^bytes=(\d*)-(\d*)$/.exec(ctx.get('range'));
  if (range && (range[1] || range[2]) && size > 0) {
    if (range[1]) { start = Number(range[1]); if (range[2]) end = Math.min(Number(range[2]), size - 1); } else start = Math.max(0, size - Number(range[2]));
    if (start > end || start >= size) {
      ctx.set('Content-Range', `bytes */${size}`);
      throw new RegistryError('BLOB_UNKNOWN', `blob ${digest}: range not satisfiable`, 416);
    }
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${start}-${end}/${size}`);
  } else {
    ctx.status = 200;
  }
  ctx.length = end - start + 1;
  if (ctx.method === 'HEAD' || size === 0) return;
  const file = await rc.content.path(digest);
  // Headers are set; the body is written from reused buffers (see send.ts).
  await sendFileRange(ctx.detach(), file, start, end).catch((e: unknown) => {
    rc.log.debug('registry response stream', { error: e instanceof Error ? e.message : String(e) });
  });
}

export async function deleteBlob(rc: RegCtx, digest: Digest): Promise<void> {
  const found = await rc.repos.update(rc.name, (r) => {
    const i = r.blobs.indexOf(digest);
    if (i >= 0) r.blobs.splice(i, 1);
    return i >= 0;
  });
  if (!found) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest}: unknown to repository ${rc.name}`);
  rc.ctx.status = 202;
}

export function session(rc: RegCtx, uploads: Uploads, id: string): UploadSession {
  const s = uploads.get(rc.name, id);
  if (!s) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id}: unknown or expired in repository ${rc.name}`);
  return s;
}

function uploadHeaders(rc: RegCtx, s: UploadSession, status: number): void {
  rc.ctx.status = status;
  rc.ctx.set('Location', `/v2/${rc.name}/blobs/uploads/${s.id}`);
  rc.ctx.set('Range', `0-${Math.max(0, s.ingest.offset - 1)}`);
  rc.ctx.set('Docker-Upload-UUID', s.id);
  rc.ctx.length = 0;
}

function created(rc: RegCtx, digest: Digest): void {
  rc.ctx.status = 201;
  rc.ctx.set('Location', `/v2/${rc.name}/blobs/${digest}`);
  rc.ctx.set('Docker-Content-Digest', digest);
  rc.ctx.length = 0;
}

export async function startUpload(rc: RegCtx, uploads: Uploads): Promise<void> {
  const q = rc.ctx.query;
  const mount = typeof q.mount === 'string' ? q.mount : undefined;
  const from = typeof q.from === 'string' ? q.from : undefined;
  if (mount !== undefined) {
    const digest = checkDigest(mount);
    if (from !== undefined) {
      const src = await rc.repos.get(checkName(from));
      if (src && (src.blobs.includes(digest) || digest in src.manifests) && await rc.content.has(digest)) {
        await rc.withLock(() => link(rc, rc.name, digest));
        return created(rc, digest);
      }
    }
  }
  if (typeof q.digest === 'string') {
    const digest = checkDigest(q.digest);
    await rc.withLock(async () => {
      await rc.content.write(rc.ctx.req, { digest }).catch((e) => { throw badUpload(e, digest); });
      await link(rc, rc.name, digest);
    });
    return created(rc, digest);
  }
  uploadHeaders(rc, await uploads.start(rc.name), 202);
}

function badUpload(e: unknown, digest: string): unknown {
  if (e instanceof SbxError && e.code === 'digest_mismatch') return new RegistryError('DIGEST_INVALID', `upload of ${digest}: ${e.message}`);
  return e;
}

export function uploadStatus(rc: RegCtx, s: UploadSession): void {
  uploadHeaders(rc, s, 204);
}

export async function patchUpload(rc: RegCtx, uploads: Uploads, s: UploadSession): Promise<void> {
  await uploads.with(s, async () => {
    const cr = rc.ctx.get('content-range');
    if (cr) {
      const m = /^(?:bytes )?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(cr);
      if (!m) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${s.id}: malformed Content-Range "${cr}"`);
      const start = Number(m[1]);
      const end = Number(m[2]);
      if (start !== s.ingest.offset || end < start) {
        rc.ctx.set('Location', `/v2/${rc.name}/blobs/uploads/${s.id}`);
        rc.ctx.set('Range', `0-${Math.max(0, s.ingest.offset - 1)}`);
        throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${s.id}: chunk ${start}-${end} out of order, have ${s.ingest.offset} bytes`, 416);
      }
      const len = rc.ctx.get('content-length');
      if (len && Number(len) !== end - start + 1) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${s.id}: Content-Length ${len} does not match Content-Range ${cr}`, 416);
    }
    await s.ingest.append(rc.ctx.req);
  });
  uploadHeaders(rc, s, 202);
}

export async function finishUpload(rc: RegCtx, uploads: Uploads, s: UploadSession): Promise<void> {
  const q = rc.ctx.query.digest;
  if (typeof q !== 'string') throw new RegistryError('DIGEST_INVALID', `upload ${s.id}: the digest query parameter is required`);
  const digest = checkDigest(q);
  await uploads.with(s, () => rc.withLock(async () => {
    try {
      await s.ingest.append(rc.ctx.req);
      await s.ingest.commit({ digest });
    } catch (e) {
      await uploads.end(s, true);
      throw badUpload(e, digest);
    }
    await uploads.end(s, false);
    await link(rc, rc.name, digest);
  }));
  created(rc, digest);
}
