/**
 * A tiny loopback registry that can lie: serves one image (config + one gzip layer) under
 * `/v2/<repo>/…` and lets a test break it (drop a blob, corrupt bytes, fail with 503/429 first,
 * demand a Bearer token from its own token endpoint). Only for the failure modes real registries
 * do not produce on demand; everything else is tested against real registries.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface FakeImage { manifest: Buffer; manifestDigest: string; config: Buffer; layer: Buffer; layerDigest: string; diffId: string }

export function fakeImage(text = 'fake layer bytes'): FakeImage {
  const raw = Buffer.from(text);
  const layer = gzipSync(raw);
  const diffId = sha(raw);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(layer), size: layer.length }],
  }));
  return { manifest, manifestDigest: sha(manifest), config, layer, layerDigest: sha(layer), diffId };
}

export interface FakeBehaviour {
  /** Answer 404 for this blob. */
  missingBlob?: string;
  /** Serve these bytes instead of the real blob. */
  corruptBlob?: { digest: string; bytes: Buffer };
  /** Send this Docker-Content-Digest for manifests. */
  lieManifestDigest?: string;
  /** The first N requests to blobs fail with this status (503, or 429 with Retry-After: 0). */
  failFirst?: { status: number; count: number };
  /** The first N downloads of the layer send half of it, then drop the connection. */
  resetLayer?: number;
  /** Send half of this blob, then stall (an interrupted transfer). */
  stallBlob?: string;
  /** Require "Bearer good-token" from the token endpoint at /token. */
  bearer?: boolean;
}

export interface FakeRegistry {
  host: string;
  image: FakeImage;
  behaviour: FakeBehaviour;
  requests: string[];
  tokenQueries: URLSearchParams[];
  close(): Promise<void>;
}

export async function startFakeRegistry(behaviour: FakeBehaviour = {}, image = fakeImage()): Promise<FakeRegistry> {
  const requests: string[] = [];
  const tokenQueries: URLSearchParams[] = [];
  let failures = 0;
  let host = '';
  const blobs = new Map<string, Buffer>([[sha(image.config), image.config], [image.layerDigest, image.layer]]);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/token') {
      tokenQueries.push(url.searchParams);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'good-token', expires_in: 300 }));
      return;
    }
    if (behaviour.bearer && req.headers.authorization !== 'Bearer good-token') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="fake-registry",scope="repository:x:pull"`, 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'token required' }] }));
      return;
    }
    if (url.pathname === '/v2/') { res.writeHead(200).end('{}'); return; }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) { res.writeHead(404).end(); return; }
    if (m[2] === 'manifests') {
      res.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'docker-content-digest': behaviour.lieManifestDigest ?? image.manifestDigest,
        'content-length': image.manifest.length,
      }).end(req.method === 'HEAD' ? undefined : image.manifest);
      return;
    }
    if (behaviour.failFirst && failures < behaviour.failFirst.count) {
      failures++;
      res.writeHead(behaviour.failFirst.status, behaviour.failFirst.status === 429 ? { 'retry-after': '0' } : {}).end();
      return;
    }
    const digest = m[3]!;
    const body = behaviour.corruptBlob?.digest === digest ? behaviour.corruptBlob.bytes : behaviour.missingBlob === digest ? undefined : blobs.get(digest);
    if (body && digest === image.layerDigest && (behaviour.resetLayer ?? 0) > 0) {
      behaviour.resetLayer!--;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (body && behaviour.stallBlob === digest) {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1));
      return;
    }
    if (!body) { res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] })); return; }
    res.writeHead(200, { 'content-length': body.length, 'docker-content-digest': digest }).end(req.method === 'HEAD' ? undefined : body);
  };
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  host = `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  return {
    host, image, behaviour, requests, tokenQueries,
    async close() { await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }); },
  };
}
