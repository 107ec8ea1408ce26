/**
 * The embedded OCI registry, on bare node:http like the API (exchange.ts): the distribution spec
 * v1.1 (/v2/ ping, blobs, chunked and monolithic uploads, cross-repository mount, manifests, tags
 * with pagination, _catalog, referrers) over the daemon's ContentStore, or one of its own.
 * Routing is the table below; handlers live in blobs.ts and manifests.ts.
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
import { deleteBlob, finishUpload, getBlob, patchUpload, session, startUpload, uploadStatus } from './blobs.js';
import { RegistryError, checkDigest, checkName, fromSbxError } from './errors.js';
import { Exchange } from './exchange.js';
import { loadHtpasswd, type Htpasswd } from './htpasswd.js';
import { catalog, deleteManifest, getManifest, putManifest, referrers, tagsList } from './manifests.js';
import { RepositoryIndex } from './repos.js';
import { Uploads } from './uploads.js';

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
