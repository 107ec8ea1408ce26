/**
 * RegistryClient: an OCI distribution-spec v1.1 client. A reference's repository becomes an
 * ImageSource (pull: manifests and indexes, OCI and Docker schema2, blobs) or an
 * ImageDestination (push: HEAD before upload, cross-repository mount, monolithic upload up to
 * `chunkSize` and chunked PATCH uploads with Content-Range above it, manifest PUT with its media
 * type). Verification of pulled bytes is the destination's (the content store checks digest and
 * size); the client checks that manifests hash to what the registry and the reference say.
 */
import { Readable } from 'node:stream';
import {
  INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType, SbxError, formatReference,
  type Descriptor, type Digest, type Reference,
} from '../../protocol/index.js';
import { sha256 } from '../content/verify.js';
import { toReadable } from '../util/lent.js';
import type { ImageDestination, ImageSource } from '../images/transfer.js';
import { Authenticator, CredentialStore, basicHeader, type Credentials } from './auth.js';
import { Transport, type HttpReply } from './transport.js';

export interface RegistryClientOptions {
  credentials: CredentialStore;
  /** Registries ("host:port") reached over plain HTTP besides loopback ones. */
  insecure?: string[];
  /**
   * Blobs larger than this are sent in PATCH chunks of this size (Content-Range), each buffered
   * so that a chunk can be retried. Default: none, every blob is streamed in one monolithic PUT
   * (docker and skopeo also send a whole blob in one request, a streamed PATCH).
   */
  chunkSize?: number;
  retries?: number;
  backoffMs?: number;
}

const ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].join(', ');
const MAX_MANIFEST = 4 * 1024 * 1024;

const isManifestType = (t: string): boolean => INDEX_MEDIA_TYPES.includes(t) || MANIFEST_MEDIA_TYPES.includes(t);

export class RegistryClient {
  private readonly transports = new Map<string, Transport>();
  private readonly auth: Authenticator;

  constructor(private readonly opts: RegistryClientOptions) {
    this.auth = new Authenticator((host) => opts.credentials.get(host));
  }

  /** `insecure`: allow plain HTTP to this registry for this use (`--insecure`). */
  transport(registry: string, insecure = false): Transport {
    const key = `${registry}|${insecure}`;
    let t = this.transports.get(key);
    if (!t) {
      const plain = [...(this.opts.insecure ?? []), ...(insecure ? [registry] : [])];
      t = new Transport(registry, {
        auth: this.auth,
        insecure: plain,
        ...(this.opts.retries !== undefined ? { retries: this.opts.retries } : {}),
        ...(this.opts.backoffMs !== undefined ? { backoffMs: this.opts.backoffMs } : {}),
      });
      this.transports.set(key, t);
    }
    return t;
  }

  /**
   * Check credentials against a registry's /v2/ (Basic, or a token for the realm it names).
   * @throws unauthorized (wrong user or password), unavailable
   */
  async checkLogin(registry: string, creds: Credentials, opts: { insecure?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = opts;
    const auth = new Authenticator(async () => creds);
    const t = new Transport(registry, { auth, retries: 1, insecure: [...(this.opts.insecure ?? []), ...(opts.insecure ? [registry] : [])] });
    let res: HttpReply;
    try {
      res = await t.request({ method: 'GET', path: '/v2/', scope: '', headers: { authorization: basicHeader(creds) }, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (e instanceof SbxError && e.code === 'unauthorized') throw new SbxError('unauthorized', `login to ${registry}: wrong user name or password for ${creds.username}`);
      throw e;
    }
    await res.discard();
    if (!res.ok) throw new SbxError('unavailable', `login to ${registry}: /v2/ answered HTTP ${res.status}`);
  }

  /** The tags of a repository, all pages. */
  async tags(ref: Reference, opts: { insecure?: boolean; signal?: AbortSignal } = {}): Promise<string[]> {
    const { signal } = opts;
    const t = this.transport(ref.registry, opts.insecure);
    const out: string[] = [];
    let path: string | undefined = `/v2/${ref.repository}/tags/list`;
    while (path) {
      const res = await t.request({ method: 'GET', path, scope: `repository:${ref.repository}:pull`, ...(signal ? { signal } : {}) });
      if (!res.ok) throw new SbxError(res.status === 404 ? 'not_found' : 'unavailable', `list tags of ${formatReference(ref)}: ${await Transport.explain(res)}`);
      out.push(...((await res.json()) as { tags?: string[] }).tags ?? []);
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      path = link?.[1];
    }
    return out;
  }

  source(ref: Reference, opts: { insecure?: boolean } = {}): ImageSource {
    const t = this.transport(ref.registry, opts.insecure);
    const scope = `repository:${ref.repository}:pull`;
    const name = formatReference(ref);
    const docs = new Map<string, Buffer>();
    const getManifest = async (reference: string, signal?: AbortSignal): Promise<{ bytes: Buffer; mediaType: string; digest: Digest }> => {
      const res = await t.request({ method: 'GET', path: `/v2/${ref.repository}/manifests/${reference}`, scope, headers: { accept: ACCEPT }, ...(signal ? { signal } : {}) });
      if (res.status === 404) throw new SbxError('not_found', `pull ${name}: manifest ${reference} not found in ${ref.registry} (${await Transport.explain(res)})`);
      if (!res.ok) throw new SbxError('unavailable', `pull ${name}: manifest ${reference}: ${await Transport.explain(res)}`);
      const bytes = await res.bytes(MAX_MANIFEST).catch((e: unknown) => {
        throw e instanceof SbxError ? new SbxError('invalid_argument', `pull ${name}: manifest larger than ${MAX_MANIFEST} bytes`) : e;
      });
      const digest = sha256(bytes);
      const claimed = res.headers.get('docker-content-digest');
      if (claimed && claimed !== digest) throw new SbxError('digest_mismatch', `pull ${name}: registry ${ref.registry} sent a manifest hashing to ${digest} but called it ${claimed}`);
      if (reference.startsWith('sha256:') && reference !== digest) throw new SbxError('digest_mismatch', `pull ${name}: registry ${ref.registry} sent a manifest hashing to ${digest} for ${reference}`);
      let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      if (!isManifestType(mediaType)) {
        const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
        mediaType = doc.mediaType && isManifestType(doc.mediaType) ? doc.mediaType : Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
      }
      docs.set(digest, bytes);
      return { bytes, mediaType, digest };
    };
    const blobPath = (d: Descriptor): string => `/v2/${ref.repository}/blobs/${d.digest}`;
    const blobBody = async <B>(res: HttpReply<B>, d: Descriptor): Promise<B> => {
      if (res.status === 404) {
        await res.discard();
        throw new SbxError('not_found', `pull ${name}: blob ${d.digest} listed by the manifest is missing from registry ${ref.registry}`);
      }
      if (!res.ok) throw new SbxError('unavailable', `pull ${name}: blob ${d.digest}: ${await Transport.explain(res)}`);
      return res.body;
    };
    return {
      name,
      async resolve(signal) {
        const m = await getManifest(ref.digest ?? ref.tag ?? 'latest', signal);
        return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
      },
      async fetch(d, signal) {
        const cached = docs.get(d.digest);
        if (cached) return Readable.from([cached]);
        if (isManifestType(d.mediaType)) return Readable.from([(await getManifest(d.digest, signal)).bytes]);
        return blobBody(await t.request({ method: 'GET', path: blobPath(d), scope, ...(signal ? { signal } : {}) }), d);
      },
      async fetchLent(d, signal) {
        return blobBody(await t.download({ path: blobPath(d), scope, ...(signal ? { signal } : {}) }), d);
      },
    };
  }

  /** `mountFrom`: other repositories of the same registry that may hold the blobs already. */
  destination(ref: Reference, opts: { mountFrom?: string[]; insecure?: boolean } = {}): ImageDestination {
    const t = this.transport(ref.registry, opts.insecure);
    const repo = ref.repository;
    const scope = `repository:${repo}:pull,push`;
    const name = formatReference(ref);
    const chunkSize = this.opts.chunkSize ?? Infinity;
    const mountFrom = (opts.mountFrom ?? []).filter((r) => r !== repo);
    const fail = async (what: string, res: HttpReply): Promise<never> => {
      throw new SbxError(res.status === 404 ? 'not_found' : res.status === 403 ? 'unauthorized' : 'unavailable', `push ${name}: ${what}: ${await Transport.explain(res)}`);
    };
    const location = (res: HttpReply): string => {
      const loc = res.headers.get('location');
      if (!loc) throw new SbxError('unavailable', `push ${name}: registry ${ref.registry} started an upload without a Location`);
      return new URL(loc, t.base).toString();
    };
    const withDigest = (loc: string, digest: string): string => {
      const u = new URL(loc);
      u.searchParams.set('digest', digest);
      return u.toString();
    };
    return {
      name,
      async has(d, signal) {
        const kind = isManifestType(d.mediaType) ? 'manifests' : 'blobs';
        const res = await t.request({ method: 'HEAD', path: `/v2/${repo}/${kind}/${d.digest}`, scope, ...(signal ? { signal } : {}) });
        await res.discard();
        if (res.status === 404) return false;
        if (!res.ok) return fail(`HEAD ${d.digest}`, res);
        return true;
      },
      async put(d, open, hints = {}) {
        const signal = hints.signal;
        const sig = signal ? { signal } : {};
        let res: HttpReply | undefined;
        for (const from of mountFrom) {
          res = await t.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/?mount=${d.digest}&from=${encodeURIComponent(from)}`, scope: `${scope} repository:${from}:pull`, ...sig });
          await res.discard();
          if (res.status === 201) return { mountedFrom: from };
          if (res.status === 202) break;
        }
        if (!res || res.status !== 202) {
          res = await t.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scope, headers: { 'content-length': '0' }, ...sig });
          await res.discard();
          if (res.status !== 202) return fail(`start upload of ${d.digest}`, res);
        }
        let loc = location(res);
        let done: HttpReply;
        if (d.size <= chunkSize) {
          done = await t.request({
            method: 'PUT', path: withDigest(loc, d.digest), scope, ...sig,
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(d.size) },
            body: open,
          });
        } else {
          let offset = 0;
          const stream = toReadable(await open());
          let pending: Buffer[] = [];
          let n = 0;
          const send = async (): Promise<void> => {
            const chunk = Buffer.concat(pending, n);
            pending = [];
            n = 0;
            const r = await t.request({
              method: 'PATCH', path: loc, scope, ...sig, body: () => chunk,
              headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${offset + chunk.length - 1}` },
            });
            await r.discard();
            if (r.status !== 202) return fail(`upload chunk ${offset}-${offset + chunk.length - 1} of ${d.digest}`, r);
            offset += chunk.length;
            loc = location(r);
          };
          for await (const c of stream as AsyncIterable<Buffer>) {
            pending.push(c);
            n += c.length;
            if (n >= chunkSize) await send();
          }
          if (n > 0) await send();
          done = await t.request({ method: 'PUT', path: withDigest(loc, d.digest), scope, headers: { 'content-length': '0' }, ...sig });
        }
        if (done.status !== 201) return fail(`upload ${d.digest}`, done);
        await done.discard();
        const got = done.headers.get('docker-content-digest');
        if (got && got !== d.digest) throw new SbxError('digest_mismatch', `push ${name}: registry ${ref.registry} stored ${d.digest} as ${got}`);
      },
      // POST, one streamed PATCH of the bytes as they come (as docker sends a blob), then the
      // closing PUT with the digest, known only now.
      async putStream(body, done, signal) {
        const sig = signal ? { signal } : {};
        let res = await t.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scope, headers: { 'content-length': '0' }, ...sig });
        await res.discard();
        if (res.status !== 202) return fail('start upload', res);
        res = await t.request({ method: 'PATCH', path: location(res), scope, ...sig, retries: 0, headers: { 'content-type': 'application/octet-stream' }, body: () => body });
        await res.discard();
        if (res.status !== 202 && res.status !== 204) return fail('upload', res);
        const loc = location(res);
        const { digest } = await done;
        res = await t.request({ method: 'PUT', path: withDigest(loc, digest), scope, headers: { 'content-length': '0' }, ...sig });
        await res.discard();
        if (res.status !== 201) return fail(`upload ${digest}`, res);
        const got = res.headers.get('docker-content-digest');
        if (got && got !== digest) throw new SbxError('digest_mismatch', `push ${name}: registry ${ref.registry} stored ${digest} as ${got}`);
      },
      async commit(top, bytes, signal) {
        const reference = ref.tag ?? ref.digest ?? top.digest;
        const res = await t.request({
          method: 'PUT', path: `/v2/${repo}/manifests/${reference}`, scope, ...(signal ? { signal } : {}),
          headers: { 'content-type': top.mediaType }, body: () => bytes,
        });
        if (res.status !== 201 && res.status !== 200) return fail(`put manifest ${reference}`, res);
        await res.discard();
        const got = res.headers.get('docker-content-digest');
        if (got && got !== top.digest) throw new SbxError('digest_mismatch', `push ${name}: registry ${ref.registry} stored the manifest as ${got}, expected ${top.digest}`);
      },
    };
  }
}

export { CredentialStore };
