/**
 * The Docker Engine API's transport: docker's paths (with or without a `/v1.NN` prefix), its
 * error body `{"message": ...}` with docker's status codes, JSON in and out. Handlers here call
 * the same domain services as the /v1 handlers; this file only speaks docker's HTTP.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SbxError, type ErrorCode } from '../../../protocol/index.js';

/** The newest API version sbxd answers as, and the oldest it accepts (docker's MinAPIVersion). */
export const DOCKER_API_VERSION = '1.41';
export const DOCKER_MIN_API_VERSION = '1.24';

/** docker's status for each error code: name taken and wrong state are 409 Conflict, as dockerd answers. */
const DOCKER_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 400, not_found: 404, already_exists: 409, failed_precondition: 409, conflict: 409,
  digest_mismatch: 400, unauthorized: 401, unavailable: 503, not_implemented: 501,
  cannot_execute: 400, command_not_found: 400, cancelled: 499, internal: 500,
};

/** A request as a docker handler sees it: path parameters, the query, the JSON body (POST only). */
export interface DockerReq {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
  /** The router's error mapping (logs an internal error), for a handler whose stream has begun. */
  fail: (err: unknown) => SbxError;
}

/**
 * What a handler returns: a JSON value (200, or `status`), nothing (204), or `handled` when it
 * wrote the response itself (streams).
 */
export type DockerAnswer = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'handled' | undefined;
export type DockerHandler = (r: DockerReq) => Promise<DockerAnswer>;

interface Entry { methods: string[]; parts: string[]; handler: DockerHandler; image?: string; raw?: boolean }

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;
const MAX_BODY = 4 * 1024 * 1024;

export class DockerRouter {
  private readonly entries: Entry[] = [];

  /**
   * `path` uses `:name` for a parameter, e.g. /containers/:id/start. `raw`: the handler reads the
   * request body itself (a tar: build context, docker load), it is not parsed as JSON.
   */
  on(method: string | string[], path: string, handler: DockerHandler, opts: { raw?: boolean } = {}): this {
    this.entries.push({ methods: Array.isArray(method) ? method : [method], parts: path.split('/'), handler, ...(opts.raw ? { raw: true } : {}) });
    return this;
  }

  /**
   * `/images/{name}/SUFFIX` (or `/images/{name}` for an empty suffix), where the name may hold
   * slashes (`127.0.0.1:5000/me/site:v1`); the handler gets the decoded name.
   */
  onImage(method: string, suffix: string, handler: (name: string, query: URLSearchParams, r: DockerReq) => Promise<DockerAnswer>): this {
    this.entries.push({ methods: [method], parts: [], image: suffix, handler: (r) => handler(r.params.name!, r.query, r) });
    return this;
  }

  /**
   * Answers the request when its path is docker's; false leaves it to the caller. A `/v1.NN/`
   * path is always docker's: an unknown one is docker's 404 `{"message":"page not found"}`.
   */
  async handle(req: IncomingMessage, res: ServerResponse, onError: (err: unknown, what: string) => SbxError): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://sbx');
    let path = url.pathname;
    const v = VERSIONED.exec(path);
    if (v) {
      if (compareVersions(v[1]!, DOCKER_MIN_API_VERSION) < 0) {
        sendError(res, 400, `client version ${v[1]} is too old. Minimum supported API version is ${DOCKER_MIN_API_VERSION}, please upgrade your client to a newer version`);
        return true;
      }
      path = v[2]!;
    }
    const found = this.match(req.method ?? 'GET', path);
    if (!found) {
      if (!v) return false;
      sendError(res, 404, 'page not found');
      return true;
    }
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    try {
      const body = req.method === 'POST' && !found.raw ? await readJson(req) : {};
      const answer = await found.entry.handler({ params: found.params, query: url.searchParams, body, req, res, signal: ac.signal, fail: (e) => onError(e, `${req.method} ${url.pathname}`) });
      if (answer === 'handled') return true;
      const headers = { 'api-version': DOCKER_API_VERSION, ...answer?.headers };
      if (answer?.json !== undefined) {
        const text = JSON.stringify(answer.json);
        res.writeHead(answer.status ?? 200, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      } else if (answer?.text !== undefined) {
        res.writeHead(answer.status ?? 200, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(answer.text) })
          .end(req.method === 'HEAD' ? undefined : answer.text);
      } else {
        res.writeHead(answer?.status ?? 204, headers).end();
      }
    } catch (err) {
      const e = onError(err, `${req.method} ${url.pathname}`);
      if (!res.headersSent) sendError(res, DOCKER_STATUS[e.code], e.message);
      else res.destroy();
    }
    return true;
  }

  private match(method: string, path: string): { entry: Entry; params: Record<string, string>; raw: boolean } | undefined {
    const parts = path.split('/');
    for (const entry of this.entries) {
      if (entry.image !== undefined) {
        const tail = entry.image ? `/${entry.image}` : '';
        if (!entry.methods.includes(method) || !path.startsWith('/images/') || !path.endsWith(tail)) continue;
        const name = decodeURIComponent(path.slice('/images/'.length, path.length - tail.length));
        if (name) return { entry, params: { name }, raw: entry.raw === true };
        continue;
      }
      if (!entry.methods.includes(method) || entry.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const want = entry.parts[i]!;
        if (want.startsWith(':')) { if (parts[i]) params[want.slice(1)] = decodeURIComponent(parts[i]!); else ok = false; }
        else ok = want === parts[i];
      }
      if (ok) return { entry, params, raw: entry.raw === true };
    }
    return undefined;
  }
}

/** docker's error body. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  const text = JSON.stringify({ message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'api-version': DOCKER_API_VERSION }).end(text);
}

function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number) as [number, number];
  const [b1, b2] = b.split('.').map(Number) as [number, number];
  return a1 - b1 || a2 - b2;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_BODY) throw new SbxError('invalid_argument', `request body: larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text || text === 'null') return {};
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new SbxError('invalid_argument', `request body: not valid JSON (${(e as Error).message})`); }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SbxError('invalid_argument', 'request body: expected a JSON object');
  return v as Record<string, unknown>;
}

/** docker's boolean query values: 1/true/True; absent or 0/false is false. */
export function qbool(q: URLSearchParams, k: string): boolean {
  const v = q.get(k);
  return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** docker's error answer on a raw (not yet upgraded) connection, which it then closes. */
export function sendRawError(socket: Duplex, e: SbxError): void {
  const status = DOCKER_STATUS[e.code];
  const text = JSON.stringify({ message: e.message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nApi-Version: ${DOCKER_API_VERSION}\r\nConnection: close\r\n\r\n${text}`);
}
