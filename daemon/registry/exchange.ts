/**
 * One HTTP request and its answer, for the embedded registry's handlers, on bare node:http (the
 * same stack as the /v1 API).
 *
 * A handler sets `status`, headers and `body`; `respond()` then writes them. The rules are the
 * ones registry clients have always seen from this server (it ran on koa before):
 * - a JSON value is sent as `application/json; charset=utf-8`, a string as `text/plain` and a
 *   Buffer as `application/octet-stream`, unless the handler set a Content-Type; the length is
 *   taken from the body when it is set (a Content-Length set afterwards wins);
 * - no body on a status that may have one: the status text is the body (`201 Created`);
 * - 204/205/304 carry no body and no Content-Type/Content-Length;
 * - HEAD answers with the headers only.
 * A handler that streams the body itself (a blob GET) calls `detach()` and writes to `res`.
 */
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeader, type ServerResponse } from 'node:http';
import { parse, type ParsedUrlQuery } from 'node:querystring';

const EMPTY = new Set([204, 205, 304]);

/** "application/json" → with its charset, as text types are sent. */
function withCharset(type: string): string {
  return /^(text\/[\w.+-]+|application\/json)$/i.test(type) ? `${type}; charset=utf-8` : type;
}

export class Exchange {
  readonly method: string;
  /** The raw path, without the query: "/v2/me/app/blobs/sha256:…". */
  readonly path: string;
  readonly query: ParsedUrlQuery;
  status = 404;
  private payload: Buffer | string | object | undefined;
  private detached = false;
  private readonly headers = new Map<string, [name: string, value: OutgoingHttpHeader]>();

  constructor(readonly req: IncomingMessage, readonly res: ServerResponse) {
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const end = url.search(/[?#]/);
    this.path = end < 0 ? url : url.slice(0, end);
    const q = url.indexOf('?');
    this.query = q < 0 ? {} : parse(url.slice(q + 1).split('#')[0]!);
  }

  /** A request header, '' when absent. */
  get(name: string): string {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v ?? '';
  }

  set(name: string, value: string | number): void {
    this.headers.set(name.toLowerCase(), [name, String(value)]);
  }

  remove(name: string): void {
    this.headers.delete(name.toLowerCase());
  }

  private has(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }

  set type(type: string) { this.set('Content-Type', withCharset(type)); }
  set length(n: number) { this.set('Content-Length', n); }

  get body(): Buffer | string | object | undefined { return this.payload; }
  set body(v: Buffer | string | object) {
    this.payload = v;
    if (typeof v === 'string') {
      if (!this.has('content-type')) this.type = 'text/plain';
      this.length = Buffer.byteLength(v);
    } else if (Buffer.isBuffer(v)) {
      if (!this.has('content-type')) this.type = 'application/octet-stream';
      this.length = v.length;
    } else {
      this.remove('Content-Length');
      if (!/\bjson\b/i.test(String(this.headers.get('content-type')?.[1] ?? ''))) this.type = 'application/json';
    }
  }

  /** Headers as set so far, written now: the handler sends the body itself. */
  detach(): ServerResponse {
    this.detached = true;
    this.writeHead();
    return this.res;
  }

  respond(): void {
    if (this.detached || this.res.headersSent || this.res.writableEnded || this.res.destroyed) return;
    let body = this.payload;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) body = JSON.stringify(body);
    if (EMPTY.has(this.status)) {
      for (const h of ['Content-Type', 'Content-Length', 'Transfer-Encoding']) this.remove(h);
      body = undefined;
    } else if (this.method === 'HEAD') {
      if (body !== undefined && !this.has('content-length')) this.length = Buffer.byteLength(body);
      body = undefined;
    } else if (body === undefined) {
      body = STATUS_CODES[this.status] ?? String(this.status);
      this.type = 'text/plain';
      this.length = Buffer.byteLength(body);
    } else if (!Buffer.isBuffer(this.payload) && typeof this.payload !== 'string') {
      this.length = Buffer.byteLength(body);
    }
    this.writeHead();
    if (body === undefined) this.res.end();
    else this.res.end(body);
  }

  private writeHead(): void {
    this.res.statusCode = this.status;
    for (const [name, value] of this.headers.values()) this.res.setHeader(name, value);
  }
}
