/**
 * The UI listener (`sbx ui`, `sbxd --ui ADDR`): the page's static files, its login, and the API
 * behind a browser session (protocol/ui.ts tells the whole exchange). It owns no route of the API:
 * it authorizes a request, then hands it to the backend (the API server) as the unix socket would.
 *
 * Order of checks, so nothing reaches the API unauthorized:
 * - a WebSocket upgrade: the page's own Origin (403 otherwise, before anything else), then a
 *   single-use ticket for that exact path (401), then the backend's channel;
 * - POST /ui/login: own Origin, then a one-time login token → the session cookie;
 * - /v1/...: the session cookie (401), and own Origin on anything but GET/HEAD (403);
 * - anything else: the static page, which holds no secret.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  HTTP_STATUS, SbxError, UI_AUTH_PROTOCOL_PREFIX, UI_DEFAULT_ADDR, UI_SESSION_COOKIE, Ui,
  type UiStartRequest, type UiStartResponse,
} from '../../protocol/index.js';
import type { Logger } from '../util/log.js';
import { TICKET_TTL_S, UiAuth } from './auth.js';
import { SECURITY_HEADERS, serveStatic } from './static.js';

/** The API, as the listener hands it authorized traffic. */
export interface UiBackend {
  /** Answer a request (404 when no route matches). */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Upgrade a WebSocket to its channel (404 when none matches). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface UiDeps {
  backend: UiBackend;
  log: Logger;
  /** The built page (dist/ui). */
  staticDir: string;
}

interface Listening { addr: string; tls: boolean; server: Server; url: string }

export class UiServer {
  readonly auth = new UiAuth();
  private listening: Listening | undefined;

  constructor(private readonly deps: UiDeps) {}

  /** Listen (once; a second call must name the same address) and mint a login token. */
  async start(req: UiStartRequest): Promise<UiStartResponse> {
    const addr = req.addr ?? UI_DEFAULT_ADDR;
    if (this.listening && this.listening.addr !== addr) {
      throw new SbxError('conflict', `the UI already listens on ${this.listening.addr}; stop sbxd to move it`);
    }
    this.listening ??= await this.listen(addr, req);
    return { url: this.listening.url, token: this.auth.loginToken() };
  }

  async close(): Promise<void> {
    const l = this.listening;
    this.listening = undefined;
    if (l) await new Promise<void>((r) => { l.server.close(() => r()); l.server.closeAllConnections(); });
  }

  private async listen(addr: string, req: UiStartRequest): Promise<Listening> {
    const { host, port } = splitAddr(addr);
    if (!!req.tlsCert !== !!req.tlsKey) throw new SbxError('invalid_argument', '--tls-cert and --tls-key go together');
    const tls = !!req.tlsCert;
    if (!tls && !isLoopback(host) && !req.insecure) {
      throw new SbxError('invalid_argument', `the UI on ${addr} would be reachable from other machines: give --tls-cert and --tls-key, or --insecure to serve it over plain HTTP`);
    }
    const handle = (q: IncomingMessage, s: ServerResponse): void => { this.onRequest(q, s, tls).catch((e: unknown) => this.fail(s, e)); };
    const server = tls ? process.getBuiltinModule('node:https').createServer(await tlsFiles(req.tlsCert!, req.tlsKey!), handle) : createHttp(handle);
    server.on('upgrade', (q: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(q, socket, head, tls));
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
    server.on('error', (e) => this.deps.log.warn('ui listener', { error: String(e) }));
    const bound = (server.address() as { port: number }).port;
    const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}/`;
    this.deps.log.info('ui listening', { url });
    return { addr, tls, server, url };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse, tls: boolean): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://ui');
    const origin = req.headers.origin;
    const own = origin !== undefined && this.ownOrigin(origin, req);
    const safe = req.method === 'GET' || req.method === 'HEAD';
    if (origin !== undefined && !own) return reply(res, new SbxError('unauthorized', `origin ${origin.slice(0, 100)}: refused, only the page's own origin may call`), 403);
    if (pathname === Ui.login.path) {
      if (req.method !== 'POST' || !own) return reply(res, new SbxError('unauthorized', 'login: only the page may log in'), 403);
      const { token } = await readJson(req);
      const session = typeof token === 'string' ? this.auth.login(token) : undefined;
      if (!session) return reply(res, new SbxError('unauthorized', 'login: the token is unknown, used or expired; run `sbx ui` for a new one'));
      const cookie = `${UI_SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/${tls ? '; Secure' : ''}`;
      res.writeHead(204, { ...SECURITY_HEADERS, 'set-cookie': cookie }).end();
      return;
    }
    if (!pathname.startsWith('/v1/')) return serveStatic(this.deps.staticDir, req, res);
    if (!this.auth.hasSession(req.headers.cookie, UI_SESSION_COOKIE)) return reply(res, new SbxError('unauthorized', 'not logged in: open the URL `sbx ui` prints'));
    if (!safe && !own) return reply(res, new SbxError('unauthorized', 'a request that changes state needs the page\'s own Origin'), 403);
    if (pathname === Ui.start.path) return reply(res, new SbxError('unauthorized', 'the page cannot start listeners or mint tokens'), 403);
    if (pathname === Ui.ticket.path && req.method === 'POST') {
      const { path } = await readJson(req);
      if (typeof path !== 'string' || !path.startsWith('/v1/')) return reply(res, new SbxError('invalid_argument', 'ticket: path must be an API path'));
      const body = JSON.stringify({ ticket: this.auth.ticket(path), expiresIn: TICKET_TTL_S });
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
      return;
    }
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    this.deps.backend.request(req, res);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, _tls: boolean): void {
    const origin = req.headers.origin;
    if (origin === undefined || !this.ownOrigin(origin, req)) {
      return refuse(socket, 403, new SbxError('unauthorized', `WebSocket from origin ${String(origin).slice(0, 100)}: refused, only the page's own origin may open one`));
    }
    const { pathname } = new URL(req.url ?? '/', 'http://ui');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const ticket = offered.find((p) => p.startsWith(UI_AUTH_PROTOCOL_PREFIX))?.slice(UI_AUTH_PROTOCOL_PREFIX.length);
    if (!ticket || !this.auth.redeem(ticket, pathname)) {
      return refuse(socket, 401, new SbxError('unauthorized', 'WebSocket: a ticket for this path is required (POST /v1/ui/tickets)'));
    }
    this.deps.backend.upgrade(req, socket, head);
  }

  /**
   * The page's own origin: scheme://host:port of this listener as configured or as the connection
   * came in (its local address, never the Host header, which DNS rebinding controls), and
   * localhost:PORT on loopback.
   */
  private ownOrigin(origin: string, req: IncomingMessage): boolean {
    const l = this.listening;
    if (!l) return false;
    let got: string;
    try { got = new URL(origin).origin; } catch { return false; }
    const scheme = l.tls ? 'https' : 'http';
    const port = req.socket.localPort ?? 0;
    const ip = (req.socket.localAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
    const hosts = [`${ip.includes(':') ? `[${ip}]` : ip}:${port}`, new URL(l.url).host];
    if (isLoopback(ip)) hosts.push(`localhost:${port}`);
    return hosts.some((h) => { try { return new URL(`${scheme}://${h}`).origin === got; } catch { return false; } });
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof SbxError) { reply(res, e); return; }
    this.deps.log.error('ui request failed', { error: e instanceof Error ? e.message : String(e) });
    if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS).end();
    else res.destroy();
  }
}

function reply(res: ServerResponse, e: SbxError, status: number = HTTP_STATUS[e.code]): void {
  const body = JSON.stringify(e.toBody());
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

function refuse(socket: Duplex, status: 401 | 403, e: SbxError): void {
  const body = JSON.stringify(e.toBody());
  const text = status === 403 ? 'Forbidden' : 'Unauthorized';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const c of req as AsyncIterable<Buffer>) {
    text += c.toString('utf8');
    if (text.length > 64 * 1024) throw new SbxError('invalid_argument', 'request body: too large');
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* below */ }
  throw new SbxError('invalid_argument', 'request body: expected a JSON object');
}

/** The PEM pair, checked now: a bad file is the user's error, said before anything listens. */
async function tlsFiles(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (flag: string, f: string): Promise<Buffer> => readFile(f).catch((e: NodeJS.ErrnoException) => {
    throw new SbxError('invalid_argument', `${flag} ${f}: cannot read it (${e.code ?? e.message})`);
  });
  const pair = { cert: await read('--tls-cert', certFile), key: await read('--tls-key', keyFile) };
  try { process.getBuiltinModule('node:tls').createSecureContext(pair); } catch (e) {
    throw new SbxError('invalid_argument', `--tls-cert ${certFile} --tls-key ${keyFile}: not a PEM certificate and its key (${(e as Error).message})`);
  }
  return pair;
}

function splitAddr(addr: string): { host: string; port: number } {
  const idx = addr.lastIndexOf(':');
  const host = addr.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(idx + 1));
  if (idx <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new SbxError('invalid_argument', `--addr ${addr}: expected HOST:PORT`);
  return { host, port };
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach them. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const v = isIP(host);
  if (v === 4) return host.startsWith('127.');
  if (v === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}
