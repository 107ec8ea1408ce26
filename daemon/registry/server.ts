/**
 * The embedded OCI registry on bare node:http (the API's stack; exchange.ts), speaking the distribution spec v1.1 (/v2/ ping, blobs,
 * chunked and monolithic uploads, cross-repository mount, manifests, tags with pagination,
 * _catalog, referrers) over the daemon's ContentStore, or one of its own.
 *
 * Naming: the registry's repositories and tags live in their own RepositoryIndex
 * (`<root>/repositories/`, see repos.ts), never in the local image store's index.json, so a
 * `docker push` to the embedded registry does not create or move an `sbx images` tag. Blobs are
 * shared with the content store (stored once), linked per repository.
 *
 * Every upload is digest-verified before it becomes visible; an abandoned upload session expires
 * after `uploadTtlMs`; with `htpasswd` set every request needs Basic credentials from it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { SbxError, type Digest } from '../../protocol/index.js';
import type { ContentStore } from '../content/store.js';
import type { SharedLock } from '../util/lock.js';
import type { Logger } from '../util/log.js';
import { RegistryError, checkDigest, checkName, fromSbxError } from './errors.js';
import { Exchange } from './exchange.js';
import { loadHtpasswd, type Htpasswd } from './htpasswd.js';
import { catalog, deleteManifest, getManifest, putManifest, referrers, tagsList } from './manifests.js';
import { RepositoryIndex } from './repos.js';
import { sendFileRange } from './send.js';
import { Uploads, type UploadSession } from './uploads.js';

export interface RegistryServerDeps {
  content: ContentStore;
  /** Directory for the registry's own state (the repository index): $SBX_ROOT/registry. */
  root: string;
  log: Logger;
  /** An htpasswd file (bcrypt entries); every request then needs Basic auth. */
  htpasswd?: string;
  /** Idle upload sessions are aborted after this long (default 15 min). */
  uploadTtlMs?: number;
  /** Held shared while blobs are written and linked (the daemon's gcLock). */
  gcLock?: SharedLock;
}

export interface RegistryApp {
  /** The request listener for an http.Server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  repos: RepositoryIndex;
  uploads: Uploads;
  close(): Promise<void>;
}

export interface RegistryServer {
  /** "http://127.0.0.1:5000" */
  readonly url: string;
  /** "127.0.0.1:5000" */
  readonly host: string;
  readonly app: RegistryApp;
  close(): Promise<void>;
}

/** What handlers get: the exchange plus the registry's parts. */
export interface RegCtx {
  ctx: Exchange;
  name: string;
  content: ContentStore;
  repos: RepositoryIndex;
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  log: Logger;
}

const ROUTES: [RegExp, string][] = [
  [/^\/v2\/?$/, 'ping'],
  [/^\/v2\/_catalog$/, 'catalog'],
  [/^\/v2\/(.+)\/tags\/list$/, 'tags'],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, 'manifest'],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, 'upload-start'],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, 'upload'],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, 'blob'],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, 'referrers'],
];

export async function createRegistryApp(deps: RegistryServerDeps): Promise<RegistryApp> {
  const repos = await RepositoryIndex.open(join(deps.root, 'repositories'));
  const uploads = new Uploads(deps.content, deps.uploadTtlMs ?? 15 * 60_000);
  const auth: Htpasswd | undefined = deps.htpasswd ? await loadHtpasswd(deps.htpasswd) : undefined;
  const withLock = <T>(fn: () => Promise<T>): Promise<T> => (deps.gcLock ? deps.gcLock.withShared(fn) : fn());
  const serve = async (ctx: Exchange): Promise<void> => {
    ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
    try {
      if (auth && !(await auth.check(ctx.get('authorization')))) {
        ctx.set('WWW-Authenticate', 'Basic realm="sbx-registry"');
        throw new RegistryError('UNAUTHORIZED', 'authentication required');
      }
      await dispatch(ctx, { content: deps.content, repos, uploads, withLock, log: deps.log });
    } catch (err) {
      const e = fromSbxError(err);
      if (!e) deps.log.error('registry request failed', { method: ctx.method, url: ctx.req.url, error: err instanceof Error ? err.stack : String(err) });
      const re = e ?? new RegistryError('UNSUPPORTED', 'internal error', 500);
      ctx.status = re.status;
      ctx.type = 'application/json';
      ctx.body = re.body();
    }
    ctx.respond();
  };

  return {
    handle(req, res) {
      const ctx = new Exchange(req, res);
      serve(ctx).catch((e: unknown) => {
        deps.log.error('registry response failed', { method: ctx.method, url: req.url, error: e instanceof Error ? e.stack : String(e) });
        res.destroy();
      });
    },
    repos, uploads,
    async close() { await uploads.close(); },
  };
}

interface Parts { content: ContentStore; repos: RepositoryIndex; uploads: Uploads; withLock: RegCtx['withLock']; log: Logger }

async function dispatch(ctx: Exchange, p: Parts): Promise<void> {
  const path = ctx.path;
  const method = ctx.method;
  for (const [re, kind] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    if (kind === 'ping') { ctx.status = 200; ctx.type = 'application/json'; ctx.body = '{}'; return; }
    if (kind === 'catalog') { if (method !== 'GET') break; return catalog(ctx, p.repos); }
    const rc: RegCtx = { ctx, name: checkName(m[1]!), content: p.content, repos: p.repos, withLock: p.withLock, log: p.log };
    const ref = m[2] ?? '';
    switch (`${kind} ${method}`) {
      case 'tags GET': return tagsList(rc);
      case 'manifest GET': case 'manifest HEAD': return getManifest(rc, ref);
      case 'manifest PUT': return putManifest(rc, ref);
      case 'manifest DELETE': return deleteManifest(rc, ref);
      case 'referrers GET': return referrers(rc, checkDigest(ref));
      case 'blob GET': case 'blob HEAD': return getBlob(rc, checkDigest(ref));
      case 'blob DELETE': return deleteBlob(rc, checkDigest(ref));
      case 'upload-start POST': return startUpload(rc, p.uploads);
      case 'upload GET': return uploadStatus(rc, session(rc, p.uploads, ref));
      case 'upload PATCH': return patchUpload(rc, p.uploads, session(rc, p.uploads, ref));
      case 'upload PUT': return finishUpload(rc, p.uploads, session(rc, p.uploads, ref));
      case 'upload DELETE': { const s = session(rc, p.uploads, ref); await p.uploads.with(s, () => p.uploads.end(s, true)); ctx.status = 204; return; }
      default: throw new RegistryError('UNSUPPORTED', `${method} ${path}: method not allowed`);
    }
  }
  throw new RegistryError('UNSUPPORTED', `${method} ${path}: no such endpoint`, 404);
}

/** Is `digest` linked in repository `name` (as a blob or a manifest)? */
async function linked(rc: RegCtx, digest: Digest): Promise<boolean> {
  const repo = await rc.repos.get(rc.name);
  return !!repo && (repo.blobs.includes(digest) || digest in repo.manifests);
}

async function link(rc: RegCtx, name: string, digest: Digest): Promise<void> {
  await rc.repos.update(name, (r) => { if (!r.blobs.includes(digest)) r.blobs.push(digest); });
}

async function getBlob(rc: RegCtx, digest: Digest): Promise<void> {
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

async function deleteBlob(rc: RegCtx, digest: Digest): Promise<void> {
  const found = await rc.repos.update(rc.name, (r) => {
    const i = r.blobs.indexOf(digest);
    if (i >= 0) r.blobs.splice(i, 1);
    return i >= 0;
  });
  if (!found) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest}: unknown to repository ${rc.name}`);
  rc.ctx.status = 202;
}

function session(rc: RegCtx, uploads: Uploads, id: string): UploadSession {
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

async function startUpload(rc: RegCtx, uploads: Uploads): Promise<void> {
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

function uploadStatus(rc: RegCtx, s: UploadSession): void {
  uploadHeaders(rc, s, 204);
}

async function patchUpload(rc: RegCtx, uploads: Uploads, s: UploadSession): Promise<void> {
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

async function finishUpload(rc: RegCtx, uploads: Uploads, s: UploadSession): Promise<void> {
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

/** Listen on "host:port" ("127.0.0.1:5000", "[::1]:5000", ":5000" = all interfaces). */
export async function startRegistry(deps: RegistryServerDeps, addr: string): Promise<RegistryServer> {
  const { host, port } = parseAddr(addr);
  const reg = await createRegistryApp(deps);
  const server: Server = createServer(reg.handle);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new SbxError('unavailable', `registry listen on ${addr}: ${(e as Error).message}`, { cause: e })));
    server.listen(port, host || undefined, () => resolve());
  });
  const a = server.address();
  const bound = typeof a === 'object' && a ? a.port : port;
  const shown = `${host && host.includes(':') ? `[${host}]` : host || '0.0.0.0'}:${bound}`;
  return {
    url: `http://${shown}`,
    host: shown,
    app: reg,
    async close() {
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
      await reg.close();
    },
  };
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new SbxError('invalid_argument', `registry address "${addr}": expected HOST:PORT, e.g. 127.0.0.1:5000`);
  return { host: m[1] ?? m[2] ?? '', port };
}
