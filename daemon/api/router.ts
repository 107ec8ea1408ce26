/**
 * Binds protocol/ route descriptors to handlers and speaks the transport rules written in
 * protocol/api.ts: path params and query/JSON body in, JSON / stream / NDJSON progress out,
 * SbxError → HTTP_STATUS[code] + ErrorBody. `internal` errors and unknown thrown values reach the
 * client as a generic message with a log reference; the full text is logged under that reference.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  HTTP_STATUS, SbxError, checkRequest, matchPath, type ProgressEvent, type ProgressLine, type Route, type RouteReq, type RouteRes,
} from '../../protocol/index.js';
import type { Logger } from '../util/log.js';

const MAX_JSON_BODY = 4 * 1024 * 1024;

export interface HandlerContext {
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The raw request body ('upload' and 'upload-progress' routes). */
  body: Readable;
  /** Send a progress event ('progress' and 'upload-progress' routes; a no-op elsewhere). */
  emit(event: ProgressEvent): void;
  /** Set the response stream ('download' routes), with extra response headers if any. */
  download(stream: Readable, contentType?: string, headers?: Record<string, string>): void;
  headers: IncomingMessage['headers'];
}

export type Handler<R> = (req: RouteReq<R>, ctx: HandlerContext) => Promise<RouteRes<R>>;

interface Entry { route: Route<unknown, unknown>; handler: Handler<Route<unknown, unknown>> }

export class Router {
  private readonly entries: Entry[] = [];

  constructor(private readonly log: Logger) {}

  on<R extends Route<any, any>>(route: R, handler: Handler<R>): this {
    this.entries.push({ route, handler: handler as unknown as Handler<Route<unknown, unknown>> });
    return this;
  }

  /** Returns false when no route matches (the server answers 404). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://sbx');
    let found: { entry: Entry; params: Record<string, string> } | undefined;
    for (const entry of this.entries) {
      if (entry.route.method !== req.method) continue;
      const params = matchPath(entry.route.path, url.pathname);
      if (params) { found = { entry, params }; break; }
    }
    if (!found) return false;
    const { entry, params } = found;
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(new SbxError('cancelled', 'client went away')); });
    let streaming = false;
    let downloadStream: { stream: Readable; type: string; headers?: Record<string, string> } | undefined;
    const route = entry.route;
    try {
      const hasBody = (route.method === 'POST' || route.method === 'PUT') && route.kind !== 'upload' && route.kind !== 'upload-progress';
      const body = hasBody ? await readJsonBody(req) : undefined;
      let input: Record<string, unknown>;
      if (route.input) {
        // One check for every route, from its schema in protocol/: a bad field is a 400 naming it.
        try {
          input = checkRequest(route.input, { query: url.searchParams, ...(body ? { body } : {}), params }) as Record<string, unknown>;
        } catch (e) {
          throw e instanceof SbxError ? new SbxError(e.code, `${route.method} ${url.pathname}: ${e.message}`, { detail: e.detail }) : e;
        }
      } else {
        input = {};
        for (const [k, v] of url.searchParams) input[k] = decodeQueryValue(v);
        Object.assign(input, body, params);
      }
      const progress = route.kind === 'progress' || route.kind === 'upload-progress';
      if (progress) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        streaming = true;
      }
      const ctx: HandlerContext = {
        signal: ac.signal,
        body: req,
        headers: req.headers,
        emit: (ev) => { if (streaming && !res.writableEnded) res.write(JSON.stringify(ev) + '\n'); },
        download: (stream, type = 'application/octet-stream', headers) => { downloadStream = { stream, type, ...(headers ? { headers } : {}) }; },
      };
      const value = await entry.handler(input as never, ctx);
      if (progress) {
        const line: ProgressLine<unknown> = { type: 'result', value };
        res.end(JSON.stringify(line) + '\n');
      } else if (route.kind === 'download') {
        if (!downloadStream) throw new SbxError('internal', `${route.path}: handler set no download stream`);
        res.writeHead(200, { ...downloadStream.headers, 'content-type': downloadStream.type });
        streaming = true;
        await pipeline(downloadStream.stream, res);
      } else if (value === undefined) {
        res.writeHead(204).end();
      } else {
        const body = JSON.stringify(value);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }
    } catch (err) {
      const e = this.clientError(err, `${req.method} ${url.pathname}`);
      if (!streaming && !res.headersSent) {
        const body = JSON.stringify(e.toBody());
        res.writeHead(HTTP_STATUS[e.code], { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      } else if ((route.kind === 'progress' || route.kind === 'upload-progress') && !res.writableEnded) {
        const line: ProgressLine<unknown> = { type: 'error', error: e.toBody() };
        res.end(JSON.stringify(line) + '\n');
      } else {
        res.destroy(e);
      }
    }
    return true;
  }

  /**
   * A bug (an `internal` SbxError or anything else thrown) answers with a generic message and a
   * reference; the full text, which may name host paths, goes only to the daemon log. WebSocket
   * channels and streamed answers use it too.
   */
  clientError(err: unknown, what: string): SbxError {
    if (err instanceof SbxError && (err.code !== 'internal' || this.hidden.has(err))) return err;
    const ref = randomBytes(4).toString('hex');
    this.log.error('internal error', { what, ref, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    const hidden = new SbxError('internal', `${what}: internal error (see sbxd log, ref ${ref})`);
    this.hidden.add(hidden);
    return hidden;
  }

  /** Errors clientError already logged and replaced (a handler may pass one on). */
  private readonly hidden = new WeakSet<SbxError>();
}

/** A route without a schema (none in protocol/ today; test/api-validate checks): JSON-decoded query values. */
function decodeQueryValue(v: string): unknown {
  try { return JSON.parse(v); } catch { return v; }
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_JSON_BODY) throw new SbxError('invalid_argument', `request body: larger than ${MAX_JSON_BODY} bytes`);
    chunks.push(c);
  }
  if (n === 0) return {};
  let v: unknown;
  try { v = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) {
    throw new SbxError('invalid_argument', `request body: not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SbxError('invalid_argument', 'request body: expected a JSON object');
  return v as Record<string, unknown>;
}

