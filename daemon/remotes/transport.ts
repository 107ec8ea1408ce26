/**
 * HTTP to one registry: scheme choice (plain HTTP only for loopback hosts or those named
 * insecure), the auth challenge (auth.ts), and retries with backoff for connection resets, 5xx
 * and 429 (honouring Retry-After). Request bodies are factories so that a retry can send them
 * again. Errors are SbxErrors that name the registry and say what to do.
 *
 * On node:http(s), not the global fetch: fetch's web streams copy every chunk of a blob (on a
 * 2-core machine that CPU is taken from the registry at the other end: a 100 MB push took 2×
 * skopeo's time), and its first use in a process loads undici (~40 ms of a pull's start).
 */
import * as http from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { SbxError } from '../../protocol/index.js';
import { isLent, lendStream, type LentChunks } from '../util/lent.js';
import type { Authenticator } from './auth.js';
import { lendingGet } from './lending-get.js';

export interface TransportOptions {
  auth: Authenticator;
  /** Hosts ("host:port") reached over plain HTTP besides loopback ones. */
  insecure?: string[];
  /** Retries after the first attempt for transient failures (default 4). */
  retries?: number;
  /** First backoff delay; doubles each retry (default 250 ms). */
  backoffMs?: number;
}

/** A registry's answer: status, headers, and the body (a Node stream, or lent chunks from download()); read it or discard it. */
export interface HttpReply<B = Readable> {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: B;
  discard(): Promise<void>;
  bytes(limit?: number): Promise<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

type RequestBody = Uint8Array | Readable | LentChunks;

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path ("/v2/…") or an absolute URL (a Location header). */
  path: string;
  /** "repository:NAME:pull" or "…:pull,push" */
  scope: string;
  headers?: Record<string, string>;
  /** The request body, made again for a retry: bytes, or a stream piped as it is read, or lent chunks each sent before the next is asked for. */
  body?: () => RequestBody | Promise<RequestBody>;
  signal?: AbortSignal;
  /** Override the transport's retries (0 for a body that can be sent only once). */
  retries?: number;
}


const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)(?::\d+)?$/;
const FATAL_NET = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_SSL_WRONG_VERSION_NUMBER', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']);

/** Docker Hub's API lives on another name than the one in references. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

function netCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNet(code: string | undefined, e: unknown): string {
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'no such host';
    case 'ECONNRESET': return 'connection reset';
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': return 'timed out';
    default: {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      return cause ?? (e as Error).message;
    }
  }
}

type SendOnce<B> = (url: string, headers: Record<string, string>, body: RequestBody | undefined, agent: http.Agent) => Promise<HttpReply<B>>;

/** Copies of lent chunks, together (an error body, a small document). */
async function collect(body: LentChunks, what: string, limit = Infinity): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) { body.cancel(); throw new SbxError('invalid_argument', `${what}: answer larger than ${limit} bytes`); }
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts, n);
}

function retryAfter(headers: HttpReply<unknown>['headers']): number | undefined {
  const h = headers.get('retry-after');
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return secs * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : at - Date.now();
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
});

export class Transport {
  readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly agents = new Map<string, http.Agent>();

  constructor(readonly registry: string, private readonly opts: TransportOptions) {
    const host = apiHost(registry);
    const plain = LOOPBACK.test(host) || (opts.insecure ?? []).includes(registry);
    this.base = `${plain ? 'http' : 'https'}://${host}`;
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 250;
  }

  url(path: string): string {
    return new URL(path, this.base).toString();
  }

  /**
   * One request with auth and retries; any HTTP status comes back (callers judge 4xx). A GET or
   * HEAD follows redirects (blob storage elsewhere), sending credentials only to the registry.
   */
  request(spec: RequestSpec): Promise<HttpReply> {
    return this.exchange(spec, (url, headers, body, agent) => nodeRequest(url, spec.method, headers, body, spec.signal, agent));
  }

  /**
   * A GET whose body comes as lent chunks read straight into recycled buffers (lending-get.ts),
   * for blobs: same auth, retries and redirects as request(). An answer that reader cannot frame
   * is asked for again through node:http (its chunks are then the stream's own).
   */
  download(spec: Omit<RequestSpec, 'method' | 'body'>): Promise<HttpReply<LentChunks>> {
    const signal = spec.signal;
    return this.exchange({ ...spec, method: 'GET' }, async (url, headers, _body, agent) => {
      const r = await lendingGet(new URL(url), headers, signal ? { signal } : {});
      if (r) {
        return {
          status: r.status, ok: r.status >= 200 && r.status < 300, headers: r.headers, body: r.body, discard: r.discard,
          bytes: (limit) => collect(r.body, `GET ${url}`, limit),
          text: async () => (await collect(r.body, `GET ${url}`)).toString('utf8'),
          json: async () => JSON.parse((await collect(r.body, `GET ${url}`)).toString('utf8')) as unknown,
        };
      }
      const n = await nodeRequest(url, 'GET', headers, undefined, signal, agent);
      return { ...n, body: lendStream(n.body) };
    });
  }

  private async exchange<B>(spec: RequestSpec, sendOnce: SendOnce<B>): Promise<HttpReply<B>> {
    let authTried = false;
    const retries = spec.retries ?? this.retries;
    let authorization = await this.opts.auth.header(this.registry, spec.scope);
    for (let attempt = 0; ; attempt++) {
      spec.signal?.throwIfAborted();
      const headers: Record<string, string> = { ...spec.headers };
      if (authorization) headers.authorization = authorization;
      let res: HttpReply<B>;
      try {
        res = await this.send(spec, headers, sendOnce);
      } catch (e) {
        // The body's own failure (a local blob that no longer verifies) is not the network's.
        if (e instanceof SbxError && e.code !== 'unavailable') throw e;
        if (spec.signal?.aborted) throw new SbxError('cancelled', `${spec.method} ${this.registry}: cancelled`, { cause: e });
        const code = netCode(e);
        if (FATAL_NET.has(code ?? '') || attempt >= retries) {
          throw new SbxError('unavailable', `cannot reach registry ${this.registry}: ${describeNet(code, e)}`, { cause: e });
        }
        await sleep(this.backoffMs * 2 ** attempt, spec.signal);
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        const challenge = res.headers.get('www-authenticate');
        await res.discard();
        const next = await this.opts.auth.challenge(this.registry, spec.scope, challenge, spec.signal);
        if (next) { authorization = next; attempt--; continue; }
        throw this.refused(spec);
      }
      if (res.status === 401) { await res.discard(); throw this.refused(spec); }
      if ((res.status === 429 || res.status >= 500) && attempt < retries) {
        const wait = Math.min(30_000, Math.max(0, retryAfter(res.headers) ?? this.backoffMs * 2 ** attempt));
        await res.discard();
        await sleep(wait, spec.signal);
        continue;
      }
      return res;
    }
  }

  private async send<B>(spec: RequestSpec, headers: Record<string, string>, sendOnce: SendOnce<B>): Promise<HttpReply<B>> {
    const body = spec.body ? await spec.body() : undefined;
    let url = this.url(spec.path);
    for (let hops = 0; ; hops++) {
      const reply = await sendOnce(url, headers, body, this.agent(url));
      const location = reply.headers.get('location');
      if ((spec.method !== 'GET' && spec.method !== 'HEAD') || reply.status < 300 || reply.status > 399 || !location || hops >= 5) return reply;
      await reply.discard();
      const next = new URL(location, url);
      if (next.host !== new URL(url).host) delete headers.authorization;
      url = next.toString();
    }
  }

  private agent(url: string): http.Agent {
    const tls = url.startsWith('https:');
    let a = this.agents.get(tls ? 'https' : 'http');
    if (!a) {
      // node:https and node:tls load with the first TLS registry: ~0.5 MiB an idle sbxd need not hold
      a = tls ? new (process.getBuiltinModule('node:https')).Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
      this.agents.set(tls ? 'https' : 'http', a);
    }
    return a;
  }

  private refused(spec: RequestSpec): SbxError {
    return new SbxError('unauthorized', `registry ${this.registry} refused ${spec.method} ${spec.scope.replace(/^repository:/, '')}: authentication required (run "sbx login ${this.registry}")`);
  }

  /** A registry error body's first message, for error text. */
  static async explain(res: HttpReply<unknown>): Promise<string> {
    const text = await res.text().catch(() => '');
    try {
      const e = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
      if (e) return `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`.replace(/^: /, '');
    } catch { /* not JSON */ }
    return `HTTP ${res.status}${text ? ` ${text.slice(0, 120).trim()}` : ''}`;
  }
}

/** One HTTP exchange on node:http(s); resolves at the response head. */
function nodeRequest(url: string, method: string, headers: Record<string, string>, body: RequestBody | undefined,
  signal: AbortSignal | undefined, agent: http.Agent): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? process.getBuiltinModule('node:https') : http;
    const h = body instanceof Uint8Array ? { 'content-length': String(body.length), ...headers } : headers;
    const req = mod.request(url, { method, headers: h, agent, ...(signal ? { signal } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      const bytes = async (limit = Infinity): Promise<Buffer> => {
        const parts: Buffer[] = [];
        let n = 0;
        for await (const c of res as AsyncIterable<Buffer>) {
          n += c.length;
          if (n > limit) { res.destroy(); throw new SbxError('invalid_argument', `${method} ${url}: answer larger than ${limit} bytes`); }
          parts.push(c);
        }
        return Buffer.concat(parts, n);
      };
      resolve({
        status, ok: status >= 200 && status < 300, body: res, bytes,
        headers: {
          get(name) {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        },
        discard: () => new Promise<void>((done) => {
          if (res.readableEnded || res.destroyed) { done(); return; }
          res.once('end', done).once('error', () => done()).once('close', done).resume();
        }),
        text: async () => (await bytes()).toString('utf8'),
        json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
      });
    });
    req.once('error', reject);
    if (body === undefined) req.end();
    else if (body instanceof Uint8Array) req.end(body);
    else if (isLent(body)) sendLent(req, body).then(() => req.end(), (e: Error) => { body.cancel(e); req.destroy(e); reject(e); });
    // A failing body stream fails the request with its own error.
    else pipeline(body, req, (e) => { if (e) { req.destroy(e); reject(e); } });
  });
}

/** Lent chunks as a request body: each is written and taken by the socket before the next is asked for. */
async function sendLent(req: http.ClientRequest, body: LentChunks): Promise<void> {
  for await (const c of body) {
    await new Promise<void>((resolve, reject) => {
      const closed = (): void => reject(Object.assign(new Error('connection closed while sending'), { code: 'ECONNRESET' }));
      req.once('close', closed);
      req.write(c, (e) => { req.off('close', closed); if (e) reject(e); else resolve(); });
    });
  }
}
