/**
 * HTTP to one registry, on the global fetch: scheme choice (plain HTTP only for loopback hosts or
 * those named insecure), the auth challenge (auth.ts), and retries with backoff for connection
 * resets, 5xx and 429 (honouring Retry-After). Request bodies are factories so that a retry can
 * send them again. Errors are SbxErrors that name the registry and say what to do.
 */
import { SbxError } from '../../protocol/index.js';
import type { Authenticator } from './auth.js';

export interface TransportOptions {
  auth: Authenticator;
  /** Hosts ("host:port") reached over plain HTTP besides loopback ones. */
  insecure?: string[];
  /** Retries after the first attempt for transient failures (default 4). */
  retries?: number;
  /** First backoff delay; doubles each retry (default 250 ms). */
  backoffMs?: number;
  fetch?: typeof fetch;
}

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path ("/v2/…") or an absolute URL (a Location header). */
  path: string;
  /** "repository:NAME:pull" or "…:pull,push" */
  scope: string;
  headers?: Record<string, string>;
  body?: () => BodyInit | Promise<BodyInit>;
  signal?: AbortSignal;
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

function retryAfter(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
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
  private readonly fetchFn: typeof fetch;

  constructor(readonly registry: string, private readonly opts: TransportOptions) {
    const host = apiHost(registry);
    const plain = LOOPBACK.test(host) || (opts.insecure ?? []).includes(registry);
    this.base = `${plain ? 'http' : 'https'}://${host}`;
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 250;
    this.fetchFn = opts.fetch ?? fetch;
  }

  url(path: string): string {
    return new URL(path, this.base).toString();
  }

  /** One request with auth and retries; any HTTP status comes back (callers judge 4xx). */
  async request(spec: RequestSpec): Promise<Response> {
    let authTried = false;
    let authorization = await this.opts.auth.header(this.registry, spec.scope);
    for (let attempt = 0; ; attempt++) {
      spec.signal?.throwIfAborted();
      const headers: Record<string, string> = { ...spec.headers };
      if (authorization) headers.authorization = authorization;
      const body = spec.body ? await spec.body() : undefined;
      let res: Response;
      try {
        res = await this.fetchFn(this.url(spec.path), {
          method: spec.method, headers, body, signal: spec.signal, redirect: 'follow',
          ...(body && typeof body === 'object' && Symbol.asyncIterator in body ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (e) {
        if (spec.signal?.aborted) throw new SbxError('cancelled', `${spec.method} ${this.registry}: cancelled`, { cause: e });
        const code = netCode(e);
        if (FATAL_NET.has(code ?? '') || attempt >= this.retries) {
          throw new SbxError('unavailable', `cannot reach registry ${this.registry}: ${describeNet(code, e)}`, { cause: e });
        }
        await sleep(this.backoffMs * 2 ** attempt, spec.signal);
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel();
        const next = await this.opts.auth.challenge(this.registry, spec.scope, challenge, spec.signal);
        if (next) { authorization = next; attempt--; continue; }
        throw this.refused(spec);
      }
      if (res.status === 401) { await res.body?.cancel(); throw this.refused(spec); }
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        const wait = Math.min(30_000, Math.max(0, retryAfter(res) ?? this.backoffMs * 2 ** attempt));
        await res.body?.cancel();
        await sleep(wait, spec.signal);
        continue;
      }
      return res;
    }
  }

  private refused(spec: RequestSpec): SbxError {
    return new SbxError('unauthorized', `registry ${this.registry} refused ${spec.method} ${spec.scope.replace(/^repository:/, '')}: authentication required (run "sbx login ${this.registry}")`);
  }

  /** A registry error body's first message, for error text. */
  static async explain(res: Response): Promise<string> {
    const text = await res.text().catch(() => '');
    try {
      const e = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
      if (e) return `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`.replace(/^: /, '');
    } catch { /* not JSON */ }
    return `HTTP ${res.status}${text ? ` ${text.slice(0, 120).trim()}` : ''}`;
  }
}
